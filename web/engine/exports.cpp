// The functions ocpp.js calls. Strings come as (pointer, size) into memory ocpp.js allocated with
// malloc and frees; a string returned is valid until the next call that returns one.
#include <emscripten/emscripten.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "host.hpp"
#include "json_out.hpp"
#include "ocpp/rpc/json_text.hpp"
#include "ocpp/rpc/protocol.hpp"
#include "session.hpp"

namespace ocpp::web {
namespace {
namespace json = boost::json;

std::string g_returned;

const char* give(std::string s) {
  g_returned = std::move(s);
  return g_returned.c_str();
}

std::string_view text(const char* p, std::size_t n) { return {p, n}; }

std::size_t count_option(const json::object& o, std::string_view key, std::size_t fallback) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_number()) return fallback;
  // Not to_number<double>(): its system_error would link Boost.JSON's table of messages (2 KB gzipped).
  const double d = v->is_double() ? v->get_double()
                   : v->is_int64() ? static_cast<double>(v->get_int64())
                                   : static_cast<double>(v->get_uint64());
  if (!std::isfinite(d) || d >= 1e15) return std::numeric_limits<std::size_t>::max();
  return d < 0 ? 0 : static_cast<std::size_t>(d);
}

std::vector<std::string> strings(const json::value* v) {
  std::vector<std::string> out;
  if (v && v->is_array())
    for (const auto& s : v->get_array())
      if (s.is_string()) out.emplace_back(s.get_string());
  return out;
}

// ocpp.js's option names; what it leaves out keeps the native defaults.
std::shared_ptr<const SessionOptions> session_options(const json::object& o) {
  SessionOptions s;
  s.logger = null_logger();  // ocpp.js reports through events; a console is the page's choice
  s.call_timeout = milliseconds(count_option(o, "callTimeoutMs", s.call_timeout.count()));
  s.call_concurrency = std::max<std::size_t>(1, count_option(o, "callConcurrency", s.call_concurrency));
  s.max_queued_calls = count_option(o, "maxQueuedCalls", s.max_queued_calls);
  s.max_bad_messages = count_option(o, "maxBadMessages", s.max_bad_messages);
  s.max_frame_bytes = count_option(o, "maxFrameBytes", s.max_frame_bytes);
  if (const auto* v = o.if_contains("respondWithDetailedErrors"); v && v->is_bool())
    s.respond_with_detailed_errors = v->get_bool();
  if (const auto* v = o.if_contains("strictMode")) {
    s.strict_mode.enabled = v->is_array() || (v->is_bool() && v->get_bool());
    s.strict_mode.protocols = strings(v);
  }
  s.strict_mode.methods = strings(o.if_contains("strictModeMethods"));
  if (const auto* v = o.if_contains("lenientDateTime"); v && v->is_bool()) s.strict_mode.lenient_date_time = v->get_bool();
  if (const auto* v = o.if_contains("rejectUnknownActions"); v && v->is_bool())
    s.strict_mode.reject_unknown_actions = v->get_bool();
  check_strict_mode_options(s.strict_mode);
  return complete_options(std::make_shared<const SessionOptions>(std::move(s)));
}

// An outbound CALL whose end goes back to ocpp.js under the token it chose.
class WebCall final : public OutboundCall {
 public:
  WebCall(int client, int token, ProtocolVersion version) : client_(client), token_(token), version_(version) {}
  void complete(std::optional<Failure> failure, json::value result, bool) override {
    // In the result's storage, so that it moves in rather than being copied.
    json::object o(result.storage());
    if (failure)
      o["failure"] = to_json(*failure, version_);
    else
      o["result"] = std::move(result);
    const auto s = to_text(o);
    ocpp_host_call_done(client_, token_, s.data(), s.size());
  }

 private:
  int client_, token_;
  ProtocolVersion version_;
};

// A known action is checked for direction as the native typed calls are; others go untyped.
std::optional<CallTarget> target_of(const RpcEngine& engine, std::string_view action) {
  if (const auto* info = strict_action(protocol_version(engine.protocol()), action))
    return CallTarget{engine.protocol(), info->direction};
  return std::nullopt;
}

// Throws std::invalid_argument for an answer that is not {"result"...}, {"error": {...}} or {}.
Reply reply_of(const json::value& v) {
  const auto& o = object_of(v);
  if (const auto* r = o.if_contains("result")) return Reply::result(*r);
  if (const auto* e = o.if_contains("error")) {
    const auto& err = object_of(*e);
    const auto* code = err.if_contains("code");
    const auto* description = err.if_contains("description");
    const auto* details = err.if_contains("details");
    return Reply::error(code && code->is_string() ? parse_error_code(code->get_string()) : ErrorCode::InternalError,
                        description && description->is_string() ? std::string(description->get_string()) : "",
                        details && details->is_object() ? details->get_object() : json::object{});
  }
  return Reply::none();
}

std::map<int, std::shared_ptr<WebSession>> g_sessions;

WebSession* session(int client) {
  auto it = g_sessions.find(client);
  return it == g_sessions.end() ? nullptr : it->second.get();
}

}  // namespace
}  // namespace ocpp::web

using namespace ocpp;
using namespace ocpp::web;

extern "C" {

// The last string result, and the reason of the last failed ocpp_web_create().
EMSCRIPTEN_KEEPALIVE const char* ocpp_web_returned() { return g_returned.c_str(); }
EMSCRIPTEN_KEEPALIVE std::size_t ocpp_web_returned_size() { return g_returned.size(); }

// Returns 0, or -1 with the reason in the returned string.
EMSCRIPTEN_KEEPALIVE int ocpp_web_create(int client, const char* identity, std::size_t identity_size,
                                         const char* options, std::size_t options_size) {
  try {
    auto o = object_of(parse_json(text(options, options_size)));
    auto s = std::make_shared<WebSession>(client, session_options(o), std::string(identity, identity_size));
    s->engine().set_role(Role::charging_station);
    g_sessions[client] = std::move(s);
    return 0;
  } catch (const std::exception& e) {
    give(e.what());
    return -1;
  }
}

EMSCRIPTEN_KEEPALIVE void ocpp_web_destroy(int client) { g_sessions.erase(client); }

EMSCRIPTEN_KEEPALIVE void ocpp_web_set_connecting(int client) {
  if (auto* s = session(client)) s->engine().set_state(ConnectionState::connecting);
}

// The socket is open with `protocol`: what was queued goes out.
EMSCRIPTEN_KEEPALIVE void ocpp_web_open(int client, const char* protocol, std::size_t size) {
  if (auto* s = session(client)) {
    s->engine().open(std::string(protocol, size));
    s->engine().resume();
  }
}

EMSCRIPTEN_KEEPALIVE void ocpp_web_frame(int client, const char* frame, std::size_t size) {
  if (auto* s = session(client)) s->engine().on_frame(text(frame, size));
}

// The socket closed. Returns 1 when a close() had asked for it (the client is done: call
// ocpp_web_finish), 0 when it was unexpected (reconnect, or finish).
EMSCRIPTEN_KEEPALIVE int ocpp_web_transport_closed(int client, int code, const char* reason, std::size_t size) {
  auto* s = session(client);
  return s && s->engine().on_transport_closed(static_cast<std::uint16_t>(code), text(reason, size)) ? 1 : 0;
}

// Closed for good: queued calls fail.
EMSCRIPTEN_KEEPALIVE void ocpp_web_finish(int client, int code, const char* reason, std::size_t size) {
  if (auto* s = session(client)) s->engine().finish({static_cast<std::uint16_t>(code), std::string(reason, size)});
}

// What engine.close() said: 0 already closed, 1 joined, 2 not open, 3 started.
EMSCRIPTEN_KEEPALIVE int ocpp_web_close(int client, int code, const char* reason, std::size_t size,
                                        int await_pending, int force) {
  auto* s = session(client);
  if (!s) return 0;
  return static_cast<int>(s->engine().close(
      CloseOptions{static_cast<std::uint16_t>(code), std::string(reason, size), await_pending != 0, force != 0}));
}

EMSCRIPTEN_KEEPALIVE void ocpp_web_listen(int client, const char* event, std::size_t size, int on) {
  if (auto* s = session(client)) s->listen(text(event, size), on != 0);
}

EMSCRIPTEN_KEEPALIVE void ocpp_web_timer(int client) {
  if (auto* s = session(client)) s->engine().on_timer();
}

EMSCRIPTEN_KEEPALIVE void ocpp_web_run_posted(int client) {
  if (auto* s = session(client)) s->run_posted();
}

// A CALL; its end comes through ocpp_host_call_done(client, token). Returns the serial for
// ocpp_web_cancel (0: it has ended already). A negative timeout keeps the client's.
EMSCRIPTEN_KEEPALIVE double ocpp_web_call(int client, int token, const char* action, std::size_t action_size,
                                          const char* payload, std::size_t payload_size, double timeout_ms,
                                          const char* id, std::size_t id_size) {
  auto* s = session(client);
  if (!s) return 0;
  auto& engine = s->engine();
  auto call = std::make_unique<WebCall>(client, token, protocol_version(engine.protocol()));
  call->action.assign(action, action_size);
  call->id.assign(id, id_size);
  if (timeout_ms >= 0) call->timeout = milliseconds(static_cast<long long>(timeout_ms));
  try {
    adopt(call->payload, parse_json(text(payload, payload_size)));
  } catch (const std::exception& e) {
    call->complete(Failure{FailureKind::invalid, std::string("payload is not JSON: ") + e.what()}, {}, true);
    return 0;
  }
  const auto target = target_of(engine, call->action);
  return static_cast<double>(engine.call(std::move(call), target));
}

EMSCRIPTEN_KEEPALIVE void ocpp_web_cancel(int client, double serial) {
  if (auto* s = session(client)) s->engine().cancel(static_cast<std::uint64_t>(serial));
}

// An ocpp2.1 SEND: "" when it went out, else the failure as JSON.
EMSCRIPTEN_KEEPALIVE const char* ocpp_web_send(int client, const char* action, std::size_t action_size,
                                               const char* payload, std::size_t payload_size) {
  auto* s = session(client);
  if (!s) return give(R"({"kind":"connection","message":"no such client"})");
  auto& engine = s->engine();
  std::optional<Failure> failure;
  try {
    const auto value = parse_json(text(payload, payload_size));
    failure = engine.send(text(action, action_size), value, target_of(engine, text(action, action_size)));
  } catch (const std::exception& e) {
    failure = Failure{FailureKind::invalid, std::string("payload is not JSON: ") + e.what()};
  }
  return give(failure ? to_text(to_json(*failure, protocol_version(engine.protocol()))) : "");
}

// A handler's answer: {"result": payload} | {"error": {code, description, details}} | {} (none).
EMSCRIPTEN_KEEPALIVE void ocpp_web_answer(int client, int token, const char* reply, std::size_t size) {
  auto* s = session(client);
  if (!s) return;
  Reply r = Reply::error(ErrorCode::InternalError, "The handler's answer is not JSON");
  try {
    r = reply_of(parse_json(text(reply, size)));
  } catch (const std::exception&) {
  }
  s->answer(token, std::move(r));
}

// Strict mode's check alone: "" when valid, else {path, keyword, message, code}; -1 size for an
// unknown protocol or action.
EMSCRIPTEN_KEEPALIVE const char* ocpp_web_validate(const char* protocol, std::size_t protocol_size,
                                                   const char* action, std::size_t action_size, int response,
                                                   const char* payload, std::size_t payload_size) {
  const auto version = protocol_version(text(protocol, protocol_size));
  const auto* info = strict_action(version, text(action, action_size));
  const auto fn = info ? (response ? info->validate_response : info->validate_request) : nullptr;
  if (!fn) return give(R"({"keyword":"action","code":"NotImplemented","path":"","message":"no schema"})");
  std::optional<json::value> value;  // emplaced: assigning would copy it out of the reader's storage
  try {
    value.emplace(parse_json(text(payload, payload_size)));
  } catch (const std::exception& e) {
    json::object o(4);
    o.emplace("keyword", "json");
    o.emplace("code", "FormatViolation");
    o.emplace("path", "");
    o.emplace("message", e.what());
    return give(to_text(o));
  }
  schema::ValidationError error;
  if (fn(*value, {}, &error)) return give("");
  return give(to_text(to_json(error, version)));
}

}  // extern "C"
