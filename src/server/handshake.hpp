#pragma once
// IO-free parts of the server's HTTP upgrade: identity from the path, subprotocol negotiation.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/text.hpp"

namespace ocpp::detail {

struct RequestPath {
  std::string path;      // without the query, undecoded
  std::string identity;  // the last segment, percent-decoded; empty after a trailing '/'
  std::string query;     // without '?'
};
RequestPath parse_request_target(std::string_view target);

// ServerOptions::max_identity_length and strict_identity, and whether the listener takes Basic Auth
// (whose user-id cannot hold a ':', RFC 7617 §2).
struct IdentityRule {
  std::size_t max_length = 48;  // 0: no bound
  bool strict = true;
  bool basic_auth = false;
};
// The 400 reason for a percent-decoded identity the rule refuses ("Missing identity in URL path",
// "Identity too long", "Invalid character in identity"); nullopt when it is admitted.
std::optional<std::string_view> identity_fault(std::string_view identity, const IdentityRule& rule);

// Sec-WebSocket-Protocol as RFC 7230 tokens separated by commas; nullopt when malformed (empty
// items, duplicates, characters outside tchar). An absent header parses as an empty list.
std::optional<std::vector<std::string>> parse_subprotocols(std::string_view header);

// The first protocol in the server's preference order that the client offered; empty when none.
std::string negotiate_subprotocol(const std::vector<std::string>& server_preference,
                                  const std::vector<std::string>& offered);

}  // namespace ocpp::detail
