#include "fuzz/verdict.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

#include "ocpp/messages/find_action.hpp"
#include "ocpp/rpc/error.hpp"

namespace ocpp::app::wire_fuzz {
namespace {

const ActionInfo* find(ProtocolVersion version, std::string_view action) {
  switch (version) {
    case ProtocolVersion::v16: return v16::find_action(action);
    case ProtocolVersion::v201: return v201::find_action(action);
    default: return v21::find_action(action);
  }
}

bool schema_accepts(schema::ValidateFn validate, const boost::json::value& payload) {
  return !validate || !schema::validate(validate, payload).has_value();
}

Finding finding(std::string kind, std::string detail) { return {std::move(kind), {}, {}, {}, std::move(detail)}; }

// The answer to the case's own CALL: a CALLERROR with a code of the version, or a CALLRESULT whose
// payload the action's response schema accepts (and, from a strict server, only to a valid CALL).
std::optional<Finding> check_answer(const Frame& answer, const fuzzgen::Case& c, const JudgeContext& context) {
  const auto* action = find(context.version, c.call.action);
  if (answer.type == MessageType::CallError) {
    if (wire_name(parse_error_code(answer.error_code_text), context.version) != answer.error_code_text)
      return finding("spec", "CALLERROR code \"" + answer.error_code_text + "\" is not one of this version's");
    return std::nullopt;
  }
  if (answer.type != MessageType::CallResult)
    return finding("spec", "a frame of type " + std::to_string(int(answer.type)) + " answered a CALL");
  const bool request_valid = action && schema_accepts(action->validate_request, boost::json::parse(c.call.payload));
  if (context.strict && !request_valid)
    return finding("spec", "a CALLRESULT to a " + c.call.action + " payload the schema refuses");
  if (action && request_valid && !schema_accepts(action->validate_response, answer.payload))
    return finding("spec", "the CALLRESULT of " + c.call.action + " breaks its response schema: " +
                               schema::validate(action->validate_response, answer.payload)->message);
  return std::nullopt;
}

std::string describe(const ServerEvent& e) {
  switch (e.kind) {
    case ServerEvent::Text: return "text " + e.payload.substr(0, 200);
    case ServerEvent::Binary: return "binary frame of " + std::to_string(e.payload.size()) + " bytes";
    case ServerEvent::Close: return "close " + std::to_string(e.close_code);
    case ServerEvent::Ping: return "ping";
    case ServerEvent::Pong: return "pong";
    case ServerEvent::Eof: return "end of the connection";
    case ServerEvent::Timeout: return "nothing";
    case ServerEvent::Bad: return "a broken frame: " + e.payload;
  }
  return {};
}

}  // namespace

Verdict judge(WireSocket& socket, const fuzzgen::Case& c, bool sent, const JudgeContext& context) {
  const auto& expect = c.expect;
  const bool required = !expect.silence_ok;
  // How long silence is waited out: a required event for the full timeout; an optional close a
  // quarter of it; an answer to broken text briefly; nothing at all when nothing is due.
  auto wait = context.timeout;
  if (!required) wait = expect.close_allowed() ? context.timeout / 4 : expect.any_text ? context.timeout / 20 : wait.zero();
  const auto deadline = Clock::now() + wait;
  Verdict v;
  for (;;) {
    const ServerEvent e = sent ? socket.next(deadline) : ServerEvent{ServerEvent::Eof};
    if (context.trace) context.trace("  server: " + describe(e));
    switch (e.kind) {
      case ServerEvent::Timeout:
        if (!required) return v;
        if (expect.answer) v.finding = finding("hang", "no answer to the CALL within " + std::to_string(wait.count()) + " ms");
        else if (expect.pong) v.finding = finding("hang", "no pong within " + std::to_string(wait.count()) + " ms");
        else v.finding = finding("hang", "no close within " + std::to_string(wait.count()) + " ms");
        return v;
      case ServerEvent::Ping: continue;
      case ServerEvent::Pong:
        if (expect.pong && e.payload == expect.pong_payload) {
          ++context.counters.pongs;
          return v;
        }
        continue;  // the pong of a ping inside a fragmented message
      case ServerEvent::Binary: v.finding = finding("spec", "a binary frame (OCPP-J is text)"); return v;
      case ServerEvent::Bad: v.finding = finding("spec", e.payload); return v;
      case ServerEvent::Close:
      case ServerEvent::Eof: {
        v.closed = true;
        const bool code_ok = e.kind == ServerEvent::Eof || expect.any_close_code ||
                             std::find(expect.close_codes.begin(), expect.close_codes.end(), e.close_code) !=
                                 expect.close_codes.end();
        if (expect.close_allowed() && code_ok) {
          ++context.counters.expected_closes;
          if (e.kind == ServerEvent::Close) socket.send_frame(fuzzgen::kClose, fuzzgen::close_payload(1000));
        } else {
          v.finding = finding("close", "unexpected " + describe(e) + (sent ? "" : " before the case was sent"));
        }
        return v;
      }
      case ServerEvent::Text: break;
    }
    const auto parsed = parse_frame(e.payload, context.version);
    if (!parsed.ok()) {
      v.finding = finding("spec", "a frame that is not OCPP-J (" + parsed.error.message + "): " + e.payload.substr(0, 200));
      return v;
    }
    const Frame& f = parsed.frame;
    if (f.type == MessageType::Call || f.type == MessageType::Send) {
      if (f.type == MessageType::Call)
        socket.send_frame(fuzzgen::kText, serialize_call_error(f.id, wire_name(ErrorCode::NotImplemented, context.version),
                                                               "not handled by the fuzzer", {}));
      continue;
    }
    if (f.id == c.id && !c.id.empty()) {
      if (!expect.answer && !expect.any_text) {
        v.finding = finding("spec", "an answer to a frame that must fail the connection: " + e.payload.substr(0, 200));
        return v;
      }
      ++context.counters.answers;
      if (expect.answer) v.finding = check_answer(f, c, context);
      return v;
    }
    if (expect.any_text) return v;  // a CALLERROR to text whose id could not be read
    // Otherwise a late answer to an earlier case's broken text: parsed, nothing more is owed.
  }
}

}  // namespace ocpp::app::wire_fuzz
