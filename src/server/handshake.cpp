#include "server/handshake.hpp"

#include "http/text.hpp"

#include <algorithm>

namespace ocpp::detail {
namespace {
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
}  // namespace

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
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  if (trim(header).empty()) return out;
  while (true) {
    const auto comma = header.find(',');
    std::string_view item = trim(header.substr(0, comma));
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
