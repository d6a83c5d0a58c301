// The Asio shell around the RPC engine: the executor, the deadline timer, completion tokens and
// the transport. The RPC rules themselves are the engine's (src/engine).
#include "ocpp/session/session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "complete.hpp"
#include "failure.hpp"
#include "timers.hpp"

namespace ocpp {
namespace asio = boost::asio;
namespace json = boost::json;

using detail::complete_later;
using detail::complete_now;

namespace {

// An outbound CALL with its caller's completion.
class AsioCall final : public OutboundCall {
 public:
  // Constructed in place: Asio 1.26's move assignment of any_completion_handler re-wraps it.
  AsioCall(asio::any_io_executor ex, asio::any_completion_handler<RpcSession::CallSignature> h,
           std::shared_ptr<CallbackGate> gate)
      : executor_(std::move(ex)), handler_(std::move(h)), gate_(std::move(gate)) {}

  void complete(std::optional<Failure> failure, json::value result, bool deferred) override {
    auto slot = handler_.get_cancellation_slot();
    if (slot.is_connected()) slot.clear();
    auto error = failure ? to_exception(*failure) : nullptr;
    if (deferred) return complete_later(gate_, executor_, std::move(handler_), error, std::move(result));
    CallbackGate::Scope scope(gate_.get());
    if (scope) complete_now(std::move(handler_), error, std::move(result));
  }

 private:
  asio::any_io_executor executor_;
  asio::any_completion_handler<RpcSession::CallSignature> handler_;
  std::shared_ptr<CallbackGate> gate_;
};

}  // namespace

RpcSession::RpcSession(executor_type executor, SessionOptions options, std::string identity,
                       std::shared_ptr<const HandlerTable> shared_handlers, SessionHooks hooks)
    : RpcSession(std::move(executor), std::make_shared<const SessionOptions>(std::move(options)), std::move(identity),
                 std::move(shared_handlers), std::move(hooks)) {}

RpcSession::RpcSession(executor_type executor, std::shared_ptr<const SessionOptions> options, std::string identity,
                       std::shared_ptr<const HandlerTable> shared_handlers, SessionHooks hooks)
    : executor_(std::move(executor)),
      shared_handlers_(std::move(shared_handlers)),
      engine_(*this, std::move(options), std::move(identity), std::move(hooks)) {}

// Nothing else owns the connection: it goes with its session.
RpcSession::~RpcSession() {
  if (transport_) transport_->terminate();
}

void RpcSession::attach(std::shared_ptr<Transport> transport, std::string protocol) {
  transport_ = std::move(transport);
  engine_.open(std::move(protocol));
  transport_->start(std::shared_ptr<TransportSink>(shared_from_this(), static_cast<TransportSink*>(this)));
  start_pings();
  emit("on_open", events().open);
  engine_.resume();
}

void RpcSession::use(MessageMiddleware middleware) { engine_.use(std::move(middleware)); }

void RpcSession::set_call_concurrency(std::size_t n) {
  asio::dispatch(executor_, [self = shared_from_this(), n] { self->engine_.set_call_concurrency(n); });
}

void RpcSession::start_call(std::string action, json::value payload, CallOptions options, CallHandler handler,
                            std::optional<CallTarget> target) {
  asio::dispatch(executor_, [self = shared_from_this(), action = std::move(action), payload = std::move(payload),
                             options = std::move(options), wrapped = detail::MoveOnly(std::move(handler)),
                             target]() mutable {
    auto slot = wrapped.h.get_cancellation_slot();
    auto call = std::make_unique<AsioCall>(self->executor_, std::move(wrapped.h), self->engine_.hooks().gate);
    call->action = std::move(action);
    call->payload = std::move(payload);
    call->timeout = options.timeout;
    call->id = std::move(options.message_id);
    const auto serial = self->engine_.call(std::move(call), target);
    if (serial && slot.is_connected()) {
      slot.assign([weak = std::weak_ptr<RpcSession>(self), serial](asio::cancellation_type) {
        if (auto s = weak.lock()) asio::dispatch(s->executor_, [s, serial] { s->engine_.cancel(serial); });
      });
    }
  });
}

void RpcSession::start_safe_call(std::string action, json::value payload, CallOptions options,
                                 SafeCallHandler handler) {
  std::string act = action;
  start_call(std::move(action), std::move(payload), std::move(options),
             CallHandler([self = shared_from_this(), act = std::move(act),
                          wrapped = detail::MoveOnly(std::move(handler))](std::exception_ptr e, json::value v) mutable {
               auto& handler = wrapped.h;
               if (!e) return std::move(handler)(std::optional<json::value>(std::move(v)));
               detail::log_safe_call_failure(*self, act, e);
               std::move(handler)(std::optional<json::value>());
             }));
}

void RpcSession::start_send(std::string action, json::value payload, SendHandler handler,
                            std::optional<CallTarget> target) {
  asio::dispatch(executor_, [self = shared_from_this(), action = std::move(action), payload = std::move(payload),
                             wrapped = detail::MoveOnly(std::move(handler)), target]() mutable {
    auto failure = self->engine_.send(action, payload, target);
    complete_later(self->engine_.hooks().gate, self->executor_, std::move(wrapped.h),
                   failure ? to_exception(*failure) : nullptr);
  });
}

// ---------------------------------------------------------------- what the engine asks for

void RpcSession::write(std::string frame) { transport_->send(std::move(frame)); }

std::size_t RpcSession::queued_bytes() const noexcept { return transport_ ? transport_->queued_bytes() : 0; }

void RpcSession::close_transport(std::uint16_t code, std::string_view reason) {
  if (transport_) transport_->close(code, reason);
}

void RpcSession::terminate_transport() {
  if (transport_) transport_->terminate();
}

void RpcSession::close_session(CloseOptions options) { close(std::move(options)); }

void RpcSession::schedule(std::optional<TimePoint> deadline) {
  if (!deadline) {
    // Nothing waits: an armed timer would keep the io_context busy for nothing.
    if (deadline_ && deadline_->armed) {
      deadline_->armed.reset();
      deadline_->timer.cancel();
    }
    return;
  }
  if (!deadline_) deadline_ = std::make_unique<DeadlineTimer>(executor_);
  auto& d = *deadline_;
  if (d.armed && *d.armed <= *deadline) return;
  d.armed = deadline;
  // Relative to the engine's clock, which tests may inject.
  d.timer.expires_after(*deadline - engine_.now());
  d.timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto s = weak.lock()) {
      s->deadline_->armed.reset();
      s->engine_.on_timer();
    }
  });
}

void RpcSession::post_advance(std::shared_ptr<detail::MessageStage> stage, std::size_t step) {
  asio::post(executor_, [self = shared_from_this(), stage = std::move(stage), step] {
    self->engine_.advance(stage, step);
  });
}

std::weak_ptr<EngineHost> RpcSession::weak_host() {
  return std::shared_ptr<EngineHost>(shared_from_this(), static_cast<EngineHost*>(this));
}

void RpcSession::on_frame(std::string_view text) { engine_.on_frame(text); }

}  // namespace ocpp
