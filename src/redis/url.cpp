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

Endpoint parse_endpoint(std::string_view authority, std::uint16_t default_port) {
  Endpoint e{{}, default_port};
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw UrlError("unclosed '[' in a Redis URL's host");
    e.host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) throw UrlError("bad text after a Redis URL's IPv6 host");
    if (!after.empty()) port = after.substr(1);
  } else {
    const auto colon = authority.rfind(':');
    e.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (e.host.empty()) throw UrlError("a Redis URL needs a host");
  if (port.data() && (!parse_number(port, e.port) || e.port == 0))  // "host:" alone is bad too
    throw UrlError("bad port in a Redis URL");
  return e;
}

namespace {

bool take_scheme(std::string_view& text, std::string_view scheme) {
  if (text.size() <= scheme.size() || !detail::iequals(text.substr(0, scheme.size()), scheme)) return false;
  text.remove_prefix(scheme.size());
  return true;
}

}  // namespace

Url parse_url(std::string_view text) {
  Url url;
  std::string_view rest = text;
  bool sentinel = false, cluster = false;
  if (take_scheme(rest, "redis://")) {
  } else if (take_scheme(rest, "rediss://")) {
    url.tls = true;
  } else if (take_scheme(rest, "redis-sentinel://")) {
    sentinel = true;
  } else if (take_scheme(rest, "rediss-sentinel://")) {
    sentinel = url.tls = true;
  } else if (take_scheme(rest, "redis-cluster://")) {
    cluster = true;
  } else if (take_scheme(rest, "rediss-cluster://")) {
    cluster = url.tls = true;
  } else {
    throw UrlError("a Redis URL starts with redis://, rediss://, redis-sentinel://, rediss-sentinel://, "
                   "redis-cluster:// or rediss-cluster://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) throw UrlError("a Redis URL takes no query or fragment");

  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (sentinel) {
    const auto end = path.find('/');
    url.master_name = detail::percent_decode(path.substr(0, end));
    if (url.master_name.empty()) throw UrlError("a Sentinel URL names the master: redis-sentinel://host/master-name");
    path = end == std::string_view::npos ? std::string_view() : path.substr(end + 1);
  }
  if (!path.empty() && (!parse_number(path, url.db) || url.db < 0))
    throw UrlError("the path of a Redis URL is the database number");
  if (cluster && url.db != 0) throw UrlError("a Redis Cluster has only database 0");

  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) throw UrlError("Redis URL credentials are [user]:password");
    url.user = detail::percent_decode(userinfo.substr(0, colon));
    url.password = detail::percent_decode(userinfo.substr(colon + 1));
    authority = authority.substr(at + 1);
  }

  if (!sentinel && !cluster) {
    auto e = parse_endpoint(authority, 6379);
    url.host = std::move(e.host);
    url.port = e.port;
    return url;
  }
  auto& list = sentinel ? url.sentinels : url.seeds;
  for (std::size_t start = 0;;) {
    const auto comma = authority.find(',', start);
    list.push_back(parse_endpoint(authority.substr(start, comma - start), sentinel ? 26379 : 6379));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return url;
}

std::string to_string(const Endpoint& e) {
  return (e.host.find(':') == std::string::npos ? e.host : "[" + e.host + "]") + ":" + std::to_string(e.port);
}

std::string server_url(const Url& url, const Endpoint& server) {
  std::string out = url.tls ? "rediss://" : "redis://";
  if (!url.password.empty())
    out += detail::percent_encode(url.user) + ":" + detail::percent_encode(url.password) + "@";
  out += to_string(server);
  if (url.db != 0) out += "/" + std::to_string(url.db);
  return out;
}

}  // namespace ocpp::redis
