#include "ocpp/redis/url.hpp"

#include <charconv>

#include "http/text.hpp"

namespace ocpp::redis {
namespace {

template <class Int>
bool parse_number(std::string_view s, Int& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Url parse_url(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.size() > 8 && detail::iequals(text.substr(0, 8), "redis://")) {
    rest = text.substr(8);
  } else if (text.size() > 9 && detail::iequals(text.substr(0, 9), "rediss://")) {
    url.tls = true;
    rest = text.substr(9);
  } else {
    throw UrlError("a Redis URL starts with redis:// or rediss://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) throw UrlError("a Redis URL takes no query or fragment");

  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (!path.empty() && (!parse_number(path, url.db) || url.db < 0))
    throw UrlError("the path of a Redis URL is the database number");

  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) throw UrlError("Redis URL credentials are [user]:password");
    url.user = detail::percent_decode(userinfo.substr(0, colon));
    url.password = detail::percent_decode(userinfo.substr(colon + 1));
    authority = authority.substr(at + 1);
  }

  std::string_view port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw UrlError("unclosed '[' in a Redis URL's host");
    url.host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) throw UrlError("bad text after a Redis URL's IPv6 host");
    if (!after.empty()) port = after.substr(1);
  } else {
    const auto colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) throw UrlError("a Redis URL needs a host");
  if (port.data() && (!parse_number(port, url.port) || url.port == 0))  // "host:" alone is bad too
    throw UrlError("bad port in a Redis URL");
  return url;
}

}  // namespace ocpp::redis
