#pragma once
// IO-free parts of the server's HTTP upgrade: identity from the path, subprotocol negotiation.
// Internal: percent_decode and iequals are to move to a home shared with the client.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocpp::detail {

// ASCII case-insensitive equality (HTTP header names, auth schemes, route segments).
bool iequals(std::string_view a, std::string_view b) noexcept;

// Decodes %XX escapes; a malformed escape is kept as it is (never throws).
std::string percent_decode(std::string_view s);

struct RequestPath {
  std::string path;      // without the query, undecoded
  std::string identity;  // the last non-empty segment, percent-decoded; empty when there is none
  std::string query;     // without '?'
};
RequestPath parse_request_target(std::string_view target);

// Sec-WebSocket-Protocol as RFC 7230 tokens separated by commas; nullopt when malformed (empty
// items, duplicates, characters outside tchar). An absent header parses as an empty list.
std::optional<std::vector<std::string>> parse_subprotocols(std::string_view header);

// The first protocol in the server's preference order that the client offered; empty when none.
std::string negotiate_subprotocol(const std::vector<std::string>& server_preference,
                                  const std::vector<std::string>& offered);

}  // namespace ocpp::detail
