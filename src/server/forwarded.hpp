#pragma once
// Who the station is behind a load balancer: Forwarded (RFC 7239), X-Forwarded-For and
// X-Forwarded-Proto, believed only from ServerOptions::trusted_proxies. IO-free.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/trusted_proxies.hpp"

namespace ocpp::detail {

// One proxy's report of the connection it received.
struct ForwardedHop {
  // for=: the address it received from (brackets and port removed, IPv4-mapped unmapped); empty for
  // "unknown", an obfuscated node or anything that is no address.
  std::string address;
  std::optional<bool> secure;  // proto=: https or wss (true), http or ws (false); else unknown
};

// A Forwarded value (several header lines joined with ","): its elements left (client side) to
// right; nullopt when malformed (an unterminated quote, a pair without "=", for= or proto= twice
// in one element, a bracket without its end). Empty list elements are skipped, as RFC 9110 asks.
std::optional<std::vector<ForwardedHop>> parse_forwarded(std::string_view value);

// X-Forwarded-For's comma list, left to right. X-Forwarded-Proto goes with it item by item when
// both have as many items; otherwise its last item describes the last hop (the proxy next to us
// overwrote it).
std::vector<ForwardedHop> parse_x_forwarded(std::string_view for_list, std::string_view proto_list);

struct Origin {
  std::string address;
  bool secure = false;  // TLS between the station and us, or the first trusted proxy
};

// The standard walk: starting from `peer`, while the address at hand is a trusted proxy, step to
// the address it reports (right to left); the first one that is not trusted is the client. So a
// station cannot spoof by prepending: its own items are left of the first untrusted one. An item
// that is no address ends the walk at the proxy that reported it.
Origin resolve_origin(const TrustedProxies& trusted, const std::vector<ForwardedHop>& hops, Origin peer);

// The same from the request's headers: Forwarded when present, else X-Forwarded-For/-Proto; the
// headers are ignored unless `peer` is trusted. A malformed Forwarded leaves `peer` as it is and
// says why in `problem`.
Origin client_origin(const TrustedProxies& trusted, Origin peer,
                     const std::vector<std::pair<std::string, std::string>>& headers, std::string* problem = nullptr);

}  // namespace ocpp::detail
