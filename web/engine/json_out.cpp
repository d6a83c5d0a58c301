#include "json_out.hpp"

namespace ocpp::web {
namespace json = boost::json;

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
  json::object o{{"event", "message"},
                 {"direction", e.direction == MessageDirection::in ? "in" : "out"},
                 {"type", type_name(e.type)},
                 {"messageId", e.message_id},
                 {"action", e.action},
                 {"raw", e.raw}};
  if (e.latency_ms) o["latencyMs"] = *e.latency_ms;
  if (!e.error_code.empty()) o["errorCode"] = e.error_code;
  return o;
}

json::object to_json(const BadMessageEvent& e) {
  return {{"event", "badMessage"}, {"raw", e.raw}, {"error", e.error}, {"reply", e.reply}};
}

json::object to_json(const schema::ValidationError& e, ProtocolVersion version) {
  return {{"path", e.path}, {"keyword", e.keyword}, {"message", e.message},
          {"code", wire_name(error_code_for_keyword(e.keyword), version)}};
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
  return {{"event", "callResultError"}, {"messageId", e.message_id}, {"code", e.code},
          {"description", e.description}, {"details", e.details}};
}

json::object to_json(const Failure& f, ProtocolVersion version) {
  json::object o{{"kind", kind_name(f.kind)}, {"message", f.message}};
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

}  // namespace ocpp::web
