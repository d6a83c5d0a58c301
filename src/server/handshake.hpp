#pragma once
// IO-free parts of the server's HTTP upgrade: identity from the path, subprotocol negotiation.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/text.hpp"

namespace ocpp::detail {

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
