#pragma once
/// @file
/// What a layer above one RPC session (the server's registry and metrics, later the cluster) learns
/// of it. Given when the session is made, so no layer needs a back door into the session, and the
/// user's own events stay free.
#include <functional>
#include <memory>
#include <string_view>

#include "ocpp/engine/gate.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

struct MessageEvent;
struct RateLimitEvent;
struct CloseResult;
struct SendQueueOverflowEvent;

/// The library's own observers of a session (the server's registry and metrics), beside the user's events.
struct SessionHooks {
  /// Every frame in or out, before the user's on_message.
  std::function<void(const MessageEvent&)> message;
  /// A peer's CALL went over the rate limit, after the user's event.
  std::function<void(const RateLimitEvent&)> rate_limited;
  /// The session is closed for good, before the user's close event.
  std::function<void(const CloseResult&)> finished;
  /// A user callback of the session threw (logged already); `event` names it ("on_message", ...).
  std::function<void(std::string_view event)> callback_error;
  /// The send queue overflowed and the connection is being closed, before the user's event.
  std::function<void(const SendQueueOverflowEvent&)> send_queue_overflow;
  /// When set, every user callback of the session (events, handlers, middleware, completions)
  /// passes it; once it is closed none runs (the server's destructor).
  std::shared_ptr<CallbackGate> gate;
};

}  // namespace ocpp
OCPP_API_END
