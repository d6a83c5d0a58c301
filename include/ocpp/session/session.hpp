#pragma once
/// @file
/// One OCPP-J RPC peer over one connection, shared by the charging-station client and the CSMS's
/// server-side connections. All state lives on the session's executor; the public async functions
/// may be called from any thread and complete through any Asio completion token.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ocpp/engine/engine.hpp"
#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/visibility.hpp"
#include "ocpp/session/handler.hpp"
#include "ocpp/session/typed.hpp"
#include "ocpp/transport/transport.hpp"

OCPP_API_BEGIN
namespace ocpp {

namespace detail {
struct InboundCall;
}

/// The RPC peer of one connection: calls, sends, handlers, events and close, on one executor.
class RpcSession : public std::enable_shared_from_this<RpcSession>, private TransportSink, private EngineHost {
 public:
  /// The executor every handler and callback of this session runs on.
  using executor_type = boost::asio::any_io_executor;
  /// Completion of call(): the error, or the CALLRESULT payload.
  using CallSignature = void(std::exception_ptr, boost::json::value);
  /// Completion of safe_call(): the payload, or nothing on any error.
  using SafeCallSignature = void(std::optional<boost::json::value>);
  /// Completion of send(): the error, if any.
  using SendSignature = void(std::exception_ptr);
  /// Completion of close(): how the connection ended.
  using CloseSignature = void(CloseResult);

  RpcSession(const RpcSession&) = delete;
  RpcSession& operator=(const RpcSession&) = delete;
  virtual ~RpcSession();

  /// The session's executor.
  executor_type get_executor() const noexcept { return executor_; }
  /// The station identity of this connection.
  const std::string& identity() const noexcept { return engine_.identity(); }
  /// The negotiated subprotocol (empty before the first connection).
  const std::string& protocol() const noexcept { return engine_.protocol(); }
  /// The connection state (connecting, open, closing, closed).
  ConnectionState state() const noexcept { return engine_.state(); }
  /// The options the session was created with.
  const SessionOptions& options() const noexcept { return engine_.options(); }

  /// CALL: completes with the CALLRESULT payload, or an exception: RpcError (CALLERROR),
  /// TimeoutError, ConnectionError; operation_aborted (system_error) when cancelled through the
  /// token's cancellation slot.
  template <class Token>
  auto call(std::string action, boost::json::value payload, CallOptions options, Token&& token) {
    return boost::asio::async_initiate<Token, CallSignature>(
        [self = shared_from_this()](auto handler, std::string action, boost::json::value payload,
                                    CallOptions options) {
          self->start_call(std::move(action), std::move(payload), std::move(options),
                           CallHandler(std::move(handler)));
        },
        token, std::move(action), std::move(payload), std::move(options));
  }
  /// CALL with default CallOptions.
  template <class Token>
  auto call(std::string action, boost::json::value payload, Token&& token) {
    return call(std::move(action), std::move(payload), CallOptions{}, std::forward<Token>(token));
  }

  /// Typed CALL: `request` is a generated type (v16::BootNotificationRequest, ...) that names the
  /// action and its protocol; completes with the generated response type. Fails before anything is
  /// sent, with UsageError, when this side may not send the action (a CSMS sending BootNotification)
  /// or the connection speaks another protocol. Client and ServerClient check the direction at
  /// compile time.
  template <OcppCallRequest Request, class Token>
  auto call(const Request& request, CallOptions options, Token&& token) {
    using Traits = action_traits<Request>;
    using Response = typename Traits::response_type;
    return boost::asio::async_initiate<Token, void(std::exception_ptr, Response)>(
        [self = shared_from_this()](auto handler, boost::json::value payload, CallOptions options) {
          using Completion = detail::TypedCompletion<Response, decltype(handler), false>;
          self->start_call(std::string(Traits::name), std::move(payload), std::move(options),
                           CallHandler(Completion{std::move(handler), Traits::name, Traits::validate_response, {}}),
                           CallTarget{Traits::protocol, Traits::direction});
        },
        token, boost::json::value_from(request), std::move(options));
  }
  /// Typed CALL with default CallOptions.
  template <OcppCallRequest Request, class Token>
  auto call(const Request& request, Token&& token) {
    return call(request, CallOptions{}, std::forward<Token>(token));
  }

  /// Like call(), but completes with an empty optional instead of an error, and logs why.
  template <class Token>
  auto safe_call(std::string action, boost::json::value payload, CallOptions options, Token&& token) {
    return boost::asio::async_initiate<Token, SafeCallSignature>(
        [self = shared_from_this()](auto handler, std::string action, boost::json::value payload,
                                    CallOptions options) {
          self->start_safe_call(std::move(action), std::move(payload), std::move(options),
                                SafeCallHandler(std::move(handler)));
        },
        token, std::move(action), std::move(payload), std::move(options));
  }
  /// safe_call() with default CallOptions.
  template <class Token>
  auto safe_call(std::string action, boost::json::value payload, Token&& token) {
    return safe_call(std::move(action), std::move(payload), CallOptions{}, std::forward<Token>(token));
  }

  /// Typed safe_call(): the generated response type, or an empty optional on any error.
  template <OcppCallRequest Request, class Token>
  auto safe_call(const Request& request, CallOptions options, Token&& token) {
    using Traits = action_traits<Request>;
    using Response = typename Traits::response_type;
    return boost::asio::async_initiate<Token, void(std::optional<Response>)>(
        [self = shared_from_this()](auto handler, boost::json::value payload, CallOptions options) {
          using Completion = detail::TypedCompletion<Response, decltype(handler), true>;
          self->start_call(std::string(Traits::name), std::move(payload), std::move(options),
                           CallHandler(Completion{std::move(handler), Traits::name, Traits::validate_response, self}),
                           CallTarget{Traits::protocol, Traits::direction});
        },
        token, boost::json::value_from(request), std::move(options));
  }
  /// Typed safe_call() with default CallOptions.
  template <OcppCallRequest Request, class Token>
  auto safe_call(const Request& request, Token&& token) {
    return safe_call(request, CallOptions{}, std::forward<Token>(token));
  }

  /// ocpp2.1 SEND: one frame, never answered. Completes once written to the transport's queue;
  /// fails with ConnectionError when not open, or std::logic_error when the protocol has no SEND.
  template <class Token>
  auto send(std::string action, boost::json::value payload, Token&& token) {
    return boost::asio::async_initiate<Token, SendSignature>(
        [self = shared_from_this()](auto handler, std::string action, boost::json::value payload) {
          self->start_send(std::move(action), std::move(payload), SendHandler(std::move(handler)));
        },
        token, std::move(action), std::move(payload));
  }
  /// Typed ocpp2.1 SEND of a generated message type.
  template <OcppSendMessage Message, class Token>
  auto send(const Message& message, Token&& token) {
    using Traits = action_traits<Message>;
    return boost::asio::async_initiate<Token, SendSignature>(
        [self = shared_from_this()](auto handler, boost::json::value payload) {
          self->start_send(std::string(Traits::name), std::move(payload), SendHandler(std::move(handler)),
                           CallTarget{Traits::protocol, Traits::direction});
        },
        token, boost::json::value_from(message));
  }

  /// Idempotent: every caller completes with the result of the first close.
  template <class Token>
  auto close(CloseOptions options, Token&& token) {
    return boost::asio::async_initiate<Token, CloseSignature>(
        [self = shared_from_this()](auto handler, CloseOptions options) {
          self->start_close(std::move(options), CloseHandler(std::move(handler)));
        },
        token, std::move(options));
  }
  /// Fire-and-forget close.
  void close(CloseOptions options = {});

  /// Registers the handler of `action` (any protocol). `f` is one of:
  ///   HandlerResult(CallContext&)                 - synchronous; return a payload or no_reply
  ///   void(CallContext&, Responder)               - asynchronous; answer through the Responder
  ///   asio::awaitable<R>(CallContext)             - a coroutine, R convertible to HandlerResult
  /// A handler throws RpcError to answer with that CALLERROR; any other exception → InternalError.
  /// Register them before connecting, or from the server's client callback.
  template <class F>
  void handle(std::string_view action, F&& f) {
    own_handlers().add({}, action, make_handler(std::forward<F>(f)));
  }
  /// Registers a handler for `action` of one protocol only.
  template <class F>
  void handle(std::string_view protocol, std::string_view action, F&& f) {
    own_handlers().add(protocol, action, make_handler(std::forward<F>(f)));
  }
  /// Registers the handler of every action that has no handler of its own.
  template <class F>
  void handle_any(F&& f) {
    own_handlers().add_wildcard(make_handler(std::forward<F>(f)));
  }
  /// A typed handler: the request type's action and protocol are the key, e.g.
  ///   handle([](const v201::ResetRequest& req, auto& ctx) -> v201::ResetResponse { ... });
  /// The payload is converted before the handler runs; a payload that does not convert is answered
  /// with the CALLERROR its schema failure maps to (see <ocpp/engine/validation.hpp>).
  template <TypedHandler F>
  void handle(F&& f) {
    using Traits = action_traits<typename detail::handler_signature<F>::request>;
    own_handlers().add(Traits::protocol, Traits::name, make_typed_handler(std::forward<F>(f)));
  }
  /// Removes the handler of `action` (any protocol); false if there was none.
  bool remove_handler(std::string_view action) { return handlers_ && handlers_->remove({}, action); }
  /// Removes the handler of `action` in `protocol`; false if there was none.
  bool remove_handler(std::string_view protocol, std::string_view action) {
    return handlers_ && handlers_->remove(protocol, action);
  }
  /// Removes every handler of this session.
  void remove_all_handlers() {
    if (handlers_) handlers_->clear();
  }

  /// @name Events
  /// Set them before connecting (or in the server's client callback). What a callback throws is
  /// logged at error and counted (the server's ocpp_callback_errors_total); the connection goes on.
  ///@{

  /// The connection is open.
  void on_open(std::function<void()> f) { events().open = std::move(f); }
  /// Final close: no reconnect follows.
  void on_close(std::function<void(const CloseResult&)> f) { events().close = std::move(f); }
  /// Every frame received and sent, with its direction.
  void on_message(std::function<void(const MessageEvent&)> f) { events().message = std::move(f); }
  /// A frame from the peer that is not a valid RPC frame, or an answer to a message id that is not pending.
  void on_bad_message(std::function<void(const BadMessageEvent&)> f) { events().bad_message = std::move(f); }
  /// An inbound ocpp2.1 CALLRESULTERROR.
  void on_call_result_error(std::function<void(const CallResultErrorEvent&)> f) {
    events().call_result_error = std::move(f);
  }
  /// No pong arrived in time after a ping; the connection is dropped.
  void on_pong_timeout(std::function<void()> f) { events().pong_timeout = std::move(f); }
  /// A peer's CALL over the rate limit. With LimitAction::callback the callback decides what becomes of
  /// it by setting the event's `decision`: allow, drop (the default) or disconnect (1008).
  void on_rate_limit_exceeded(std::function<void(RateLimitEvent&)> f) { events().rate_limit = std::move(f); }
  /// Strict mode: every payload that failed its schema (ocpp-ws-io's strictValidationFailure).
  void on_validation_failure(std::function<void(const ValidationFailureEvent&)> f) {
    events().validation_failure = std::move(f);
  }
  /// The peer does not read what is sent to it: a frame did not fit SessionOptions::
  /// max_send_queue_bytes, and the connection is being closed with the event's close_code. Once
  /// per connection.
  void on_send_queue_overflow(std::function<void(const SendQueueOverflowEvent&)> f) {
    events().send_queue_overflow = std::move(f);
  }
  ///@}

  /// Message middleware for every CALL, CALLRESULT and CALLERROR in and out (see
  /// <ocpp/engine/middleware.hpp>). Add it before connecting (or in the server's client callback).
  void use(MessageMiddleware middleware);

  /// Changes the number of outbound CALLs in flight at once (queued ones start if it grew).
  void set_call_concurrency(std::size_t n);

  /// Wraps a handler of any supported form; public for the server's shared handler tables.
  /// Defined in <ocpp/session/handler_forms.hpp>.
  template <class F>
  static Handler make_handler(F&& f);
  /// Wraps a typed handler (see handle(F&&)); public for the server's shared handler tables.
  template <TypedHandler F>
  static Handler make_typed_handler(F&& f);

 protected:
  /// A session with its own options; `shared_handlers` are consulted after its own.
  RpcSession(executor_type executor, SessionOptions options, std::string identity,
             std::shared_ptr<const HandlerTable> shared_handlers = nullptr, SessionHooks hooks = {});
  /// Options shared with other sessions (a server's connections).
  RpcSession(executor_type executor, std::shared_ptr<const SessionOptions> options, std::string identity,
             std::shared_ptr<const HandlerTable> shared_handlers, SessionHooks hooks);

  /// Starts using a connected transport for `protocol` (state becomes open).
  void attach(std::shared_ptr<Transport> transport, std::string protocol);
  /// The connection ended without close() being asked for. The default makes it final; the client
  /// overrides it to reconnect. Pending calls have already been failed; queued ones are kept.
  virtual void on_unexpected_close(const CloseResult& result);
  /// close() was asked for while not open (the client aborts a connect in progress).
  virtual void on_close_while_not_open();
  /// Makes the session closed for good: fails what is queued and completes close() waiters.
  void finish_close(const CloseResult& result);

  /// Sets the connection state (subclasses drive connecting and reconnecting).
  void set_state(ConnectionState s) noexcept { engine_.set_state(s); }
  /// Sets the negotiated subprotocol.
  void set_protocol(std::string protocol) { engine_.set_protocol(std::move(protocol)); }
  /// Sets which side of OCPP this session speaks for.
  void set_role(Role role) noexcept { engine_.set_role(role); }
  /// The logger of this session.
  Logger& logger() const noexcept { return engine_.logger(); }
  /// Logs `message` with this session's identity.
  void log(LogLevel level, std::string_view message) const { engine_.log(level, message); }
  /// Whether close() has been asked for.
  bool close_requested() const noexcept { return engine_.close_requested(); }
  /// The event callbacks, to set or to fire.
  SessionEvents& events() noexcept { return engine_.events(); }
  /// Calls the user's callback `f` for `event` (logged and reported if it throws); false when it threw.
  template <class F, class... Args>
  bool emit(std::string_view event, const F& f, Args&&... args) {
    return invoke_event(engine_.hooks(), logger(), identity(), event, f, std::forward<Args>(args)...);
  }

 private:
  friend struct detail::InboundCall;
  friend class Responder;
  friend void detail::log_safe_call_failure(RpcSession&, std::string_view, std::exception_ptr);
  using CallHandler = boost::asio::any_completion_handler<CallSignature>;
  using SafeCallHandler = boost::asio::any_completion_handler<SafeCallSignature>;
  using SendHandler = boost::asio::any_completion_handler<SendSignature>;
  using CloseHandler = boost::asio::any_completion_handler<CloseSignature>;

  template <class T>
  struct is_awaitable : std::false_type {};
  template <class T, class E>
  struct is_awaitable<boost::asio::awaitable<T, E>> : std::true_type {};
  template <class Fn>
  static constexpr bool returns_awaitable() {
    if constexpr (std::is_invocable_v<Fn&, CallContext>)
      return is_awaitable<std::invoke_result_t<Fn&, CallContext>>::value;
    else
      return false;
  }
  static void deliver(Responder& r, HandlerResult result);
  template <class Request, class Fn>
  static boost::asio::awaitable<boost::json::value> run_typed(Fn fn, Request request, CallContext ctx);

  HandlerTable& own_handlers();

  void start_call(std::string action, boost::json::value payload, CallOptions options, CallHandler handler,
                  std::optional<CallTarget> target = std::nullopt);
  void start_safe_call(std::string action, boost::json::value payload, CallOptions options,
                       SafeCallHandler handler);
  void start_send(std::string action, boost::json::value payload, SendHandler handler,
                  std::optional<CallTarget> target = std::nullopt);
  void start_close(CloseOptions options, CloseHandler handler);
  /// The answer for a handler that failed with `error`.
  Reply reply_for(std::string_view action, std::exception_ptr error) const;

  /// TransportSink
  void on_frame(std::string_view text) override;
  void on_pong() override;
  void on_closed(std::uint16_t code, std::string_view reason) override;

  /// EngineHost
  void write(std::string frame) override;
  void close_transport(std::uint16_t code, std::string_view reason) override;
  void terminate_transport() override;
  void close_session(CloseOptions options) override;
  HandlerRef find_handler(std::string_view action) override;
  void run_handler(HandlerRef handler, InboundRequest& call) override;
  void schedule(std::optional<TimePoint> deadline) override;
  void post_advance(std::shared_ptr<detail::MessageStage> stage, std::size_t step) override;
  std::weak_ptr<EngineHost> weak_host() override;
  std::size_t queued_bytes() const noexcept override;

  void start_pings();
  void schedule_ping();
  void stop_pings();

  executor_type executor_;
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<const HandlerTable> shared_handlers_;  ///< the server's, shared by its connections
  std::unique_ptr<HandlerTable> handlers_;                ///< this peer's own, consulted first
  struct DeadlineTimer;
  std::unique_ptr<DeadlineTimer> deadline_;
  struct PingState;
  std::unique_ptr<PingState> ping_;
  struct CloseGuard;
  std::unique_ptr<CloseGuard> close_guard_;  ///< keeps the session alive while a close is in progress
  std::vector<CloseHandler> close_waiters_;
  RpcEngine engine_;
};

}  // namespace ocpp
OCPP_API_END

#include "ocpp/session/handler_forms.hpp"
