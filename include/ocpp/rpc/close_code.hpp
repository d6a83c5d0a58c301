#pragma once
/// @file
/// WebSocket close codes the library uses, and which a peer may send. IO-free.
#include <cstdint>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

namespace close_code {
inline constexpr std::uint16_t normal = 1000;  ///< normal closure
inline constexpr std::uint16_t going_away = 1001;  ///< the endpoint is going away (server shutdown)
inline constexpr std::uint16_t protocol_error = 1002;  ///< protocol error (e.g. too many bad messages)
inline constexpr std::uint16_t abnormal = 1006;  ///< never sent: the connection dropped
inline constexpr std::uint16_t policy_violation = 1008;  ///< policy violation (rate limit, misbehaving peer)
inline constexpr std::uint16_t too_big = 1009;  ///< message too big
inline constexpr std::uint16_t internal_error = 1011;  ///< internal error
inline constexpr std::uint16_t service_restart = 1012;  ///< reconnect (elsewhere): e.g. a fenced cluster node
inline constexpr std::uint16_t try_again_later = 1013;  ///< try again later (send queue overflow)
inline constexpr std::uint16_t evicted = 4000;  ///< a newer connection with the same identity
}  // namespace close_code

/// Codes a peer may send in a close frame (RFC 6455 §7.4); anything else is sent as 1000.
constexpr bool is_sendable_close_code(std::uint16_t code) noexcept {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

}  // namespace ocpp
OCPP_API_END
