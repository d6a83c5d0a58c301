#include "ocpp/client/url.hpp"

#include "http/text.hpp"

#include <algorithm>

namespace ocpp {

std::optional<WsUrl> parse_ws_url(std::string_view url) {
  WsUrl u;
  if (url.starts_with("ws://")) {
    url.remove_prefix(5);
  } else if (url.starts_with("wss://")) {
    u.secure = true;
    url.remove_prefix(6);
  } else {
    return std::nullopt;
  }
  const auto authority_end = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, authority_end);
  std::string_view rest = authority_end == std::string_view::npos ? std::string_view{} : url.substr(authority_end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return std::nullopt;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return std::nullopt;
      u.port = std::string(authority.substr(1));
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
  }
  if (u.host.empty()) return std::nullopt;
  if (u.port.empty()) u.port = u.secure ? "443" : "80";
  if (!std::all_of(u.port.begin(), u.port.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto q = rest.find('?');
  u.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) u.query = std::string(rest.substr(q + 1));
  if (u.path.empty()) u.path = "/";
  return u;
}

std::string build_target(const WsUrl& endpoint, std::string_view identity,
                         const std::vector<std::pair<std::string, std::string>>& query) {
  std::string target = endpoint.path;
  if (target.empty() || target.back() != '/') target.push_back('/');
  target += detail::percent_encode(identity);
  std::string q = endpoint.query;
  for (const auto& [k, v] : query) {
    if (!q.empty()) q.push_back('&');
    q += detail::percent_encode(k) + "=" + detail::percent_encode(v);
  }
  if (!q.empty()) target += "?" + q;
  return target;
}

}  // namespace ocpp
