#pragma once
/// @file
/// The RPC rules of one OCPP-J peer, without IO: frames and commands go in, frames to write,
/// completions, events and the next deadline come out. The Asio session (RpcSession) and the
/// browser client are shells around it: they own the socket, the timer and the callbacks' threads.
/// Not thread-safe: the shell calls it from one thread (or one strand) only.
///
/// Errors are values at this boundary: a failed call completes with a Failure, a handler answers
/// with a Reply, and nothing here throws to its caller (user middleware that throws is caught).
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ocpp/engine/events.hpp"
#include "ocpp/engine/hooks.hpp"
#include "ocpp/engine/middleware.hpp"
#include "ocpp/engine/options.hpp"
#include "ocpp/engine/validation.hpp"
#include "ocpp/messages/common.hpp"
#include "ocpp/rpc/close_code.hpp"
#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// The engine's time: a point of the steady clock (or of SessionOptions::clock).
using TimePoint = std::chrono::steady_clock::time_point;

/// Which end of the connection a peer is. Typed calls check the action's direction against it.
enum class Role { unspecified, charging_station, csms };

/// Whether a peer of `role` may send an action that goes in `direction`.
constexpr bool may_send(Role role, Direction direction) noexcept {
  switch (role) {
    case Role::charging_station: return direction != Direction::ToChargingStation;
    case Role::csms: return direction != Direction::ToCsms;
    case Role::unspecified: return true;
  }
  return true;
}

/// What a typed call or send is bound to, checked before anything is sent.
struct CallTarget {
  std::string_view protocol;  ///< the protocol the connection must speak
  Direction direction;  ///< who may send the action
};

/// Why an outbound CALL or SEND did not succeed. The shell raises it as the library's typed exception.
enum class FailureKind {
  rpc_error,   ///< the peer's CALLERROR, or a middleware's veto: `rpc`
  validation,  ///< strict mode refused a payload: `validation`
  timeout,     ///< no answer within the call timeout
  connection,  ///< not open, closing, closed while pending, queue overflow: `close_code`
  usage,       ///< a typed call of the wrong direction or protocol
  invalid,      ///< a bad message id, a duplicate id
  unsupported,  ///< SEND without ocpp2.1
  cancelled,    ///< through the caller's cancellation
  send_queue_full,  ///< the connection's send queue is full (it is being closed): `close_code`
};

/// Why an outbound CALL or SEND failed, with what the shell needs to raise it.
struct Failure {
  FailureKind kind = FailureKind::invalid;  ///< which kind of failure
  std::string message;  ///< human-readable reason
  std::uint16_t close_code = 0;  ///< the close code, for connection and send_queue_full
  std::optional<RpcError> rpc{};  ///< the CALLERROR, for rpc_error
  std::optional<ValidationFailure> validation{};  ///< the schema failure, for validation
};

/// An outbound CALL. The shell derives from it to carry its completion; the engine owns it from
/// call() until it completes.
class OutboundCall {
 public:
  virtual ~OutboundCall() = default;
  /// Exactly once, with the CALLRESULT payload or a failure. `deferred`: this happens inside the
  /// call's own initiation, so the caller's completion must not run before that returns.
  virtual void complete(std::optional<Failure> failure, boost::json::value result, bool deferred) = 0;

  // Given by the caller.
  std::string action;  ///< the action name
  boost::json::value payload;  ///< released once serialised
  std::optional<std::chrono::milliseconds> timeout;  ///< unset: SessionOptions::call_timeout
  std::string id;                                   ///< empty: generated
  // Set by the engine.
  std::string_view protocol;  ///< a typed call's: the connection must speak it
  std::uint64_t serial = 0;  ///< identifies the call for RpcEngine::cancel()
  TimePoint deadline{};  ///< when the call times out
  TimePoint sent_at{};  ///< when the frame was written
};

/// An inbound CALL or SEND for the shell's handler, which may move the members out.
struct InboundRequest {
  std::string& action;  ///< the action name
  std::string& id;  ///< the message id
  boost::json::value& params;  ///< the payload
  bool is_send = false;  ///< a SEND: never answered
};

/// An inbound CALL's answer.
struct Reply {
  /// What the answer is: a CALLRESULT, a CALLERROR or nothing.
  enum class Kind { result, error, none };
  /// A CALLRESULT with `payload`.
  static Reply result(boost::json::value payload) { return {Kind::result, std::move(payload)}; }
  /// A CALLERROR with `code`, `description` and `details`.
  static Reply error(ErrorCode code, std::string description = {}, boost::json::object details = {}) {
    return {Kind::error, {}, code, std::move(description), std::move(details)};
  }
  /// No answer (a SEND, or a handler that chose not to reply).
  static Reply none() { return {Kind::none}; }
  Kind kind = Kind::none;  ///< which answer
  boost::json::value payload{};  ///< the CALLRESULT payload
  ErrorCode code = ErrorCode::InternalError;  ///< the CALLERROR code
  std::string description{};  ///< the CALLERROR description
  boost::json::object details{};  ///< the CALLERROR details
};

/// An inbound CALL answered later. The shell derives from it to cancel its handler when the
/// connection goes; the engine keeps it in the in-progress table until answered.
class InboundHandle {
 public:
  virtual ~InboundHandle() = default;
  /// The connection closed without waiting for the handler.
  virtual void cancel() noexcept = 0;
  std::string id;  ///< the message id to answer
  std::string action;  ///< the action name
  bool is_send = false;  ///< a SEND: never answered
};

/// A handler the shell found for an action; opaque to the engine.
using HandlerRef = const void*;

/// What the engine asks of its shell. All calls come from inside the engine's own functions.
class EngineHost {
 public:
  /// A frame to write; frames go out in this order.
  virtual void write(std::string frame) = 0;
  /// Start the closing handshake; on_transport_closed() follows.
  virtual void close_transport(std::uint16_t code, std::string_view reason) = 0;
  /// Drop the connection now (the peer sees 1006); on_transport_closed() follows.
  virtual void terminate_transport() = 0;
  /// The engine decided to close (too many bad messages, a rate limit): close as close() does.
  virtual void close_session(CloseOptions options) = 0;
  /// The handler of `action` in the negotiated protocol, or null when there is none.
  virtual HandlerRef find_handler(std::string_view action) = 0;
  /// Runs the handler: it answers with answer() before returning, or track()s the call and answers
  /// later with answer_tracked().
  virtual void run_handler(HandlerRef handler, InboundRequest& call) = 0;
  /// Call on_timer() no later than `deadline` (earlier wake-ups are harmless); nullopt: nothing
  /// is waiting any more.
  virtual void schedule(std::optional<TimePoint> deadline) = 0;
  /// A middleware decided: call advance(stage, step) later (never inline) on the engine's thread.
  virtual void post_advance(std::shared_ptr<detail::MessageStage> stage, std::size_t step) = 0;
  /// Where middleware decisions are sent from any thread; it may be gone by then.
  virtual std::weak_ptr<EngineHost> weak_host() = 0;
  /// Bytes of frames given to write() that the connection has not written to its socket yet; the
  /// engine keeps them within SessionOptions::max_send_queue_bytes.
  virtual std::size_t queued_bytes() const noexcept { return 0; }

 protected:
  ~EngineHost() = default;
};

/// The options with a logger and a clock (copied only when they lack one), as engines keep them.
std::shared_ptr<const SessionOptions> complete_options(std::shared_ptr<const SessionOptions> options);

/// What RpcEngine::close() found and the shell must do.
enum class CloseStart {
  already_closed,  ///< nothing to do: closed, or never connected (then last_close() is empty)
  joined,          ///< a close is already in progress
  not_open,        ///< connecting or reconnecting: the shell aborts what it was doing, then finish()
  started,         ///< the close is under way; on_transport_closed() follows
};

/// One RPC peer without IO: frames, ids, timeouts, queues, middleware and close rules; the shell (EngineHost) does the IO. Not thread-safe: the shell calls it from one thread.
class RpcEngine {
 public:
  /// Options are shared: connections made with the same options (a server's) hold one copy.
  RpcEngine(EngineHost& host, std::shared_ptr<const SessionOptions> options, std::string identity,
            SessionHooks hooks = {});
  ~RpcEngine();
  RpcEngine(const RpcEngine&) = delete;
  RpcEngine& operator=(const RpcEngine&) = delete;

  /// The station identity.
  const std::string& identity() const noexcept;
  /// The negotiated subprotocol (empty before the first connection).
  const std::string& protocol() const noexcept;
  /// Sets the negotiated subprotocol.
  void set_protocol(std::string protocol);
  /// Which end of the connection this peer is.
  Role role() const noexcept;
  /// Sets which end this peer is.
  void set_role(Role role) noexcept;
  /// The connection state.
  ConnectionState state() const noexcept;
  /// Sets the connection state (the shell drives connecting and reconnecting).
  void set_state(ConnectionState state) noexcept;
  /// The options, completed with a logger and a clock.
  const SessionOptions& options() const noexcept;
  /// The logger of this peer.
  Logger& logger() const noexcept;
  /// Logs `message` with this peer's identity.
  void log(LogLevel level, std::string_view message) const;
  /// The event callbacks.
  SessionEvents& events() noexcept;
  /// The hooks the shell was created with.
  const SessionHooks& hooks() const noexcept;
  /// Adds message middleware (see <ocpp/engine/middleware.hpp>).
  void use(MessageMiddleware middleware);
  /// Changes the number of outbound CALLs in flight at once.
  void set_call_concurrency(std::size_t n);
  /// What the clock says now (SessionOptions::clock, steady_clock by default).
  TimePoint now() const;

  /// The connection: open() when the transport is up, then resume() to send what was queued.
  void open(std::string protocol);
  /// Sends what was queued while not open.
  void resume();
  /// The transport is gone. Pending calls fail, running handlers are cancelled. Returns whether
  /// close() had been asked for; then (or when the shell gives up reconnecting) call finish().
  bool on_transport_closed(std::uint16_t code, std::string_view reason);
  /// Closed for good: queued calls fail.
  void finish(const CloseResult& result);
  /// Starts closing; the result says what the shell must do.
  CloseStart close(CloseOptions options);
  /// Whether close() has been asked for.
  bool close_requested() const noexcept;
  /// How the last connection ended; empty before the first close.
  const std::optional<CloseResult>& last_close() const noexcept;

  /// Outbound: makes a CALL; the engine owns `call` until it completes. Returns the call's serial for cancel(), or 0 when it could not be made at all (it
  /// has then completed, deferred).
  std::uint64_t call(std::unique_ptr<OutboundCall> call, std::optional<CallTarget> target = std::nullopt);
  /// Sends a SEND frame; a Failure when it could not be sent.
  std::optional<Failure> send(std::string_view action, const boost::json::value& payload,
                              std::optional<CallTarget> target = std::nullopt);
  /// Cancels the call with `serial` (its completion fails with cancelled).
  void cancel(std::uint64_t serial);

  /// Inbound: a frame's text as received.
  void on_frame(std::string_view text);
  /// The answer of a handler that answers while run_handler() runs; a result's payload may be
  /// moved from.
  void answer(std::string_view id, std::string_view action, bool is_send, Reply reply);
  /// answer() with a CALLRESULT whose payload may be moved from.
  void answer_result(std::string_view id, std::string_view action, bool is_send, boost::json::value& payload);
  /// Keeps a call whose handler answers later, with answer_tracked().
  void track(std::shared_ptr<InboundHandle> handle);
  /// Ignored when the call is no longer tracked (answered already, or cancelled by a close).
  void answer_tracked(const std::shared_ptr<InboundHandle>& handle, Reply reply);
  /// Continues a middleware stage after a decision (EngineHost::post_advance).
  void advance(const std::shared_ptr<detail::MessageStage>& stage, std::size_t step);

  /// Time: the engine asks for a wake-up through EngineHost::schedule(); then on_timer().
  std::optional<TimePoint> next_deadline() const;
  /// The deadline asked for through EngineHost::schedule() has come: the engine acts on what is due.
  void on_timer();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ocpp
OCPP_API_END
