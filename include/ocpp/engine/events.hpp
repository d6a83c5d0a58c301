#pragma once
// What one RPC peer reports as it works: every frame, bad input, rate limits, CALLRESULTERRORs,
// strict-mode failures, and how the connection ended. IO-free.
#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ocpp/engine/rate_limit.hpp"
#include "ocpp/engine/validation.hpp"
#include "ocpp/rpc/frame.hpp"

namespace ocpp {

enum class MessageDirection { in, out };

// Every frame in or out (the `message` event of ocpp-ws-io).
struct MessageEvent {
  MessageDirection direction;
  MessageType type;
  std::string_view message_id;
  std::string_view action;  // for results and errors: the action of the CALL they answer (if known)
  std::string_view raw;
  std::optional<double> latency_ms = std::nullopt;  // inbound results/errors of our own calls
  std::string_view error_code = {};                 // CALLERROR / CALLRESULTERROR
};

struct BadMessageEvent {
  std::string_view raw;
  std::string_view error;
  std::string_view reply;  // the CALLERROR sent in answer, empty when none
};

struct RateLimitEvent {
  std::string_view action;
  std::string_view message_id;
  LimitAction action_taken;
};

struct CallResultErrorEvent {  // an inbound ocpp2.1 CALLRESULTERROR
  std::string_view message_id;
  std::string_view code;
  std::string_view description;
  const boost::json::object& details;
};

struct CloseResult {
  std::uint16_t code = 1000;
  std::string reason;
};

// The user's events of one peer.
struct SessionEvents {
  std::function<void()> open;
  std::function<void(const CloseResult&)> close;
  std::function<void(const MessageEvent&)> message;
  std::function<void(const BadMessageEvent&)> bad_message;
  std::function<void(const CallResultErrorEvent&)> call_result_error;
  std::function<void()> pong_timeout;
  std::function<void(const ValidationFailureEvent&)> validation_failure;
  std::function<void(const RateLimitEvent&)> rate_limit;
};

}  // namespace ocpp
