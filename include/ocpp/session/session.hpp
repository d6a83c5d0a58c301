#pragma once
// One OCPP-J RPC peer over one connection, shared by the charging-station client and the CSMS's
// server-side connections. All state lives on the session's executor; the public async functions
// may be called from any thread and complete through any Asio completion token.
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
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/session/handler.hpp"
#include "ocpp/session/hooks.hpp"
#include "ocpp/session/middleware.hpp"
#include "ocpp/session/options.hpp"
#include "ocpp/session/typed.hpp"
#include "ocpp/session/validation.hpp"
#include "ocpp/transport/transport.hpp"

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

namespace detail {
struct OutCall;
struct MessageStage;
}

class RpcSession : public std::enable_shared_from_this<RpcSession>, private TransportSink {
 public:
  using executor_type = boost::asio::any_io_executor;
  using CallSignature = void(std::exception_ptr, boost::json::value);
  using SafeCallSignature = void(std::optional<boost::json::value>);
  using SendSignature = void(std::exception_ptr);
  using CloseSignature = void(CloseResult);

  RpcSession(const RpcSession&) = delete;
  RpcSession& operator=(const RpcSession&) = delete;
  virtual ~RpcSession();

  executor_type get_executor() const noexcept { return executor_; }
  const std::string& identity() const noexcept { return identity_; }
  // The negotiated subprotocol (empty before the first connection).
  const std::string& protocol() const noexcept { return protocol_; }
  ConnectionState state() const noexcept { return state_; }
  const SessionOptions& options() const noexcept { return options_; }

  // CALL: completes with the CALLRESULT payload, or an exception: RpcError (CALLERROR),
  // TimeoutError, ConnectionError; operation_aborted (system_error) when cancelled through the
  // token's cancellation slot.
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
  template <class Token>
  auto call(std::string action, boost::json::value payload, Token&& token) {
    return call(std::move(action), std::move(payload), CallOptions{}, std::forward<Token>(token));
  }

  // Typed CALL: `request` is a generated type (v16::BootNotificationRequest, ...) that names the
  // action and its protocol; completes with the generated response type. Fails before anything is
  // sent, with UsageError, when this side may not send the action (a CSMS sending BootNotification)
  // or the connection speaks another protocol. Client and ServerClient check the direction at
  // compile time.
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
  template <OcppCallRequest Request, class Token>
  auto call(const Request& request, Token&& token) {
    return call(request, CallOptions{}, std::forward<Token>(token));
  }

  // Like call(), but completes with an empty optional instead of an error, and logs why.
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
  template <class Token>
  auto safe_call(std::string action, boost::json::value payload, Token&& token) {
    return safe_call(std::move(action), std::move(payload), CallOptions{}, std::forward<Token>(token));
  }

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
  template <OcppCallRequest Request, class Token>
  auto safe_call(const Request& request, Token&& token) {
    return safe_call(request, CallOptions{}, std::forward<Token>(token));
  }

  // ocpp2.1 SEND: one frame, never answered. Completes once written to the transport's queue;
  // fails with ConnectionError when not open, or std::logic_error when the protocol has no SEND.
  template <class Token>
  auto send(std::string action, boost::json::value payload, Token&& token) {
    return boost::asio::async_initiate<Token, SendSignature>(
        [self = shared_from_this()](auto handler, std::string action, boost::json::value payload) {
          self->start_send(std::move(action), std::move(payload), SendHandler(std::move(handler)));
        },
        token, std::move(action), std::move(payload));
  }
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

  // Idempotent: every caller completes with the result of the first close.
  template <class Token>
  auto close(CloseOptions options, Token&& token) {
    return boost::asio::async_initiate<Token, CloseSignature>(
        [self = shared_from_this()](auto handler, CloseOptions options) {
          self->start_close(std::move(options), CloseHandler(std::move(handler)));
        },
        token, std::move(options));
  }
  // Fire-and-forget close.
  void close(CloseOptions options = {});

  // Handlers. `f` is one of:
  //   HandlerResult(CallContext&)                 - synchronous; return a payload or no_reply
  //   void(CallContext&, Responder)               - asynchronous; answer through the Responder
  //   asio::awaitable<R>(CallContext)             - a coroutine, R convertible to HandlerResult
  // A handler throws RpcError to answer with that CALLERROR; any other exception → InternalError.
  // Register them before connecting, or from the server's client callback.
  template <class F>
  void handle(std::string_view action, F&& f) {
    own_handlers().add({}, action, make_handler(std::forward<F>(f)));
  }
  template <class F>
  void handle(std::string_view protocol, std::string_view action, F&& f) {
    own_handlers().add(protocol, action, make_handler(std::forward<F>(f)));
  }
  template <class F>
  void handle_any(F&& f) {
    own_handlers().add_wildcard(make_handler(std::forward<F>(f)));
  }
  // A typed handler: the request type's action and protocol are the key, e.g.
  //   handle([](const v201::ResetRequest& req, auto& ctx) -> v201::ResetResponse { ... });
  // The payload is converted before the handler runs; a payload that does not convert is answered
  // with the CALLERROR its schema failure maps to (see <ocpp/session/validation.hpp>).
  template <TypedHandler F>
  void handle(F&& f) {
    using Traits = action_traits<typename detail::handler_signature<F>::request>;
    own_handlers().add(Traits::protocol, Traits::name, make_typed_handler(std::forward<F>(f)));
  }
  bool remove_handler(std::string_view action) { return handlers_ && handlers_->remove({}, action); }
  bool remove_handler(std::string_view protocol, std::string_view action) {
    return handlers_ && handlers_->remove(protocol, action);
  }
  void remove_all_handlers() {
    if (handlers_) handlers_->clear();
  }

  // Events; set them before connecting (or in the server's client callback).
  void on_open(std::function<void()> f) { events_.open = std::move(f); }
  // Final close: no reconnect follows.
  void on_close(std::function<void(const CloseResult&)> f) { events_.close = std::move(f); }
  void on_message(std::function<void(const MessageEvent&)> f) { events_.message = std::move(f); }
  void on_bad_message(std::function<void(const BadMessageEvent&)> f) { events_.bad_message = std::move(f); }
  void on_call_result_error(std::function<void(const CallResultErrorEvent&)> f) {
    events_.call_result_error = std::move(f);
  }
  void on_pong_timeout(std::function<void()> f) { events_.pong_timeout = std::move(f); }
  void on_rate_limit_exceeded(std::function<void(const RateLimitEvent&)> f) { events_.rate_limit = std::move(f); }
  // Strict mode: every payload that failed its schema (ocpp-ws-io's strictValidationFailure).
  void on_validation_failure(std::function<void(const ValidationFailureEvent&)> f) {
    events_.validation_failure = std::move(f);
  }

  // Message middleware for every CALL, CALLRESULT and CALLERROR in and out (see
  // <ocpp/session/middleware.hpp>). Add it before connecting (or in the server's client callback).
  void use(MessageMiddleware middleware);

  // Changes the number of outbound CALLs in flight at once (queued ones start if it grew).
  void set_call_concurrency(std::size_t n);

  // Wraps a handler of any supported form; public for the server's shared handler tables.
  template <class F>
  static Handler make_handler(F&& f) {
    using Fn = std::decay_t<F>;
    Handler h;
    if constexpr (std::is_invocable_v<Fn&, CallContext&, Responder>) {
      h.async = std::forward<F>(f);
    } else if constexpr (returns_awaitable<Fn>()) {
      h.async = [fn = std::forward<F>(f)](CallContext& ctx, Responder r) mutable {
        auto slot = r.cancellation_slot();
        auto ex = ctx.session->get_executor();
        boost::asio::co_spawn(
            ex, fn(std::move(ctx)),
            boost::asio::bind_cancellation_slot(slot, [r = std::move(r)](std::exception_ptr e, auto result) mutable {
              if (e)
                r.fail(e);
              else
                deliver(r, HandlerResult(std::move(result)));
            }));
      };
    } else {
      static_assert(std::is_convertible_v<std::invoke_result_t<Fn&, CallContext&>, HandlerResult>,
                    "a handler returns a payload (json value/object), ocpp::no_reply, or an awaitable of those");
      h.sync = std::forward<F>(f);
    }
    return h;
  }

  template <TypedHandler F>
  static Handler make_typed_handler(F&& f) {
    using Signature = detail::handler_signature<F>;
    using Request = typename Signature::request;
    using Result = typename Signature::result;
    using Traits = action_traits<Request>;
    using Fn = std::decay_t<F>;
    Handler h;
    if constexpr (detail::awaitable_value<Result>::is_awaitable) {
      static_assert(std::is_same_v<typename detail::awaitable_value<Result>::type, typename Traits::response_type>,
                    "a typed coroutine handler returns asio::awaitable<the request's response type>");
      h.async = [fn = Fn(std::forward<F>(f))](CallContext& ctx, Responder r) {
        std::optional<Request> request;
        try {
          request.emplace(detail::convert_payload<Request>(Traits::name, Traits::validate_request, ctx.params));
        } catch (...) {
          return r.fail(std::current_exception());
        }
        auto slot = r.cancellation_slot();
        auto ex = ctx.session->get_executor();
        boost::asio::co_spawn(
            ex, run_typed<Request>(fn, std::move(*request), std::move(ctx)),
            boost::asio::bind_cancellation_slot(slot, [r = std::move(r)](std::exception_ptr e, boost::json::value v) mutable {
              if (e)
                r.fail(e);
              else
                r.result(std::move(v));
            }));
      };
    } else {
      static_assert(std::is_same_v<Result, typename Traits::response_type> ||
                        (std::is_void_v<Result> && OcppSendMessage<Request>),
                    "a typed handler returns the request's response type (void for a SEND message)");
      h.sync = [fn = Fn(std::forward<F>(f))](CallContext& ctx) mutable -> HandlerResult {
        auto request = detail::convert_payload<Request>(Traits::name, Traits::validate_request, ctx.params);
        if constexpr (std::is_void_v<Result>) {
          fn(request, ctx);
          return no_reply;
        } else {
          return HandlerResult(boost::json::value_from(fn(request, ctx)));
        }
      };
    }
    return h;
  }

 protected:
  RpcSession(executor_type executor, SessionOptions options, std::string identity,
             std::shared_ptr<const HandlerTable> shared_handlers = nullptr, SessionHooks hooks = {});

  // Starts using a connected transport for `protocol` (state becomes open).
  void attach(std::shared_ptr<Transport> transport, std::string protocol);
  // The connection ended without close() being asked for. The default makes it final; the client
  // overrides it to reconnect. Pending calls have already been failed; queued ones are kept.
  virtual void on_unexpected_close(const CloseResult& result);
  // close() was asked for while not open (the client aborts a connect in progress).
  virtual void on_close_while_not_open();
  // Makes the session closed for good: fails what is queued and completes close() waiters.
  void finish_close(const CloseResult& result);

  void set_state(ConnectionState s) noexcept { state_ = s; }
  void set_protocol(std::string protocol);
  void set_role(Role role) noexcept { role_ = role; }
  void set_identity(std::string identity) { identity_ = std::move(identity); }
  Logger& logger() const noexcept { return *logger_; }
  void log(LogLevel level, std::string_view message) const;
  bool close_requested() const noexcept { return closing_requested_; }

  struct Events {
    std::function<void()> open;
    std::function<void(const CloseResult&)> close;
    std::function<void(const MessageEvent&)> message;
    std::function<void(const BadMessageEvent&)> bad_message;
    std::function<void(const CallResultErrorEvent&)> call_result_error;
    std::function<void()> pong_timeout;
    std::function<void(const ValidationFailureEvent&)> validation_failure;
    std::function<void(const RateLimitEvent&)> rate_limit;
  };
  Events events_;

 private:
  friend struct detail::InboundCall;
  friend class Responder;
  friend class MessageContext;
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
  static boost::asio::awaitable<boost::json::value> run_typed(Fn fn, Request request, CallContext ctx) {
    auto response = co_await fn(std::move(request), ctx);
    co_return boost::json::value_from(response);
  }

  // What a typed call or send is bound to, checked before anything is sent.
  struct CallTarget {
    std::string_view protocol;
    Direction direction;
  };
  std::exception_ptr check_target(std::string_view action, const CallTarget& target) const;

  HandlerTable& own_handlers();
  const Handler* find_handler(std::string_view action) const;

  void start_call(std::string action, boost::json::value payload, CallOptions options, CallHandler handler,
                  std::optional<CallTarget> target = std::nullopt);
  void start_safe_call(std::string action, boost::json::value payload, CallOptions options,
                       SafeCallHandler handler);
  void start_send(std::string action, boost::json::value payload, SendHandler handler,
                  std::optional<CallTarget> target = std::nullopt);
  void start_close(CloseOptions options, CloseHandler handler);

  void pump_queue();
  void write_call(std::unique_ptr<detail::OutCall> call);
  void send_call(std::unique_ptr<detail::OutCall> call);
  std::size_t calls_in_flight() const noexcept { return pending_.size() + in_chain_.size(); }
  void fail_unsent(std::unique_ptr<detail::OutCall> call, std::exception_ptr error);
  void complete_call(detail::OutCall& call, std::exception_ptr error, boost::json::value result);
  void cancel_call(const std::string& id, std::uint64_t serial);
  void on_call_timeout(const std::string& id, std::uint64_t serial);
  void fail_pending(const std::string& why, std::uint16_t close_code = 0);
  void fail_queued(const std::string& why);
  void cancel_inbound();
  void maybe_finish_drain();

  // TransportSink
  void on_frame(std::string_view text) override;
  void on_pong() override;
  void on_closed(std::uint16_t code, std::string_view reason) override;

  void on_bad_frame(std::string_view raw, const FrameError& error);
  void over_rate_limit(const Frame& f);
  void count_bad_message();
  void handle_call(Frame& frame);
  void handle_response(Frame& frame);
  void send_frame(std::string frame, MessageType type, std::string_view id, std::string_view action,
                  std::string_view error_code = {});
  bool observed() const noexcept { return events_.message || hooks_.message || options_.exchange_log; }
  void observe(const MessageEvent& e);
  void answer(const std::string& id, const std::string& action, HandlerResult result);
  void send_result(const std::string& id, const std::string& action, boost::json::value payload);
  void send_error(const std::string& id, const std::string& action, ErrorCode code, const std::string& description,
                  const boost::json::object& details);
  void answer_error(const std::string& id, const std::string& action, std::exception_ptr error);

  // Strict mode: the reason `payload` fails the schema of `action`, or nullopt when it passes or
  // is not validated on this connection.
  std::optional<schema::ValidationError> strict_failure(std::string_view action, bool response,
                                                        const boost::json::value& payload) const;
  void report_validation_failure(ValidationPhase phase, MessageType type, std::string_view action,
                                 std::string_view id, const boost::json::value& payload,
                                 const schema::ValidationError& error, ErrorCode code);

  void start_pings();
  void schedule_ping();
  void stop_pings();

  executor_type executor_;
  SessionOptions options_;
  std::shared_ptr<Logger> logger_;
  SessionHooks hooks_;
  std::string identity_;
  std::string protocol_;
  ProtocolVersion version_ = ProtocolVersion::other;
  bool strict_ = false;  // strict mode applies to the negotiated protocol
  Role role_ = Role::unspecified;
  ConnectionState state_ = ConnectionState::closed;
  std::shared_ptr<Transport> transport_;

  std::shared_ptr<const HandlerTable> shared_handlers_;  // the server's, shared by its connections
  std::unique_ptr<HandlerTable> handlers_;                // this peer's own, consulted first

  std::unordered_map<std::string, std::unique_ptr<detail::OutCall>> pending_;
  std::list<std::unique_ptr<detail::OutCall>> queue_;
  std::uint64_t next_serial_ = 0;
  std::vector<std::string> timed_out_ids_;  // recent, so their late answers are not blamed on the peer

  std::unordered_map<std::string, std::shared_ptr<detail::InboundCall>> inbound_;
  std::size_t bad_messages_ = 0;
  std::unique_ptr<MessageRateLimiter> rate_limiter_;

  // Message middleware: one lane per direction; a message waits until the one before it in its
  // direction has passed every middleware.
  struct Lane {
    // A list, not a deque: libstdc++'s empty deque allocates ~600 B, paid by every idle connection.
    std::list<std::shared_ptr<detail::MessageStage>> waiting;
    std::shared_ptr<detail::MessageStage> current;
  };
  void through_middleware(MessagePhase phase, Frame frame, std::string action,
                          std::function<void(RpcSession&, detail::MessageStage&)> done);
  void start_lane(Lane& lane);
  void post_advance(std::shared_ptr<detail::MessageStage> stage, std::size_t step);
  void advance(const std::shared_ptr<detail::MessageStage>& stage, std::size_t step);
  void finish_stage(Lane& lane);
  void clear_lanes();
  std::vector<MessageMiddleware> middleware_;
  Lane in_lane_, out_lane_;
  std::uint64_t lane_epoch_ = 0;
  std::list<std::unique_ptr<detail::OutCall>> in_chain_;  // outbound CALLs inside the middleware

  struct PingState;
  std::unique_ptr<PingState> ping_;

  struct CloseGuard;
  std::unique_ptr<CloseGuard> close_guard_;  // keeps the session alive while a close is in progress
  bool closing_requested_ = false;
  bool drain_before_close_ = false;
  CloseOptions close_options_;
  std::vector<CloseHandler> close_waiters_;
  std::optional<CloseResult> last_close_;
};

}  // namespace ocpp
