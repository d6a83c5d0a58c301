#include "server/handshake.hpp"

#include "http/text.hpp"

#include <algorithm>

namespace ocpp::detail {

RequestPath parse_request_target(std::string_view target) {
  RequestPath r;
  const auto q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  std::string_view p = r.path;
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  const auto slash = p.rfind('/');
  r.identity = percent_decode(slash == std::string_view::npos ? p : p.substr(slash + 1));
  return r;
}

std::optional<std::vector<std::string>> parse_subprotocols(std::string_view header) {
  std::vector<std::string> out;
  if (trim_ows(header).empty()) return out;
  while (true) {
    const auto comma = header.find(',');
    std::string_view item = trim_ows(header.substr(0, comma));
    if (item.empty() || !std::all_of(item.begin(), item.end(), is_tchar)) return std::nullopt;
    if (std::find(out.begin(), out.end(), item) != out.end()) return std::nullopt;
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return out;
}

std::string negotiate_subprotocol(const std::vector<std::string>& server_preference,
                                  const std::vector<std::string>& offered) {
  for (const auto& p : server_preference)
    if (std::find(offered.begin(), offered.end(), p) != offered.end()) return p;
  return {};
}

}  // namespace ocpp::detail
