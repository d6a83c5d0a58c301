#pragma once
/// @file
/// Message middleware: every CALL, CALLRESULT and CALLERROR in and out passes through the
/// connection's middleware in the order they were added, before the library acts on it. A
/// middleware may look, change the frame, or veto; it may decide later, from any thread, and the
/// messages of each direction still keep their order (the next one waits).
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// Where in the exchange a message middleware sees a message.
enum class MessagePhase { incoming_call, outgoing_call, incoming_result, incoming_error, outgoing_result, outgoing_error };

namespace detail {
struct MessageStage;
}

/// One message at one step of the message middleware: next() lets it go on, reject() vetoes it.
/// A veto (reject) means:
///   incoming_call   the peer gets that CALLERROR (an ocpp2.1 SEND is dropped); the handler does not run
///   outgoing_call   the call fails locally with the error; nothing is sent
///   incoming_result / incoming_error   the call fails locally with the error
///   outgoing_result / outgoing_error   the peer gets that CALLERROR instead
class MessageContext {
 public:
  /// Made by the engine for one message at one middleware step.
  explicit MessageContext(std::shared_ptr<detail::MessageStage> stage, std::size_t step);
  MessageContext(const MessageContext&) = delete;
  MessageContext& operator=(const MessageContext&) = delete;
  /// Released without a decision: the message goes on.
  ~MessageContext();

  /// Which message this is: in or out, CALL, result or error.
  MessagePhase phase() const noexcept;
  /// The message: its payload (CALL params, CALLRESULT payload) and error fields may be changed.
  Frame& frame() noexcept;
  /// The action, for results and errors the one of the call they answer (empty when unknown).
  const std::string& action() const noexcept;
  /// The station identity of the connection.
  const std::string& identity() const noexcept;

  /// Lets the message go on to the next middleware; from any thread, once.
  void next();
  /// Vetoes the message with `error` (see the class comment); from any thread, once.
  void reject(RpcError error);

 private:
  bool decide() noexcept { return !decided_.exchange(true); }
  std::shared_ptr<detail::MessageStage> stage_;
  std::size_t step_;
  std::atomic<bool> decided_{false};
};

/// Message middleware (RpcSession::use): decides through the context, now or later.
using MessageMiddleware = std::function<void(std::shared_ptr<MessageContext>)>;

}  // namespace ocpp
OCPP_API_END
