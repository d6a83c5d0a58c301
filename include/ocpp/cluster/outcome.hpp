#pragma once
/// @file
/// How a call routed through the cluster ended. Every routed call ends by its deadline with exactly
/// one outcome; only unknown_outcome leaves the caller unsure whether the station got it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::cluster {

/// How a routed call ended.
enum class Outcome : std::uint8_t {
  result,           ///< the station's CALLRESULT
  call_error,       ///< the station's CALLERROR
  not_connected,    ///< no node holds the station (decided without a write; nothing waits)
  node_down,        ///< the node holding it is gone; the request was never delivered
  expired,          ///< its deadline passed before it could be sent to the station; not sent
  overloaded,       ///< the target node's inbox is over its bound; not enqueued
  unknown_outcome,  ///< handed to a node that then died or lost the station mid-call
  timeout,          ///< sent to the station, which did not answer by the deadline
  duplicate,        ///< a call with the same message id (idempotency key) to that station is in flight
  rejected,         ///< the target refused to send it as asked (e.g. the station speaks another protocol)
  unavailable,      ///< the cluster's store could not be reached; not enqueued
};

/// The number of Outcome values.
inline constexpr std::size_t kOutcomes = static_cast<std::size_t>(Outcome::unavailable) + 1;

/// The outcome's name ("result", "node_down", ...).
std::string_view to_string(Outcome outcome) noexcept;

/// A routed call that did not end with the station's result or CALLERROR (those arrive as the
/// result and as RpcError, as for a local call). A ConnectionError, so code written for a single
/// server's "not connected" keeps working.
class RouteError : public ConnectionError {
 public:
  /// A routed call that ended with `outcome`.
  RouteError(Outcome outcome, std::string message) : ConnectionError(std::move(message)), outcome_(outcome) {}
  /// How the routed call ended.
  Outcome outcome() const noexcept { return outcome_; }

 private:
  Outcome outcome_;
};

}  // namespace ocpp::cluster
OCPP_API_END
