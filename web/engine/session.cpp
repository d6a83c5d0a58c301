// The browser shell of the RPC engine: frames, timers and handlers go through JavaScript.
#include "session.hpp"

#include "host.hpp"
#include "json_out.hpp"

namespace ocpp::web {
namespace json = boost::json;

// An inbound CALL whose JavaScript handler answers later.
struct WebSession::Tracked final : InboundHandle {
  std::weak_ptr<WebSession> session;
  int token = 0;
  void cancel() noexcept override {
    if (auto s = session.lock()) {
      s->tracked_.erase(token);
      ocpp_host_cancel(s->client(), token);
    }
  }
};

namespace {

// A handler is JavaScript's; the engine only needs to know that there is one.
const int kJavaScriptHandler = 0;

void emit(int client, const json::object& event) {
  const auto text = to_text(event);
  ocpp_host_event(client, text.data(), text.size());
}

}  // namespace

WebSession::WebSession(int client, std::shared_ptr<const SessionOptions> options, std::string identity)
    : client_(client), engine_(*this, std::move(options), std::move(identity)) {}

// Only events someone listens to are turned into JSON: every frame has a message event.
void WebSession::listen(std::string_view event, bool on) {
  auto& ev = engine_.events();
  const int c = client_;
  if (event == "message")
    ev.message = on ? decltype(ev.message)([c](const MessageEvent& e) { emit(c, to_json(e)); }) : nullptr;
  else if (event == "badMessage")
    ev.bad_message = on ? decltype(ev.bad_message)([c](const BadMessageEvent& e) { emit(c, to_json(e)); }) : nullptr;
  else if (event == "validationFailure")
    ev.validation_failure = on ? decltype(ev.validation_failure)([this](const ValidationFailureEvent& e) {
      emit(client_, to_json(e, protocol_version(engine_.protocol())));
    }) : nullptr;
  else if (event == "callResultError")
    ev.call_result_error =
        on ? decltype(ev.call_result_error)([c](const CallResultErrorEvent& e) { emit(c, to_json(e)); }) : nullptr;
}

void WebSession::write(std::string frame) { ocpp_host_write(client_, frame.data(), frame.size()); }

void WebSession::close_transport(std::uint16_t code, std::string_view reason) {
  ocpp_host_close(client_, code, reason.data(), reason.size());
}

void WebSession::terminate_transport() { ocpp_host_terminate(client_); }

void WebSession::close_session(CloseOptions options) {
  if (engine_.close(std::move(options)) == CloseStart::not_open) engine_.finish({1001, "Connection aborted"});
}

HandlerRef WebSession::find_handler(std::string_view action) {
  return ocpp_host_has_handler(client_, action.data(), action.size()) ? &kJavaScriptHandler : nullptr;
}

void WebSession::run_handler(HandlerRef, InboundRequest& call) {
  auto handle = std::make_shared<Tracked>();
  handle->session = weak_from_this();
  handle->token = ++next_token_;
  handle->id = call.id;
  handle->action = call.action;
  handle->is_send = call.is_send;
  tracked_[handle->token] = handle;
  engine_.track(handle);
  json::object in(5);
  in.emplace("action", call.action);
  in.emplace("messageId", call.id);
  in.emplace("params", std::move(call.params));
  in.emplace("isSend", call.is_send);
  in.emplace("protocol", engine_.protocol());
  const auto text = to_text(in);
  ocpp_host_handle(client_, handle->token, text.data(), text.size());
}

void WebSession::answer(int token, Reply reply) {
  auto it = tracked_.find(token);
  if (it == tracked_.end()) return;  // cancelled by a close, or answered already
  auto handle = std::move(it->second);
  tracked_.erase(it);
  engine_.answer_tracked(handle, std::move(reply));
}

void WebSession::schedule(std::optional<TimePoint> deadline) {
  if (!deadline) return ocpp_host_schedule(client_, -1);
  const auto wait = std::chrono::duration<double, std::milli>(*deadline - engine_.now()).count();
  ocpp_host_schedule(client_, wait < 0 ? 0 : wait);
}

void WebSession::post_advance(std::shared_ptr<detail::MessageStage> stage, std::size_t step) {
  posted_.emplace_back(std::move(stage), step);
  if (posted_.size() == 1) ocpp_host_post(client_);
}

void WebSession::run_posted() {
  auto posted = std::move(posted_);
  posted_.clear();
  for (auto& [stage, step] : posted) engine_.advance(stage, step);
}

std::weak_ptr<EngineHost> WebSession::weak_host() {
  return std::shared_ptr<EngineHost>(shared_from_this(), static_cast<EngineHost*>(this));
}

}  // namespace ocpp::web
