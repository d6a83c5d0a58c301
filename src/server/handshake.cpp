#include "server/handshake.hpp"

#include "http/text.hpp"

#include <algorithm>

namespace ocpp::detail {

RequestPath parse_request_target(std::string_view target) {
  RequestPath r;
  const auto q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  // The last segment, even when empty: "/ocpp/" is a station configured with no identity, not
  // one called "ocpp". Empty segments before it ("/ocpp//CP1", a base URL ending in '/' joined with
  // another) leave the identity unambiguous, so they are not refused.
  const std::string_view p = r.path;
  const auto slash = p.rfind('/');
  r.identity = percent_decode(slash == std::string_view::npos ? p : p.substr(slash + 1));
  return r;
}

namespace {
bool is_identifier_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("*-_=:+|@.").find(static_cast<char>(c)) != std::string_view::npos;
}
// Relaxed: control characters would forge log lines and headers, and a '/' (from %2F) would make
// the identity a path in every URL and key built from it.
bool is_legacy_char(unsigned char c) { return c >= 0x20 && c != 0x7f && c != '/'; }
}  // namespace

std::optional<std::string_view> identity_fault(std::string_view identity, const IdentityRule& rule) {
  if (identity.empty()) return "Missing identity in URL path";
  if (rule.max_length && identity.size() > rule.max_length) return "Identity too long";
  const auto allowed = [&](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    if (!rule.strict) return is_legacy_char(c);
    return is_identifier_char(c) && !(rule.basic_auth && c == ':');
  };
  if (!std::all_of(identity.begin(), identity.end(), allowed)) return "Invalid character in identity";
  return std::nullopt;
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
