#pragma once
/// @file
/// WebSocket URLs of the client: parsing ws:// and wss://, and the request target with the identity.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// A parsed ws:// or wss:// URL.
struct WsUrl {
  bool secure = false;  ///< wss://
  std::string host;     ///< without brackets for IPv6
  std::string port;     ///< defaulted from the scheme
  std::string path;     ///< starts with '/'
  std::string query;    ///< without '?'
};

/// ws:// or wss:// URLs; nullopt for anything else.
std::optional<WsUrl> parse_ws_url(std::string_view url);

/// The request target: the endpoint's path, a '/', the encoded identity, then the endpoint's query
/// followed by the extra query parameters.
std::string build_target(const WsUrl& endpoint, std::string_view identity,
                         const std::vector<std::pair<std::string, std::string>>& query = {});

}  // namespace ocpp
OCPP_API_END
