#include "server/forwarded.hpp"

#include <algorithm>
#include <utility>

#include "http/text.hpp"

namespace ocpp::detail {
namespace {

std::optional<bool> scheme_secure(std::string_view proto) {
  if (iequals(proto, "https") || iequals(proto, "wss")) return true;
  if (iequals(proto, "http") || iequals(proto, "ws")) return false;
  return std::nullopt;
}

bool valid_port(std::string_view port) {
  if (port.empty()) return false;
  if (port.front() == '_') return true;  // an obfuscated port (RFC 7239 6.3)
  return port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A node ("192.0.2.1", "192.0.2.1:80", "[2001:db8::1]:80", "unknown", "_hidden") as an address;
// empty when it is none. nullopt only for a bracket without its end.
std::optional<std::string> node_address(std::string_view node) {
  node = trim_ows(node);
  if (!node.empty() && node.front() == '[') {
    const auto close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const auto inside = node.substr(1, close - 1), rest = node.substr(close + 1);
    auto address = parse_ip(inside);  // IPv6 text only (unmapped afterwards)
    if (!address || inside.find(':') == std::string_view::npos ||
        (!rest.empty() && (rest.front() != ':' || !valid_port(rest.substr(1)))))
      return std::string();
    return address->to_string();
  }
  if (auto address = parse_ip(node)) return address->to_string();  // IPv4, or a bare IPv6 as some proxies send
  const auto colon = node.rfind(':');
  if (colon != std::string_view::npos && valid_port(node.substr(colon + 1)))
    if (auto address = parse_ip(node.substr(0, colon)); address && address->is_v4()) return address->to_string();
  return std::string();
}

std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> items;
  for (std::size_t start = 0;;) {
    const auto comma = s.find(',', start);
    if (auto item = trim_ows(s.substr(start, comma - start)); !item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) return items;
    start = comma + 1;
  }
}

// Splits on `sep` outside quoted strings; nullopt for an unterminated quote.
std::optional<std::vector<std::string_view>> split_outside_quotes(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  if (quoted) return std::nullopt;
  parts.push_back(s.substr(start));
  return parts;
}

// token / quoted-string, unescaped; nullopt when it is neither.
std::optional<std::string> pair_value(std::string_view v) {
  if (v.empty()) return std::nullopt;
  if (v.front() != '"') {
    // Lenient beyond RFC 7239's token: "192.0.2.1:80" unquoted is common.
    if (std::any_of(v.begin(), v.end(), [](char c) { return c == '"' || c < 0x21 || c == 0x7f; }))
      return std::nullopt;
    return std::string(v);
  }
  std::string out;
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out += v[++i];
    } else if (v[i] == '"') {
      if (i + 1 != v.size()) return std::nullopt;
      return out;
    } else {
      out += v[i];
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<ForwardedHop>> parse_forwarded(std::string_view value) {
  auto elements = split_outside_quotes(value, ',');
  if (!elements) return std::nullopt;
  std::vector<ForwardedHop> hops;
  for (auto element : *elements) {
    element = trim_ows(element);
    if (element.empty()) continue;
    auto pairs = split_outside_quotes(element, ';');
    ForwardedHop hop;
    bool any = false, seen_for = false, seen_proto = false;
    for (auto pair : *pairs) {
      pair = trim_ows(pair);
      if (pair.empty()) continue;  // "[ forwarded-pair ]" may be absent between semicolons
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) return std::nullopt;
      const auto name = pair.substr(0, eq);
      if (!std::all_of(name.begin(), name.end(), is_tchar)) return std::nullopt;
      any = true;
      auto v = pair_value(pair.substr(eq + 1));
      if (!v) return std::nullopt;
      // Twice in one element is malformed (RFC 7239 4); checked for the parameters we read, which
      // keeps a long element (its sender may be the station) linear.
      if (iequals(name, "for")) {
        if (std::exchange(seen_for, true)) return std::nullopt;
        auto address = node_address(*v);
        if (!address) return std::nullopt;
        hop.address = std::move(*address);
      } else if (iequals(name, "proto")) {
        if (std::exchange(seen_proto, true)) return std::nullopt;
        hop.secure = scheme_secure(*v);
      }
    }
    if (!any) continue;
    hops.push_back(std::move(hop));
  }
  return hops;
}

std::vector<ForwardedHop> parse_x_forwarded(std::string_view for_list, std::string_view proto_list) {
  std::vector<ForwardedHop> hops;
  for (auto item : split_list(for_list)) {
    auto address = node_address(item);
    hops.push_back({address ? std::move(*address) : std::string(), std::nullopt});
  }
  std::vector<std::optional<bool>> protos;
  for (auto item : split_list(proto_list)) protos.push_back(scheme_secure(item));
  if (protos.size() == hops.size()) {
    for (std::size_t i = 0; i < hops.size(); ++i) hops[i].secure = protos[i];
  } else if (!protos.empty() && !hops.empty()) {
    hops.back().secure = protos.back();
  }
  return hops;
}

Origin resolve_origin(const TrustedProxies& trusted, const std::vector<ForwardedHop>& hops, Origin peer) {
  for (auto hop = hops.rbegin(); hop != hops.rend() && trusted.contains(peer.address); ++hop) {
    if (hop->address.empty()) break;
    peer.address = hop->address;
    if (hop->secure) peer.secure = *hop->secure;
  }
  return peer;
}

Origin client_origin(const TrustedProxies& trusted, Origin peer,
                     const std::vector<std::pair<std::string, std::string>>& headers, std::string* problem) {
  if (!trusted.contains(peer.address)) return peer;
  std::string forwarded, xff, xfp;
  const auto join = [](std::string& to, std::string_view value) {
    if (!to.empty()) to += ',';
    to += value;
  };
  bool has_forwarded = false;
  for (const auto& [name, value] : headers) {
    if (iequals(name, "Forwarded")) {
      has_forwarded = true;
      join(forwarded, value);
    } else if (iequals(name, "X-Forwarded-For")) {
      join(xff, value);
    } else if (iequals(name, "X-Forwarded-Proto")) {
      join(xfp, value);
    }
  }
  if (has_forwarded) {
    auto hops = parse_forwarded(forwarded);
    if (hops) return resolve_origin(trusted, *hops, std::move(peer));
    if (problem) *problem = "malformed Forwarded header from trusted proxy " + peer.address + ": " + forwarded;
    return peer;
  }
  auto hops = parse_x_forwarded(xff, xfp);
  // A proxy that sends the scheme without the address (the address came by the PROXY protocol).
  if (auto protos = split_list(xfp); hops.empty() && !protos.empty())
    if (auto secure = scheme_secure(protos.back())) peer.secure = *secure;
  return resolve_origin(trusted, hops, std::move(peer));
}

}  // namespace ocpp::detail
