#include "ocpp/rpc/frame.hpp"

#include "ocpp/rpc/json_text.hpp"
#ifndef OCPP_SMALL_JSON
#include <boost/json/parser.hpp>
#include <boost/json/serializer.hpp>
#endif

#include <cmath>
#include <optional>

namespace ocpp {
namespace json = boost::json;
namespace {

FrameError fail(ErrorCode code, std::string id, std::string message, bool reply = true) {
  FrameError e;
  e.code = code;
  e.id = std::move(id);
  e.message = std::move(message);
  e.reply = reply;
  return e;
}

ParseResult failed(FrameError e) {
  ParseResult r;
  r.error = std::move(e);
  return r;
}

bool is_known_type(std::int64_t t, const ProtocolFeatures& f) {
  switch (t) {
    case 2:
    case 3:
    case 4:
      return true;
    case 5:
      return f.call_result_errors;
    case 6:
      return f.send_frames;
    default:
      return false;
  }
}

// A number too large for a double (1e400) parses as infinity, which has no JSON text: echoed, logged
// or forwarded it would come out as `Infinity`, and the peer could not parse our frame. Such a
// payload is refused on input instead. The walk is bounded by the parser's max_depth.
bool finite_numbers(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: return std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& e : v.get_array())
        if (!finite_numbers(e)) return false;
      return true;
    case json::kind::object:
      for (const auto& kv : v.get_object())
        if (!finite_numbers(kv.value())) return false;
      return true;
    default: return true;
  }
}

#ifndef OCPP_SMALL_JSON
json::parser& thread_parser(std::size_t max_depth) {
  thread_local std::optional<json::parser> parser;
  thread_local std::size_t depth = 0;
  if (!parser || depth != max_depth) {
    json::parse_options opt;
    opt.max_depth = max_depth;
    parser.emplace(json::storage_ptr(), opt);
    depth = max_depth;
  }
  return *parser;
}

// The text's value, or parser's message for why it is not one. `finite` false: there may be an
// infinite number in it.
json::value read_text(std::string_view text, std::size_t max_depth, std::string& error, bool& finite) {
  finite = false;
  json::parser& p = thread_parser(max_depth);
  p.reset();
  boost::system::error_code ec;
  p.write(text.data(), text.size(), ec);
  if (ec) {
    error = ec.message();
    return nullptr;
  }
  return p.release();
}
#else
json::value read_text(std::string_view text, std::size_t max_depth, std::string& error, bool& finite) {
  JsonRead r = read_json(text, max_depth);
  error = r.error;
  finite = r.finite;
  return std::move(r.value);
}
#endif

}  // namespace

ParseResult parse_frame(std::string_view text, ProtocolVersion version, const ParseOptions& options) {
  const auto features = features_of(version);

  std::string error;
  bool finite = false;
  json::value root = read_text(text, options.max_depth, error, finite);
  if (!error.empty()) return failed(fail(ErrorCode::RpcFrameworkError, "-1", "Invalid JSON: " + error));

  auto* arr = root.if_array();
  if (!arr) return failed(fail(ErrorCode::RpcFrameworkError, "-1", "Message is not a JSON array"));
  if (arr->size() < 2) return failed(fail(ErrorCode::RpcFrameworkError, "-1", "Message array is too short"));

  ParseResult r;
  // The id is read first so every later answer can carry it; read into the frame, not copied there.
  const json::string* id_str = (*arr)[1].if_string();
  std::string& id = r.frame.id;
  id = id_str ? std::string_view(*id_str) : std::string_view("-1");
  if (id.empty()) id = "-1";

  const json::value& type_v = (*arr)[0];
  if (!type_v.is_int64() && !type_v.is_uint64())
    return failed(fail(ErrorCode::RpcFrameworkError, id, "Message type is not an integer"));
  const std::int64_t type = type_v.is_int64() ? type_v.get_int64() : std::int64_t(-1);

  if (!is_known_type(type, features)) {
    if (features.ignore_unknown_types)
      return failed(fail(ErrorCode::MessageTypeNotSupported, id, "Unknown message type " + std::to_string(type),
                         /*reply=*/false));
    return failed(fail(ErrorCode::MessageTypeNotSupported, id, "Unknown message type " + std::to_string(type)));
  }

  const bool is_response = type == 3 || type == 4 || type == 5;
  auto response_error = [&](std::string message) {
    FrameError e = fail(ErrorCode::RpcFrameworkError, id, std::move(message), /*reply=*/false);
    e.is_response = id_str != nullptr;
    e.type = static_cast<MessageType>(type);
    return failed(std::move(e));
  };

  if (!id_str) {
    if (is_response) return response_error("Message id is not a string");
    return failed(fail(ErrorCode::RpcFrameworkError, "-1", "Message id is not a string", type == 2));
  }
  if (id_str->empty()) {
    if (is_response) return response_error("Message id is empty");
    return failed(fail(ErrorCode::RpcFrameworkError, "-1", "Message id is empty", type == 2));
  }
  if (id_str->size() > kMaxMessageIdLength) {
    if (is_response) return response_error("Message id is longer than 36 characters");
    return failed(fail(ErrorCode::RpcFrameworkError, id, "Message id is longer than 36 characters", type == 2));
  }
  if (arr->size() < 3) {
    if (is_response) return response_error("Message array is too short");
    return failed(fail(ErrorCode::RpcFrameworkError, id, "Message array is too short", type == 2));
  }

  Frame& f = r.frame;
  f.type = static_cast<MessageType>(type);

  switch (f.type) {
    case MessageType::Call:
    case MessageType::Send: {
      const bool reply = f.type == MessageType::Call;
      if (arr->size() != 4)
        return failed(fail(ErrorCode::RpcFrameworkError, f.id, "CALL must have exactly 4 elements", reply));
      const json::string* action = (*arr)[2].if_string();
      if (!action) return failed(fail(ErrorCode::RpcFrameworkError, f.id, "Action is not a string", reply));
      if (action->empty()) return failed(fail(ErrorCode::NotImplemented, f.id, "Action is empty", reply));
      if (!(*arr)[3].is_object())
        return failed(fail(ErrorCode::FormatViolation, f.id, "Payload is not a JSON object", reply));
      if (!finite && !finite_numbers((*arr)[3]))
        return failed(fail(ErrorCode::FormatViolation, f.id, "Payload has a number out of range", reply));
      f.action = std::string(*action);
      adopt(f.payload, std::move((*arr)[3]));
      break;
    }
    case MessageType::CallResult: {
      if (arr->size() != 3) return response_error("CALLRESULT must have exactly 3 elements");
      json::value& payload = (*arr)[2];
      if (payload.is_null() && options.null_result_as_empty) payload = json::object();
      if (!payload.is_object()) return response_error("CALLRESULT payload is not a JSON object");
      if (!finite && !finite_numbers(payload)) return response_error("CALLRESULT payload has a number out of range");
      adopt(f.payload, std::move(payload));
      break;
    }
    case MessageType::CallError:
    case MessageType::CallResultError: {
      // Tolerant on input: a missing details element, a missing description or a code we do not
      // know are accepted (the code then maps to GenericError, its text is kept).
      if (arr->size() < 4 || arr->size() > 5) return response_error("CALLERROR must have 4 or 5 elements");
      if (const json::string* code = (*arr)[2].if_string()) f.error_code_text = std::string(*code);
      f.error_code = parse_error_code(f.error_code_text);
      if (const json::string* desc = (*arr)[3].if_string()) f.description = std::string(*desc);
      if (arr->size() == 5) {
        json::object* details = (*arr)[4].if_object();
        if (details && (finite || finite_numbers((*arr)[4]))) adopt(f.details, std::move(*details));
      }
      break;
    }
  }
  return r;
}

void append_json(std::string& out, const json::value& v) {
#ifdef OCPP_SMALL_JSON
  write_json(out, v);
#else
  json::serializer sr;
  sr.reset(&v);
  char buf[1024];
  while (!sr.done()) out.append(sr.read(buf));
#endif
}

namespace {

std::string call_like(char type, std::string_view id, std::string_view action, const json::value& payload) {
  std::string out;
  out.reserve(128 + id.size() + action.size());
  out.push_back('[');
  out.push_back(type);
  out.push_back(',');
  append_json_string(out, id);
  out.push_back(',');
  append_json_string(out, action);
  out.push_back(',');
  append_json(out, payload);
  out.push_back(']');
  return out;
}

std::string error_like(char type, std::string_view id, std::string_view code, std::string_view description,
                       const json::object& details) {
  std::string out;
  out.reserve(48 + id.size() + code.size() + description.size());
  out.push_back('[');
  out.push_back(type);
  out.push_back(',');
  append_json_string(out, id);
  out.push_back(',');
  append_json_string(out, code);
  out.push_back(',');
  append_json_string(out, description);
  out.push_back(',');
  if (details.empty()) {
    out += "{}";
  } else {
    json::value v(details);
    append_json(out, v);
  }
  out.push_back(']');
  return out;
}

}  // namespace

std::string serialize_call(std::string_view id, std::string_view action, const json::value& payload) {
  return call_like('2', id, action, payload);
}
std::string serialize_send(std::string_view id, std::string_view action, const json::value& payload) {
  return call_like('6', id, action, payload);
}
std::string serialize_call_result(std::string_view id, const json::value& payload) {
  std::string out;
  out.reserve(128 + id.size());  // a small answer (Heartbeat, status) fits without growing
  out += "[3,";
  append_json_string(out, id);
  out.push_back(',');
  append_json(out, payload);
  out.push_back(']');
  return out;
}
std::string serialize_call_error(std::string_view id, std::string_view code, std::string_view description,
                                 const json::object& details) {
  return error_like('4', id, code, description, details);
}
std::string serialize_call_result_error(std::string_view id, std::string_view code, std::string_view description,
                                        const json::object& details) {
  return error_like('5', id, code, description, details);
}

}  // namespace ocpp
