#include "ocpp/session/session.hpp"

#include "complete.hpp"
#include "middleware_stage.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <random>

namespace ocpp {
namespace asio = boost::asio;
namespace json = boost::json;

namespace detail {

struct OutCall {
  // Constructed in place: Asio 1.26's move assignment of any_completion_handler re-wraps it.
  explicit OutCall(asio::any_completion_handler<RpcSession::CallSignature> h) : handler(std::move(h)) {}
  std::string id;
  std::string action;
  std::string_view protocol;  // a typed call's: the connection must speak it
  json::value payload;  // released once serialised
  milliseconds timeout;
  std::uint64_t serial = 0;
  asio::any_completion_handler<RpcSession::CallSignature> handler;
  std::optional<asio::steady_timer> timer;
  std::chrono::steady_clock::time_point sent_at;
};

// One inbound CALL answered asynchronously. Shared by the Responder and the session; whichever
// side finishes first wins, and answers are delivered on the session's executor.
struct InboundCall {
  std::weak_ptr<RpcSession> session;
  asio::any_io_executor executor;
  std::string id;
  std::string action;
  bool is_send = false;
  std::atomic<bool> answered{false};
  asio::cancellation_signal cancel;

  template <class F>
  static void finish(std::shared_ptr<InboundCall> call, F&& f) {
    auto s = call->session.lock();
    if (!s) return;
    auto ex = call->executor;
    asio::dispatch(ex, [call = std::move(call), s = std::move(s), f = std::forward<F>(f)]() mutable {
      auto it = s->inbound_.find(call->id);
      if (it == s->inbound_.end() || it->second != call || call->answered) return;
      call->answered = true;
      s->inbound_.erase(it);
      f(*s, *call);
      s->maybe_finish_drain();
    });
  }
};

}  // namespace detail

using detail::complete_later;
using detail::complete_now;
using detail::InboundCall;
using detail::OutCall;

// ---------------------------------------------------------------- handlers

namespace {
std::string handler_key(std::string_view protocol, std::string_view action) {
  std::string key(protocol);
  key.push_back('\x1f');
  key.append(action);
  return key;
}
}  // namespace

void HandlerTable::add(std::string_view protocol, std::string_view action, Handler handler) {
  if (!map_.emplace(handler_key(protocol, action), std::move(handler)).second)
    throw std::logic_error("a handler for " + std::string(protocol.empty() ? "any protocol" : protocol) + " " +
                           std::string(action) + " is already registered");
}

void HandlerTable::add_wildcard(Handler handler) {
  if (wildcard_) throw std::logic_error("a wildcard handler is already registered");
  wildcard_ = std::make_unique<Handler>(std::move(handler));
}

bool HandlerTable::remove(std::string_view protocol, std::string_view action) {
  return map_.erase(handler_key(protocol, action)) > 0;
}

void HandlerTable::clear() {
  map_.clear();
  wildcard_.reset();
}

const Handler* HandlerTable::find(std::string_view protocol, std::string_view action) const {
  char buf[160];
  auto lookup = [&](std::string_view proto) -> const Handler* {
    if (proto.size() + action.size() + 1 > sizeof buf) {
      auto it = map_.find(handler_key(proto, action));
      return it == map_.end() ? nullptr : &it->second;
    }
    std::copy(proto.begin(), proto.end(), buf);
    buf[proto.size()] = '\x1f';
    std::copy(action.begin(), action.end(), buf + proto.size() + 1);
    auto it = map_.find(std::string_view(buf, proto.size() + 1 + action.size()));
    return it == map_.end() ? nullptr : &it->second;
  };
  if (map_.empty()) return wildcard_.get();
  if (!protocol.empty())
    if (auto h = lookup(protocol)) return h;
  if (auto h = lookup({})) return h;
  return wildcard_.get();
}

Responder::~Responder() {
  if (call_ && !call_->answered)
    fail(std::make_exception_ptr(RpcError(ErrorCode::InternalError, "The handler completed without an answer")));
}

void Responder::result(json::value payload) {
  if (!call_) return;
  auto call = std::move(call_);
  InboundCall::finish(std::move(call), [p = std::move(payload)](RpcSession& s, InboundCall& c) mutable { s.answer(c.id, c.action, std::move(p)); });
}

void Responder::fail(std::exception_ptr error) {
  if (!call_) return;
  auto call = std::move(call_);
  InboundCall::finish(std::move(call), [e = std::move(error)](RpcSession& s, InboundCall& c) { s.answer_error(c.id, c.action, e); });
}

void Responder::no_reply() {
  if (!call_) return;
  auto call = std::move(call_);
  InboundCall::finish(std::move(call), [](RpcSession& s, InboundCall& c) { s.answer(c.id, c.action, ocpp::no_reply); });
}

asio::cancellation_slot Responder::cancellation_slot() const {
  return call_ ? call_->cancel.slot() : asio::cancellation_slot();
}

void RpcSession::deliver(Responder& r, HandlerResult result) {
  if (result.is_no_reply())
    r.no_reply();
  else
    r.result(std::move(result.value()));
}

// ---------------------------------------------------------------- lifecycle

// A wait that never expires and holds the session: a closing session outlives whoever asked for the
// close, yet an io_context destroyed mid-close still frees it (it destroys pending waits).
struct RpcSession::CloseGuard {
  explicit CloseGuard(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
};

struct RpcSession::PingState {
  explicit PingState(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool awaiting_pong = false;
  std::minstd_rand rng{std::random_device{}()};
};

RpcSession::RpcSession(executor_type executor, SessionOptions options, std::string identity,
                       std::shared_ptr<const HandlerTable> shared_handlers, SessionHooks hooks)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      logger_(options_.logger ? options_.logger : default_logger()),
      hooks_(std::move(hooks)),
      identity_(std::move(identity)),
      shared_handlers_(std::move(shared_handlers)) {
  if (options_.call_concurrency == 0) options_.call_concurrency = 1;
  check_strict_mode_options(options_.strict_mode);
  if (options_.rate_limit.global || !options_.rate_limit.per_action.empty())
    rate_limiter_ = std::make_unique<MessageRateLimiter>(options_.rate_limit, options_.clock);
}

// Nothing else owns the connection: it goes with its session.
RpcSession::~RpcSession() {
  if (transport_) transport_->terminate();
}

void RpcSession::log(LogLevel level, std::string_view message) const {
  logger_->log(level, "rpc", identity_, message);
}

HandlerTable& RpcSession::own_handlers() {
  if (!handlers_) handlers_ = std::make_unique<HandlerTable>();
  return *handlers_;
}

const Handler* RpcSession::find_handler(std::string_view action) const {
  if (handlers_)
    if (auto h = handlers_->find(protocol_, action)) return h;
  if (shared_handlers_) return shared_handlers_->find(protocol_, action);
  return nullptr;
}

void RpcSession::attach(std::shared_ptr<Transport> transport, std::string protocol) {
  transport_ = std::move(transport);
  set_protocol(std::move(protocol));
  state_ = ConnectionState::open;
  bad_messages_ = 0;
  transport_->start(std::shared_ptr<TransportSink>(shared_from_this(), static_cast<TransportSink*>(this)));
  start_pings();
  if (events_.open) events_.open();
  pump_queue();
}

void RpcSession::close(CloseOptions options) {
  close(std::move(options), [](CloseResult) {});
}

void RpcSession::start_close(CloseOptions options, CloseHandler handler) {
  asio::dispatch(executor_, [self = shared_from_this(), options = std::move(options),
                             wrapped = detail::MoveOnly(std::move(handler))]() mutable {
    auto& handler = wrapped.h;
    if (self->state_ == ConnectionState::closed && !self->closing_requested_) {
      auto result = self->last_close_.value_or(CloseResult{});
      complete_later(self->executor_, std::move(handler), std::move(result));
      return;
    }
    self->close_waiters_.push_back(std::move(handler));
    if (self->closing_requested_) {
      // A later force still tears the connection down; its code does not replace the first one.
      if (options.force && self->transport_) self->transport_->terminate();
      return;
    }
    self->closing_requested_ = true;
    self->close_guard_ = std::make_unique<CloseGuard>(self->executor_);
    self->close_guard_->timer.expires_at(asio::steady_timer::time_point::max());
    self->close_guard_->timer.async_wait([keep = self](boost::system::error_code) {});
    if (!is_sendable_close_code(options.code)) options.code = close_code::normal;
    self->close_options_ = options;
    if (self->state_ != ConnectionState::open) {
      self->on_close_while_not_open();
      return;
    }
    self->state_ = ConnectionState::closing;
    self->stop_pings();
    if (options.force) {
      self->transport_->terminate();
    } else if (options.await_pending) {
      self->drain_before_close_ = true;
      self->maybe_finish_drain();
    } else {
      self->fail_queued("Connection closing");
      self->fail_pending("Connection closing");
      self->cancel_inbound();
      self->transport_->close(options.code, options.reason);
    }
  });
}

void RpcSession::on_close_while_not_open() { finish_close({close_code::going_away, "Connection aborted"}); }

void RpcSession::maybe_finish_drain() {
  if (!drain_before_close_ || !pending_.empty() || !in_chain_.empty() || !queue_.empty() || !inbound_.empty()) return;
  drain_before_close_ = false;
  if (transport_) transport_->close(close_options_.code, close_options_.reason);
}

void RpcSession::finish_close(const CloseResult& result) {
  state_ = ConnectionState::closed;
  stop_pings();
  fail_queued("Connection closed");
  last_close_ = result;
  closing_requested_ = false;
  drain_before_close_ = false;
  if (close_guard_) close_guard_->timer.cancel();
  auto waiters = std::move(close_waiters_);
  close_waiters_.clear();
  for (auto& w : waiters) complete_later(executor_, std::move(w), result);
  if (auto finished = std::move(hooks_.finished)) finished(result);
  if (events_.close) events_.close(result);
}

void RpcSession::on_unexpected_close(const CloseResult& result) { finish_close(result); }

void RpcSession::on_closed(std::uint16_t code, std::string_view reason) {
  auto keep = shared_from_this();  // a close event may release the last outside reference
  transport_.reset();
  stop_pings();
  CloseResult result{code, std::string(reason)};
  std::string why = "Connection closed (" + std::to_string(code) + (reason.empty() ? "" : ": ") +
                    std::string(reason) + ")";
  fail_pending(why, code);
  cancel_inbound();
  clear_lanes();
  if (closing_requested_)
    finish_close(result);
  else
    on_unexpected_close(result);
}

// ---------------------------------------------------------------- outbound

void RpcSession::start_call(std::string action, json::value payload, CallOptions options, CallHandler handler,
                            std::optional<CallTarget> target) {
  asio::dispatch(executor_, [self = shared_from_this(), action = std::move(action), payload = std::move(payload),
                             options = std::move(options), wrapped = detail::MoveOnly(std::move(handler)),
                             target]() mutable {
    auto& handler = wrapped.h;
    auto fail_now = [&](std::exception_ptr e) { complete_later(self->executor_, std::move(handler), e, json::value()); };
    if (target)
      if (auto e = self->check_target(action, *target)) return fail_now(e);
    if (self->state_ == ConnectionState::closed || self->state_ == ConnectionState::closing)
      return fail_now(std::make_exception_ptr(ConnectionError(
          self->state_ == ConnectionState::closed ? "Cannot call: connection is closed"
                                                  : "Cannot call: connection is closing")));
    auto call = std::make_unique<OutCall>(std::move(handler));
    call->id = options.message_id.empty()
                   ? (self->options_.id_generator ? self->options_.id_generator() : random_message_id())
                   : std::move(options.message_id);
    if (call->id.empty() || call->id.size() > kMaxMessageIdLength)
      return fail_now(std::make_exception_ptr(Error("Message id must be 1 to 36 characters")));
    if (self->pending_.count(call->id))
      return fail_now(std::make_exception_ptr(Error("A call with message id " + call->id + " is already pending")));
    call->action = std::move(action);
    if (target) call->protocol = target->protocol;
    call->payload = std::move(payload);
    call->timeout = options.timeout.value_or(self->options_.call_timeout);
    call->serial = ++self->next_serial_;

    auto slot = call->handler.get_cancellation_slot();
    if (slot.is_connected()) {
      slot.assign([weak = std::weak_ptr<RpcSession>(self), id = call->id, serial = call->serial](asio::cancellation_type) {
        if (auto s = weak.lock())
          asio::dispatch(s->executor_, [s, id, serial] { s->cancel_call(id, serial); });
      });
    }

    if (self->state_ == ConnectionState::open && self->queue_.empty() &&
        self->calls_in_flight() < self->options_.call_concurrency) {
      self->write_call(std::move(call));
      return;
    }
    if (self->queue_.size() >= self->options_.max_queued_calls && !self->queue_.empty()) {
      auto oldest = std::move(self->queue_.front());
      self->queue_.pop_front();
      self->complete_call(*oldest, std::make_exception_ptr(ConnectionError("Call queue overflow")), {});
    }
    self->queue_.push_back(std::move(call));
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
    auto& handler = wrapped.h;
    std::string id;
    auto error = [&]() -> std::exception_ptr {
      if (target)
        if (auto e = self->check_target(action, *target)) return e;
      if (self->state_ != ConnectionState::open)
        return std::make_exception_ptr(ConnectionError("Cannot send: connection is not open"));
      if (!features_of(self->version_).send_frames)
        return std::make_exception_ptr(std::logic_error("SEND frames need ocpp2.1; negotiated " + self->protocol_));
      id = self->options_.id_generator ? self->options_.id_generator() : random_message_id();
      if (auto failure = self->strict_failure(action, false, payload)) {
        ValidationFailure e(action, false, *failure);
        self->report_validation_failure(ValidationPhase::outbound_call, MessageType::Send, action, id, payload,
                                        *failure, e.code());
        return std::make_exception_ptr(std::move(e));
      }
      return nullptr;
    }();
    if (!error) self->send_frame(serialize_send(id, action, payload), MessageType::Send, id, action);
    complete_later(self->executor_, std::move(handler), error);
  });
}

void RpcSession::set_call_concurrency(std::size_t n) {
  asio::dispatch(executor_, [self = shared_from_this(), n] {
    self->options_.call_concurrency = std::max<std::size_t>(1, n);
    self->pump_queue();
  });
}

void RpcSession::pump_queue() {
  const bool can_send = state_ == ConnectionState::open ||
                        (state_ == ConnectionState::closing && drain_before_close_);
  while (can_send && transport_ && !queue_.empty() && calls_in_flight() < options_.call_concurrency) {
    auto call = std::move(queue_.front());
    queue_.pop_front();
    write_call(std::move(call));
  }
  maybe_finish_drain();
}

void RpcSession::write_call(std::unique_ptr<OutCall> call) {
  if (middleware_.empty()) return send_call(std::move(call));
  Frame frame{MessageType::Call, call->id, call->action, std::move(call->payload)};
  std::string action = call->action;
  const auto serial = call->serial;
  in_chain_.push_back(std::move(call));
  through_middleware(MessagePhase::outgoing_call, std::move(frame), std::move(action),
                     [serial](RpcSession& s, detail::MessageStage& st) {
                       auto it = std::find_if(s.in_chain_.begin(), s.in_chain_.end(),
                                              [&](auto& c) { return c->serial == serial; });
                       if (it == s.in_chain_.end()) return;  // cancelled or failed meanwhile
                       auto call = std::move(*it);
                       s.in_chain_.erase(it);
                       if (st.rejected) return s.fail_unsent(std::move(call), std::make_exception_ptr(*st.rejected));
                       call->payload = std::move(st.frame.payload);
                       s.send_call(std::move(call));
                     });
}

void RpcSession::send_call(std::unique_ptr<OutCall> call) {
  // Checked here rather than when the call was made: a call made while connecting learns the
  // protocol only now.
  if (!call->protocol.empty() && call->protocol != protocol_)
    return fail_unsent(std::move(call), std::make_exception_ptr(UsageError(
                                            call->action + " of " + std::string(call->protocol) +
                                            " cannot be sent on an " + protocol_ + " connection")));
  if (auto failure = strict_failure(call->action, false, call->payload)) {
    ValidationFailure e(call->action, false, *failure);
    report_validation_failure(ValidationPhase::outbound_call, MessageType::Call, call->action, call->id,
                              call->payload, *failure, e.code());
    return fail_unsent(std::move(call), std::make_exception_ptr(std::move(e)));
  }
  std::string frame = serialize_call(call->id, call->action, call->payload);
  call->payload = nullptr;
  call->sent_at = std::chrono::steady_clock::now();
  call->timer.emplace(executor_);
  call->timer->expires_after(call->timeout);
  call->timer->async_wait([weak = weak_from_this(), id = call->id, serial = call->serial](boost::system::error_code ec) {
    if (ec) return;
    if (auto s = weak.lock()) s->on_call_timeout(id, serial);
  });
  OutCall& ref = *call;
  pending_.emplace(call->id, std::move(call));
  send_frame(std::move(frame), MessageType::Call, ref.id, ref.action);
}

// Never completes inline: write_call runs inside call()'s initiation when the connection is open.
void RpcSession::fail_unsent(std::unique_ptr<OutCall> call, std::exception_ptr error) {
  auto slot = call->handler.get_cancellation_slot();
  if (slot.is_connected()) slot.clear();
  complete_later(executor_, std::move(call->handler), error, json::value());
  maybe_finish_drain();
}

void RpcSession::complete_call(OutCall& call, std::exception_ptr error, json::value result) {
  if (call.timer) call.timer->cancel();
  auto slot = call.handler.get_cancellation_slot();
  if (slot.is_connected()) slot.clear();
  complete_now(std::move(call.handler), error, std::move(result));
}

void RpcSession::cancel_call(const std::string& id, std::uint64_t serial) {
  auto error = std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
  if (auto it = pending_.find(id); it != pending_.end() && it->second->serial == serial) {
    auto call = std::move(it->second);
    pending_.erase(it);
    complete_call(*call, error, {});
    pump_queue();
    return;
  }
  for (auto* list : {&queue_, &in_chain_}) {
    auto it = std::find_if(list->begin(), list->end(), [&](auto& c) { return c->serial == serial; });
    if (it == list->end()) continue;
    auto call = std::move(*it);
    list->erase(it);
    complete_call(*call, error, {});
    pump_queue();
    return;
  }
}

void RpcSession::on_call_timeout(const std::string& id, std::uint64_t serial) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second->serial != serial) return;
  auto call = std::move(it->second);
  pending_.erase(it);
  if (timed_out_ids_.size() >= 32) timed_out_ids_.erase(timed_out_ids_.begin());
  timed_out_ids_.push_back(id);
  complete_call(*call,
                std::make_exception_ptr(TimeoutError("Call to \"" + call->action + "\" timed out after " +
                                                     std::to_string(call->timeout.count()) + " ms")),
                {});
  pump_queue();
}

void RpcSession::fail_pending(const std::string& why, std::uint16_t code) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, call] : pending)
    complete_call(*call, std::make_exception_ptr(ConnectionError(why, code)), {});
  auto in_chain = std::move(in_chain_);
  in_chain_.clear();
  for (auto& call : in_chain) complete_call(*call, std::make_exception_ptr(ConnectionError(why, code)), {});
}

void RpcSession::fail_queued(const std::string& why) {
  auto queue = std::move(queue_);
  queue_.clear();
  for (auto& call : queue) complete_call(*call, std::make_exception_ptr(ConnectionError(why)), {});
}

void RpcSession::cancel_inbound() {
  auto inbound = std::move(inbound_);
  inbound_.clear();
  for (auto& [id, call] : inbound) {
    call->answered = true;
    call->cancel.emit(asio::cancellation_type::terminal);
  }
}

void RpcSession::send_frame(std::string frame, MessageType type, std::string_view id, std::string_view action,
                            std::string_view error_code) {
  if (!transport_) return;
  // Observed before it is handed over, so the frame is not copied.
  if (observed()) observe(MessageEvent{MessageDirection::out, type, id, action, frame, std::nullopt, error_code});
  transport_->send(std::move(frame));
}

void RpcSession::observe(const MessageEvent& e) {
  if (options_.exchange_log)
    log_exchange(*logger_, LogLevel::info, "rpc", identity_,
                 Exchange{.inbound = e.direction == MessageDirection::in, .type = e.type, .message_id = e.message_id,
                          .action = e.action, .latency_ms = e.latency_ms, .error_code = e.error_code});
  if (hooks_.message) hooks_.message(e);
  if (events_.message) events_.message(e);
}

// ---------------------------------------------------------------- inbound

void RpcSession::on_frame(std::string_view text) {
  if (text.empty() && options_.ignore_empty_frames) return;
  ParseResult r = parse_frame(text, version_, options_.parse);
  if (!r.ok()) return on_bad_frame(text, r.error);
  Frame& f = r.frame;
  switch (f.type) {
    case MessageType::Call:
    case MessageType::Send:
      if (observed()) observe(MessageEvent{MessageDirection::in, f.type, f.id, f.action, text, std::nullopt});
      if (rate_limiter_ && !rate_limiter_->allow(f.action)) return over_rate_limit(f);
      if (!middleware_.empty()) {
        std::string action = f.action;
        return through_middleware(MessagePhase::incoming_call, std::move(f), std::move(action),
                                  [](RpcSession& s, detail::MessageStage& st) {
                                    if (!st.rejected) return s.handle_call(st.frame);
                                    if (st.frame.type == MessageType::Call)
                                      s.answer_error(st.frame.id, st.action, std::make_exception_ptr(*st.rejected));
                                  });
      }
      handle_call(f);
      break;
    case MessageType::CallResult:
    case MessageType::CallError:
      if (observed()) {
        auto it = pending_.find(f.id);
        std::optional<double> latency;
        std::string_view action;
        if (it != pending_.end()) {
          action = it->second->action;
          latency = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              it->second->sent_at)
                        .count();
        }
        observe(MessageEvent{MessageDirection::in, f.type, f.id, action, text, latency, f.error_code_text});
      }
      if (!middleware_.empty()) {
        auto it = pending_.find(f.id);
        std::string action = it != pending_.end() ? it->second->action : std::string();
        const auto phase = f.type == MessageType::CallResult ? MessagePhase::incoming_result : MessagePhase::incoming_error;
        return through_middleware(phase, std::move(f), std::move(action), [](RpcSession& s, detail::MessageStage& st) {
          if (!st.rejected) return s.handle_response(st.frame);
          auto it = s.pending_.find(st.frame.id);
          if (it == s.pending_.end()) return;
          auto call = std::move(it->second);
          s.pending_.erase(it);
          s.complete_call(*call, std::make_exception_ptr(*st.rejected), {});
          s.pump_queue();
        });
      }
      handle_response(f);
      break;
    case MessageType::CallResultError:
      if (observed()) observe(MessageEvent{MessageDirection::in, f.type, f.id, {}, text, std::nullopt, f.error_code_text});
      bad_messages_ = 0;
      log(LogLevel::warn, "CALLRESULTERROR for " + f.id + ": " + f.error_code_text + " " + f.description);
      if (events_.call_result_error)
        events_.call_result_error(CallResultErrorEvent{f.id, f.error_code_text, f.description, f.details});
      break;
  }
}

void RpcSession::over_rate_limit(const Frame& f) {
  const auto taken = options_.rate_limit.on_exceeded;
  log(LogLevel::warn, "rate limit exceeded by " + f.action + " " + f.id);
  RateLimitEvent event{f.action, f.id, taken};
  if (events_.rate_limit) events_.rate_limit(event);
  if (hooks_.rate_limited) hooks_.rate_limited(event);
  if (taken == LimitAction::disconnect && state_ == ConnectionState::open)
    close(CloseOptions{close_code::policy_violation, "Rate limit exceeded", false, false});
}

void RpcSession::on_bad_frame(std::string_view raw, const FrameError& error) {
  std::string reply;
  if (error.reply) {
    const auto code = wire_name(error.code, version_);
    reply = serialize_call_error(error.id, code, error.message, {});
    send_frame(reply, MessageType::CallError, error.id, {}, code);
  }
  if (error.is_response) {
    // A malformed answer to one of our calls: fail that call now rather than let it time out, and
    // on ocpp2.1 tell the peer with a CALLRESULTERROR (there is no frame for it before 2.1).
    if (auto it = pending_.find(error.id); it != pending_.end()) {
      auto call = std::move(it->second);
      pending_.erase(it);
      complete_call(*call, std::make_exception_ptr(RpcError(ErrorCode::FormatViolation, error.message)), {});
      if (error.type == MessageType::CallResult && features_of(version_).call_result_errors) {
        const auto code = wire_name(ErrorCode::FormatViolation, version_);
        reply = serialize_call_result_error(error.id, code, error.message, {});
        send_frame(reply, MessageType::CallResultError, error.id, call->action, code);
      }
      pump_queue();
    }
  }
  log(LogLevel::warn, "bad message: " + error.message);
  if (events_.bad_message) events_.bad_message(BadMessageEvent{raw, error.message, reply});
  count_bad_message();
}

void RpcSession::count_bad_message() {
  if (++bad_messages_ > options_.max_bad_messages && state_ == ConnectionState::open)
    close(CloseOptions{close_code::protocol_error, "Too many bad messages", false, false});
}

void RpcSession::handle_call(Frame& f) {
  const bool is_send = f.type == MessageType::Send;
  if (!is_send && inbound_.count(f.id)) {
    const auto code = wire_name(ErrorCode::RpcFrameworkError, version_);
    std::string reply = serialize_call_error(f.id, code, "Already processing a call with message id " + f.id, {});
    send_frame(reply, MessageType::CallError, f.id, f.action, code);
    if (events_.bad_message) events_.bad_message(BadMessageEvent{{}, "duplicate message id", reply});
    count_bad_message();
    return;
  }
  bad_messages_ = 0;
  const Handler* handler = find_handler(f.action);
  if (!handler) {
    if (is_send) {
      log(LogLevel::warn, "no handler for SEND " + f.action);
      return;
    }
    answer_error(f.id, f.action,
                 std::make_exception_ptr(RpcError(ErrorCode::NotImplemented,
                                                  "Action " + f.action + " is not known by the receiver")));
    return;
  }

  if (auto failure = strict_failure(f.action, false, f.payload)) {
    // A schema-less action refused by reject_unknown_actions is unknown to us, not malformed.
    auto error = failure->keyword == "action"
                     ? std::make_exception_ptr(RpcError(ErrorCode::NotImplemented, failure->message))
                     : std::make_exception_ptr(ValidationFailure(f.action, false, *failure));
    ErrorCode code = failure->keyword == "action" ? ErrorCode::NotImplemented : error_code_for_keyword(failure->keyword);
    report_validation_failure(ValidationPhase::inbound_call, f.type, f.action, f.id, f.payload, *failure, code);
    if (!is_send) answer_error(f.id, f.action, error);
    return;
  }

  CallContext ctx{std::move(f.action), std::move(f.id), std::move(f.payload), protocol_, identity_, is_send,
                  shared_from_this()};
  if (handler->sync) {
    try {
      HandlerResult result = handler->sync(ctx);
      if (!is_send) answer(ctx.message_id, ctx.action, std::move(result));
    } catch (...) {
      if (!is_send)
        answer_error(ctx.message_id, ctx.action, std::current_exception());
      else
        log(LogLevel::warn, "SEND handler for " + ctx.action + " failed");
    }
    return;
  }

  auto call = std::make_shared<InboundCall>();
  call->session = weak_from_this();
  call->executor = executor_;
  call->id = is_send ? "send:" + ctx.message_id : ctx.message_id;
  call->action = ctx.action;
  call->is_send = is_send;
  inbound_.emplace(call->id, call);
  AsyncHandler fn = handler->async;  // the table may change while the handler runs
  try {
    fn(ctx, Responder(call));
  } catch (...) {
    Responder(call).fail(std::current_exception());
  }
}

void RpcSession::answer(const std::string& id, const std::string& action, HandlerResult result) {
  if (result.is_no_reply() || id.starts_with("send:")) return;
  if (middleware_.empty()) return send_result(id, action, std::move(result.value()));
  through_middleware(MessagePhase::outgoing_result, Frame{MessageType::CallResult, id, action, std::move(result.value())},
                     action, [](RpcSession& s, detail::MessageStage& st) {
                       if (!st.rejected) return s.send_result(st.frame.id, st.action, std::move(st.frame.payload));
                       const auto& e = *st.rejected;
                       s.send_error(st.frame.id, st.action, e.code(), e.description(), e.details());
                     });
}

void RpcSession::send_result(const std::string& id, const std::string& action, json::value payload) {
  if (auto failure = strict_failure(action, true, payload)) {
    // The peer never sees an invalid payload from us; the details stay in our log and event.
    report_validation_failure(ValidationPhase::handler_result, MessageType::CallResult, action, id, payload,
                              *failure, ErrorCode::InternalError);
    return send_error(id, action, ErrorCode::InternalError, "The response failed schema validation", {});
  }
  send_frame(serialize_call_result(id, payload), MessageType::CallResult, id, action);
}

void RpcSession::answer_error(const std::string& id, const std::string& action, std::exception_ptr error) {
  if (id.starts_with("send:")) {
    log(LogLevel::warn, "SEND handler for " + action + " failed");
    return;
  }
  ErrorCode code = ErrorCode::InternalError;
  std::string description;
  json::object details;
  try {
    std::rethrow_exception(error);
  } catch (const RpcError& e) {
    code = e.code();
    description = e.description();
    details = e.details();
  } catch (const std::exception& e) {
    log(LogLevel::error, "handler for " + action + " threw: " + e.what());
    if (options_.respond_with_detailed_errors) {
      description = e.what();
      details["message"] = e.what();
    }
  } catch (...) {
    log(LogLevel::error, "handler for " + action + " threw a non-exception");
  }
  if (description.empty()) description = default_description(code);
  if (middleware_.empty()) return send_error(id, action, code, description, details);
  Frame frame{MessageType::CallError, id, action, {}, code, std::string(wire_name(code, version_)), description, details};
  through_middleware(MessagePhase::outgoing_error, std::move(frame), action, [](RpcSession& s, detail::MessageStage& st) {
    if (st.rejected) {
      const auto& e = *st.rejected;
      return s.send_error(st.frame.id, st.action, e.code(), e.description(), e.details());
    }
    // A middleware may have changed the code's text; the enum follows it.
    const auto& f = st.frame;
    s.send_error(f.id, st.action, parse_error_code(f.error_code_text), f.description, f.details);
  });
}

void RpcSession::send_error(const std::string& id, const std::string& action, ErrorCode code,
                            const std::string& description, const json::object& details) {
  const auto wire = wire_name(code, version_);
  send_frame(serialize_call_error(id, wire, description, details), MessageType::CallError, id, action, wire);
}

void RpcSession::handle_response(Frame& f) {
  auto it = pending_.find(f.id);
  if (it == pending_.end()) {
    const bool late = std::find(timed_out_ids_.begin(), timed_out_ids_.end(), f.id) != timed_out_ids_.end();
    std::string why = late ? "late answer to a call that timed out: " + f.id : "answer to an unknown message id: " + f.id;
    log(LogLevel::info, why);
    if (events_.bad_message) events_.bad_message(BadMessageEvent{{}, why, {}});
    if (!late && options_.count_unknown_responses) count_bad_message();
    return;
  }
  bad_messages_ = 0;
  auto call = std::move(it->second);
  pending_.erase(it);
  if (f.type == MessageType::CallResult) {
    if (auto failure = strict_failure(call->action, true, f.payload)) {
      ValidationFailure e(call->action, true, *failure);
      report_validation_failure(ValidationPhase::inbound_result, MessageType::CallResult, call->action, f.id,
                                f.payload, *failure, e.code());
      if (features_of(version_).call_result_errors) {
        const auto code = wire_name(e.code(), version_);
        send_frame(serialize_call_result_error(f.id, code, e.description(), e.details()), MessageType::CallResultError,
                   f.id, call->action, code);
      }
      complete_call(*call, std::make_exception_ptr(std::move(e)), {});
    } else {
      complete_call(*call, nullptr, std::move(f.payload));
    }
  } else {
    complete_call(*call,
                  std::make_exception_ptr(RpcError(std::move(f.error_code_text), std::move(f.description),
                                                   std::move(f.details))),
                  {});
  }
  pump_queue();
}

// ---------------------------------------------------------------- keep-alive

void RpcSession::start_pings() {
  if (options_.ping_interval.count() <= 0) return;
  if (!ping_) ping_ = std::make_unique<PingState>(executor_);
  ping_->awaiting_pong = false;
  schedule_ping();
}

void RpcSession::schedule_ping() {
  const auto base = options_.ping_interval.count();
  std::uniform_int_distribution<long long> jitter(base * 3 / 4, base * 5 / 4);
  ping_->timer.expires_after(milliseconds(jitter(ping_->rng)));
  ping_->timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    auto s = weak.lock();
    if (!s || !s->transport_ || !s->ping_) return;
    s->ping_->awaiting_pong = true;
    s->transport_->ping();
    s->ping_->timer.expires_after(s->options_.pong_timeout.value_or(s->options_.ping_interval + milliseconds(5000)));
    s->ping_->timer.async_wait([weak](boost::system::error_code ec) {
      if (ec) return;
      auto s = weak.lock();
      if (!s || !s->transport_ || !s->ping_ || !s->ping_->awaiting_pong) return;
      s->log(LogLevel::warn, "no pong in time; dropping the connection");
      if (s->events_.pong_timeout) s->events_.pong_timeout();
      s->transport_->terminate();
    });
  });
}

void RpcSession::on_pong() {
  if (!ping_ || !ping_->awaiting_pong) return;
  ping_->awaiting_pong = false;
  schedule_ping();
}

void RpcSession::stop_pings() {
  if (ping_) {
    ping_->awaiting_pong = false;
    ping_->timer.cancel();
  }
}

}  // namespace ocpp
