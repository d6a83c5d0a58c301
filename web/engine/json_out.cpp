#include "json_out.hpp"

#include <stdexcept>

#include "ocpp/rpc/json_text.hpp"

namespace ocpp::web {
namespace json = boost::json;

// Objects are built by emplace, not from initializer lists: value_ref's conversions were 5 KB of
// the browser engine.
namespace {

std::string_view type_name(MessageType t) noexcept {
  switch (t) {
    case MessageType::Call: return "CALL";
    case MessageType::CallResult: return "CALLRESULT";
    case MessageType::CallError: return "CALLERROR";
    case MessageType::CallResultError: return "CALLRESULTERROR";
    case MessageType::Send: return "SEND";
  }
  return "";
}

std::string_view phase_name(ValidationPhase p) noexcept {
  switch (p) {
    case ValidationPhase::inbound_call: return "inboundCall";
    case ValidationPhase::outbound_call: return "outboundCall";
    case ValidationPhase::handler_result: return "handlerResult";
    case ValidationPhase::inbound_result: return "inboundResult";
  }
  return "";
}

std::string_view kind_name(FailureKind k) noexcept {
  switch (k) {
    case FailureKind::rpc_error: return "rpc";
    case FailureKind::validation: return "validation";
    case FailureKind::timeout: return "timeout";
    case FailureKind::connection: return "connection";
    case FailureKind::usage: return "usage";
    case FailureKind::invalid: return "invalid";
    case FailureKind::unsupported: return "unsupported";
    case FailureKind::cancelled: return "cancelled";
    case FailureKind::send_queue_full: return "connection";
  }
  return "";
}

}  // namespace

json::object to_json(const MessageEvent& e) {
  json::object o(8);
  o.emplace("event", "message");
  o.emplace("direction", e.direction == MessageDirection::in ? "in" : "out");
  o.emplace("type", type_name(e.type));
  o.emplace("messageId", e.message_id);
  o.emplace("action", e.action);
  o.emplace("raw", e.raw);
  if (e.latency_ms) o["latencyMs"] = *e.latency_ms;
  if (!e.error_code.empty()) o["errorCode"] = e.error_code;
  return o;
}

json::object to_json(const BadMessageEvent& e) {
  json::object o(4);
  o.emplace("event", "badMessage");
  o.emplace("raw", e.raw);
  o.emplace("error", e.error);
  o.emplace("reply", e.reply);
  return o;
}

json::object to_json(const schema::ValidationError& e, ProtocolVersion version) {
  json::object o(10);
  o.emplace("path", e.path);
  o.emplace("keyword", e.keyword);
  o.emplace("message", e.message);
  o.emplace("code", wire_name(error_code_for_keyword(e.keyword), version));
  return o;
}

json::object to_json(const ValidationFailureEvent& e, ProtocolVersion version) {
  auto o = to_json(e.error, version);
  o["event"] = "validationFailure";
  o["phase"] = phase_name(e.phase);
  o["type"] = type_name(e.type);
  o["action"] = e.action;
  o["messageId"] = e.message_id;
  return o;
}

json::object to_json(const CallResultErrorEvent& e) {
  json::object o(5);
  o.emplace("event", "callResultError");
  o.emplace("messageId", e.message_id);
  o.emplace("code", e.code);
  o.emplace("description", e.description);
  o.emplace("details", e.details);
  return o;
}

json::object to_json(const Failure& f, ProtocolVersion version) {
  json::object o(8);
  o.emplace("kind", kind_name(f.kind));
  o.emplace("message", f.message);
  if (f.close_code) o["closeCode"] = f.close_code;
  // Our own refusal is spelled as the protocol spells it; the peer's code as it came.
  if (f.validation) {
    o["code"] = wire_name(f.validation->code(), version);
    o["description"] = f.validation->description();
    o["details"] = f.validation->details();
    o["path"] = f.validation->error().path;
    o["keyword"] = f.validation->error().keyword;
  } else if (f.rpc) {
    o["code"] = f.rpc->wire_code();
    o["description"] = f.rpc->description();
    o["details"] = f.rpc->details();
  }
  return o;
}

json::value parse_json(std::string_view text) {
  JsonRead r = read_json(text);
  if (!r.ok()) throw std::invalid_argument(std::string(r.error));
  return std::move(r.value);
}

const json::object& object_of(const json::value& v) {
  if (!v.is_object()) throw std::invalid_argument("not a JSON object");
  return v.get_object();
}

std::string to_text(const json::object& o) {
  std::string s;
  write_json(s, o);
  return s;
}

}  // namespace ocpp::web
