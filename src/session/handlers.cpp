// Inbound handlers: the tables, running a handler for the engine, and the Responder through which
// an asynchronous handler answers from any thread.
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>

#include <algorithm>
#include <atomic>

#include "ocpp/session/session.hpp"

namespace ocpp {
namespace asio = boost::asio;
namespace json = boost::json;

namespace detail {

// One inbound CALL answered asynchronously. Shared by the Responder and the engine's in-progress
// table; the first answer wins, and answers are delivered on the session's executor.
struct InboundCall final : InboundHandle {
  std::weak_ptr<RpcSession> session;
  asio::any_io_executor executor;
  std::atomic<bool> answered{false};
  asio::cancellation_signal cancel_signal;

  void cancel() noexcept override {
    answered = true;
    auto s = session.lock();
    CallbackGate::Scope scope(s ? s->engine_.hooks().gate.get() : nullptr);
    if (scope) cancel_signal.emit(asio::cancellation_type::terminal);  // runs the handler's slot
  }

  static void finish(std::shared_ptr<InboundCall> call, Reply reply) {
    auto s = call->session.lock();
    if (!s) return;
    auto ex = call->executor;
    asio::dispatch(ex, [call = std::move(call), s = std::move(s), reply = std::move(reply)]() mutable {
      if (call->answered.exchange(true))
        return s->log(LogLevel::debug, "answer to " + call->action + " " + call->id +
                                           " dropped: the call was cancelled by a close or answered already");
      s->engine_.answer_tracked(call, std::move(reply));
    });
  }
};

}  // namespace detail

using detail::InboundCall;

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
  if (call_) InboundCall::finish(std::move(call_), Reply::result(std::move(payload)));
}

void Responder::fail(std::exception_ptr error) {
  if (!call_) return;
  auto call = std::move(call_);
  auto s = call->session.lock();
  if (!s) return;
  auto reply = call->is_send ? Reply::error(ErrorCode::InternalError) : s->reply_for(call->action, error);
  InboundCall::finish(std::move(call), std::move(reply));
}

void Responder::no_reply() {
  if (call_) InboundCall::finish(std::move(call_), Reply::none());
}

asio::cancellation_slot Responder::cancellation_slot() const {
  return call_ ? call_->cancel_signal.slot() : asio::cancellation_slot();
}

void RpcSession::deliver(Responder& r, HandlerResult result) {
  if (result.is_no_reply())
    r.no_reply();
  else
    r.result(std::move(result.value()));
}

HandlerTable& RpcSession::own_handlers() {
  if (!handlers_) handlers_ = std::make_unique<HandlerTable>();
  return *handlers_;
}

HandlerRef RpcSession::find_handler(std::string_view action) {
  if (handlers_)
    if (auto h = handlers_->find(protocol(), action)) return h;
  if (shared_handlers_) return shared_handlers_->find(protocol(), action);
  return nullptr;
}

Reply RpcSession::reply_for(std::string_view action, std::exception_ptr error) const {
  try {
    std::rethrow_exception(error);
  } catch (const RpcError& e) {
    return Reply::error(e.code(), e.description(), e.details());
  } catch (const std::exception& e) {
    log(LogLevel::error, "handler for " + std::string(action) + " threw: " + e.what());
    if (options().respond_with_detailed_errors)
      return Reply::error(ErrorCode::InternalError, e.what(), json::object{{"message", e.what()}});
  } catch (...) {
    log(LogLevel::error, "handler for " + std::string(action) + " threw a non-exception");
  }
  return Reply::error(ErrorCode::InternalError);
}

void RpcSession::run_handler(HandlerRef ref, InboundRequest& in) {
  CallbackGate::Scope scope(engine_.hooks().gate.get());
  if (!scope) return;  // the owner is gone and the connection closing: no answer is read any more
  const auto& handler = *static_cast<const Handler*>(ref);
  CallContext ctx{std::move(in.action), std::move(in.id), std::move(in.params), protocol(), identity(), in.is_send,
                  shared_from_this()};
  if (handler.sync) {
    std::optional<HandlerResult> result;
    try {
      result.emplace(handler.sync(ctx));
    } catch (...) {
      auto reply = ctx.is_send ? Reply::error(ErrorCode::InternalError) : reply_for(ctx.action, std::current_exception());
      return engine_.answer(ctx.message_id, ctx.action, ctx.is_send, std::move(reply));
    }
    if (!result->is_no_reply()) engine_.answer_result(ctx.message_id, ctx.action, ctx.is_send, result->value());
    return;
  }
  auto call = std::make_shared<detail::InboundCall>();
  call->session = weak_from_this();
  call->executor = executor_;
  call->id = ctx.message_id;
  call->action = ctx.action;
  call->is_send = ctx.is_send;
  engine_.track(call);
  AsyncHandler fn = handler.async;  // the table may change while the handler runs
  try {
    fn(ctx, Responder(call));
  } catch (...) {
    Responder(call).fail(std::current_exception());
  }
}

}  // namespace ocpp
