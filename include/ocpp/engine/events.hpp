#pragma once
/// @file
/// What one RPC peer reports as it works: every frame, bad input, rate limits, CALLRESULTERRORs,
/// strict-mode failures, and how the connection ended. IO-free.
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ocpp/engine/hooks.hpp"
#include "ocpp/engine/rate_limit.hpp"
#include "ocpp/engine/validation.hpp"
#include "ocpp/log/logger.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// Whether a frame was received or sent.
enum class MessageDirection { in, out };

/// Every frame in or out (the `message` event of ocpp-ws-io).
struct MessageEvent {
  MessageDirection direction;  ///< received or sent
  MessageType type;  ///< CALL, CALLRESULT, CALLERROR, ...
  std::string_view message_id;  ///< the frame's message id
  std::string_view action;  ///< for results and errors: the action of the CALL they answer (if known)
  std::string_view raw;  ///< the frame's text
  std::optional<double> latency_ms = std::nullopt;  ///< inbound results/errors of our own calls
  std::string_view error_code = {};                 ///< CALLERROR / CALLRESULTERROR
};

/// A frame from the peer that is not a valid RPC frame, or an answer to a message id that is not pending.
struct BadMessageEvent {
  std::string_view raw;  ///< the frame's text (empty for an answer to an id that is not pending)
  std::string_view error;  ///< what is wrong with it
  std::string_view reply;  ///< the CALLERROR sent in answer, empty when none
};

/// A peer's CALL over the rate limit (RpcSession::on_rate_limit_exceeded).
struct RateLimitEvent {
  std::string_view action;  ///< the CALL's action
  std::string_view message_id;  ///< the CALL's message id
  LimitAction action_taken;  ///< the configured RateLimitOptions action
  /// What becomes of the message. With LimitAction::callback the event sets it (drop unless it
  /// does; a callback that throws drops); otherwise it is fixed by action_taken and says so.
  RateLimitDecision decision = RateLimitDecision::drop;
};

/// An inbound ocpp2.1 CALLRESULTERROR.
struct CallResultErrorEvent {
  std::string_view message_id;  ///< the message id of the CALL it answers
  std::string_view code;  ///< the error code as sent
  std::string_view description;  ///< the error description
  const boost::json::object& details;  ///< the error details
};

/// A frame did not fit the connection's send queue (SessionOptions::max_send_queue_bytes); the
/// connection is being closed with `close_code`.
struct SendQueueOverflowEvent {
  std::size_t queued_bytes;  ///< handed to the connection and not yet written to its socket
  std::size_t frame_bytes;   ///< the frame that did not fit
  std::size_t limit;  ///< SessionOptions::max_send_queue_bytes
  std::uint16_t close_code;  ///< the code the connection is closed with
};

/// How a connection ended: the WebSocket close code and reason.
struct CloseResult {
  std::uint16_t code = 1000;  ///< the close code (1006: dropped without a close frame)
  std::string reason;  ///< the close reason
};

/// The user's events of one peer.
struct SessionEvents {
  std::function<void()> open;  ///< RpcSession::on_open
  std::function<void(const CloseResult&)> close;  ///< RpcSession::on_close
  std::function<void(const MessageEvent&)> message;  ///< RpcSession::on_message
  std::function<void(const BadMessageEvent&)> bad_message;  ///< RpcSession::on_bad_message
  std::function<void(const CallResultErrorEvent&)> call_result_error;  ///< RpcSession::on_call_result_error
  std::function<void()> pong_timeout;  ///< RpcSession::on_pong_timeout
  std::function<void(const ValidationFailureEvent&)> validation_failure;  ///< RpcSession::on_validation_failure
  std::function<void(RateLimitEvent&)> rate_limit;  ///< may set the event's decision
  std::function<void(const SendQueueOverflowEvent&)> send_queue_overflow;  ///< RpcSession::on_send_queue_overflow
};

/// Logs, at error, what escaped the user's callback for `event` ("on_close", ...).
void log_callback_error(Logger& logger, std::string_view identity, std::string_view event,
                        std::exception_ptr error) noexcept;

/// Runs the user's callback `f`, when set, so that what it throws stops here instead of unwinding
/// through the library into io_context::run (which would end the process): it is logged, and
/// false says so, for the caller to count. A try block costs nothing until something is thrown.
template <class F, class... Args>
bool invoke_event(Logger& logger, std::string_view identity, std::string_view event, const F& f,
                  Args&&... args) noexcept {
  if (!f) return true;
  try {
    f(std::forward<Args>(args)...);
    return true;
  } catch (...) {
    log_callback_error(logger, identity, event, std::current_exception());
    return false;
  }
}

/// invoke_event for one session's callbacks: a failure also goes to the layer above through
/// hooks.callback_error (the server counts it in /metrics). Nothing runs once hooks.gate is closed.
template <class F, class... Args>
bool invoke_event(const SessionHooks& hooks, Logger& logger, std::string_view identity, std::string_view event,
                  const F& f, Args&&... args) {
  if (!f) return true;
  CallbackGate::Scope scope(hooks.gate.get());
  if (!scope) return true;
  if (invoke_event(logger, identity, event, f, std::forward<Args>(args)...)) return true;
  if (hooks.callback_error) hooks.callback_error(event);
  return false;
}

}  // namespace ocpp
OCPP_API_END
