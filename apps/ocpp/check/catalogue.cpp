#include "catalogue.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <openssl/ssl.h>

#include <algorithm>
#include <initializer_list>
#include <optional>

#include "ocpp/rpc/error.hpp"

namespace ocpp::app::conformance {
namespace {
namespace json = boost::json;

constexpr std::string_view kSentinelId = "check-sentinel";
constexpr std::string_view kSentinel = R"([2,"check-sentinel","Heartbeat",{}])";

std::string shorten(std::string_view text, std::size_t max = 160) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "... (" + std::to_string(text.size()) + " bytes)";
}

// "OCPP-J 1.6 §4.2.3", "OCPP 2.0.1 Part 4 §4.2.3": the same clause numbers in both documents.
std::string ocpp_j(ProtocolVersion v, std::string_view section) {
  switch (v) {
    case ProtocolVersion::v16: return "OCPP-J 1.6 " + std::string(section);
    case ProtocolVersion::v21: return "OCPP 2.1 Part 4 " + std::string(section);
    default: return "OCPP 2.0.1 Part 4 " + std::string(section);
  }
}
std::string part2(ProtocolVersion v, std::string_view requirement) {
  return (v == ProtocolVersion::v21 ? "OCPP 2.1 Part 2 " : "OCPP 2.0.1 Part 2 ") + std::string(requirement);
}

std::string describe(const Incoming& in) {
  switch (in.kind) {
    case Incoming::Kind::text: return shorten(in.data);
    case Incoming::Kind::binary: return "a binary frame of " + std::to_string(in.data.size()) + " bytes";
    case Incoming::Kind::close:
      return "close " + std::to_string(in.close_code) + (in.data.empty() ? "" : " \"" + in.data + "\"");
    case Incoming::Kind::dropped: return "the connection dropped (" + in.data + ")";
    case Incoming::Kind::timeout: return in.data;
  }
  return {};
}

std::string describe(const Handshake& h) {
  if (!h.status) return h.error;
  std::string text = "HTTP " + std::to_string(h.status);
  if (h.status == 101)
    text += h.protocol ? " with Sec-WebSocket-Protocol: " + *h.protocol : " without Sec-WebSocket-Protocol";
  return text;
}

// A frame from the server as JSON (null when it is not JSON).
json::value parse(const Incoming& in) {
  if (in.kind != Incoming::Kind::text) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(in.data, ec);
  return ec ? json::value(nullptr) : v;
}

bool answers(const json::value& frame, std::string_view id) {
  const auto* a = frame.if_array();
  if (!a || a->size() < 3 || !(*a)[1].is_string() || (*a)[1].as_string() != id) return false;
  const auto& type = (*a)[0];
  return type.is_int64() && (type.as_int64() == 3 || type.as_int64() == 4);
}

// Whether `text` is one of the version's error codes, in the version's spelling.
bool is_code_of(std::string_view text, ProtocolVersion v) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::RpcFrameworkError); ++c)
    if (wire_name(static_cast<ErrorCode>(c), v) == text) return true;
  return false;
}

// What the server sent in answer to the frames of a check, up to the answer of the sentinel
// Heartbeat that follows them: what came before it is the answer to the check's frames, and the
// sentinel's answer shows the connection still serves.
struct Exchange {
  Handshake handshake;
  std::vector<Incoming> before;
  bool sentinel_answered = false;
  std::optional<Incoming> end;  // the close, drop or timeout that ended reading instead
  std::string describe() const {
    if (!handshake.upgraded) return "upgrade refused: " + conformance::describe(handshake);
    std::string text;
    for (const auto& in : before) text += (text.empty() ? "" : "; ") + conformance::describe(in);
    if (text.empty()) text = "no answer";
    if (sentinel_answered) text += "; then the next Heartbeat was answered";
    if (end) text += "; then " + conformance::describe(*end);
    return text;
  }
};

Offer offer(const Settings& s) {
  Offer o;
  o.protocol = s.protocol;
  return o;
}

Outcome outcome(std::string sent, std::string required) {
  Outcome o;
  o.sent = std::move(sent);
  o.required = std::move(required);
  return o;
}

TlsOffer tls_offer(int min_version, int max_version, std::string ciphers) {
  TlsOffer o;
  o.min_version = min_version;
  o.max_version = max_version;
  o.ciphers = std::move(ciphers);
  return o;
}

Exchange exchange(const Settings& s, const std::function<void(Probe&)>& send, bool sentinel = true) {
  Exchange x;
  auto opened = open_probe(s.target, offer(s));
  x.handshake = opened.handshake;
  if (!opened.probe) return x;
  Probe& p = *opened.probe;
  send(p);
  if (sentinel) p.send(kSentinel);
  for (;;) {
    Incoming in = p.receive();
    if (in.kind != Incoming::Kind::text && in.kind != Incoming::Kind::binary) {
      x.end = std::move(in);
      break;
    }
    if (sentinel && answers(parse(in), kSentinelId)) {
      x.sentinel_answered = true;
      break;
    }
    x.before.push_back(std::move(in));
    if (!sentinel && !x.before.empty()) break;
  }
  p.close();
  return x;
}

// The first frame is a CALLERROR with one of these ids and codes (in the version's spelling),
// and the connection keeps serving.
Outcome expect_call_error(const Settings& s, std::string_view frame, std::vector<std::string> ids,
                          std::initializer_list<ErrorCode> codes) {
  const ProtocolVersion v = protocol_version(s.protocol);
  std::vector<std::string> names;
  for (ErrorCode c : codes) {
    std::string n(wire_name(c, v));
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  std::string required = "a CALLERROR with id ";
  for (std::size_t i = 0; i < ids.size(); ++i) required += (i ? " or \"" : "\"") + ids[i] + "\"";
  required += " and code ";
  for (std::size_t i = 0; i < names.size(); ++i) required += (i ? " or " : "") + names[i];
  required += " (" + s.protocol + " spelling), connection kept";
  Outcome o = outcome(shorten(frame), required);
  Exchange x = exchange(s, [&](Probe& p) { p.send(frame); });
  o.got = x.describe();
  if (!x.sentinel_answered || x.before.size() != 1) return o;
  const json::value f = parse(x.before.front());
  const auto* a = f.if_array();
  if (!a || a->size() < 4 || a->at(0) != 4 || !a->at(1).is_string() || !a->at(2).is_string()) return o;
  const std::string id(a->at(1).as_string()), code(a->at(2).as_string());
  if (!is_code_of(code, v)) o.got += " (" + code + " is not an " + s.protocol + " error code)";
  o.pass = std::find(ids.begin(), ids.end(), id) != ids.end() &&
           std::find(names.begin(), names.end(), code) != names.end();
  return o;
}

// Nothing answers the frame: the sentinel's answer comes first.
Outcome expect_silence(const Settings& s, std::string_view frame, std::string required) {
  Outcome o = outcome(shorten(frame), std::move(required));
  Exchange x = exchange(s, [&](Probe& p) { p.send(frame); });
  o.got = x.describe();
  o.pass = x.sentinel_answered && x.before.empty();
  return o;
}

// A CALLRESULT (or any CALLERROR: a CSMS may refuse calls before a boot) with this id.
Outcome expect_answer(const Settings& s, std::string_view frame, std::string_view id,
                      const std::function<void(Probe&)>& send) {
  Outcome o = outcome(shorten(frame), "an answer with id \"" + std::string(id) + "\", connection kept");
  Exchange x = exchange(s, send);
  o.got = x.describe();
  o.pass = x.sentinel_answered && x.before.size() == 1 && answers(parse(x.before.front()), id);
  return o;
}

// The frame is refused by closing (1009) or dropping the connection; never answered.
Outcome expect_refusal_by_close(const Settings& s, const std::string& frame, std::string what) {
  Outcome o = outcome(std::move(what), "the connection closed with 1009 (message too big), the frame not processed");
  Exchange x = exchange(s, [&](Probe& p) { p.send(frame); }, false);
  o.got = x.describe();
  o.pass = x.handshake.upgraded && x.before.empty() && x.end &&
           ((x.end->kind == Incoming::Kind::close && x.end->close_code == 1009) ||
            x.end->kind == Incoming::Kind::dropped);
  return o;
}

// The server does not take the connection as OCPP: an HTTP error, or an upgrade without a
// subprotocol that the server then closes.
Outcome expect_no_ocpp_session(const Settings& s, const Offer& o, std::string sent) {
  Outcome out = outcome(std::move(sent),
                        "refused (HTTP 4xx), or upgraded without Sec-WebSocket-Protocol and closed by the server");
  auto opened = open_probe(s.target, o);
  out.got = describe(opened.handshake);
  if (!opened.probe) {
    out.pass = opened.handshake.status >= 400 && opened.handshake.status < 500;
    return out;
  }
  const Incoming in = opened.probe->receive();
  out.got += "; then " + describe(in);
  out.pass = !opened.handshake.protocol &&
             (in.kind == Incoming::Kind::close || in.kind == Incoming::Kind::dropped);
  return out;
}

Outcome expect_upgrade_status(const Settings& s, const Offer& o, std::string sent, unsigned status) {
  Outcome out = outcome(std::move(sent), "HTTP " + std::to_string(status));
  auto opened = open_probe(s.target, o);
  out.got = describe(opened.handshake);
  out.pass = opened.handshake.status == status && (status != 101 || opened.handshake.protocol == s.protocol);
  if (opened.probe) opened.probe->close();
  return out;
}

// A control frame on a fresh connection; `step` says whether the server answered it in time.
Outcome control_exchange(const Settings& s, std::string sent, std::string required, std::string answered,
                         const std::function<bool(Probe&)>& step) {
  Outcome o = outcome(std::move(sent), std::move(required));
  auto opened = open_probe(s.target, offer(s));
  if (!opened.probe) {
    o.got = "upgrade refused: " + describe(opened.handshake);
    return o;
  }
  o.pass = step(*opened.probe);
  o.got = o.pass ? std::move(answered) : "nothing within " + std::to_string(s.target.timeout.count()) + " ms";
  return o;
}

std::string nested(std::size_t depth) {
  return std::string(R"([2,"check-deep","Heartbeat",{"a":)") + std::string(depth, '[') + std::string(depth, ']') + "}]";
}

void add_frame_checks(std::vector<Check>& out, ProtocolVersion v) {
  const std::string e423 = ocpp_j(v, "§4.2.3");
  using E = ErrorCode;
  out.push_back({"4.1-1", e423, "Not JSON: CALLERROR with id \"-1\"", [](const Settings& s) {
                   return expect_call_error(s, "<not json>", {"-1"}, {E::RpcFrameworkError});
                 }});
  // The id may still be read from a frame cut short in its payload, and the payload is what is
  // malformed, so both readings are allowed.
  out.push_back({"4.1-1", e423, "Truncated JSON: CALLERROR", [](const Settings& s) {
                   return expect_call_error(s, R"([2,"check-1","BootNotification",{)", {"check-1", "-1"},
                                            {E::RpcFrameworkError, E::FormatViolation});
                 }});
  out.push_back({"4.1-3", e423, "Not an array: CALLERROR with id \"-1\"", [](const Settings& s) {
                   return expect_call_error(s, R"({"not":"an array"})", {"-1"},
                                            {E::RpcFrameworkError, E::ProtocolError});
                 }});
  out.push_back({"4.1-3", e423, "CALL of 3 elements: CALLERROR", [](const Settings& s) {
                   return expect_call_error(s, R"([2,"check-3","Heartbeat"])", {"check-3"},
                                            {E::RpcFrameworkError, E::FormatViolation, E::ProtocolError});
                 }});
  out.push_back({"4.1-3", e423, "Payload not an object: CALLERROR", [](const Settings& s) {
                   return expect_call_error(s, R"([2,"check-3b","Heartbeat",[]])", {"check-3b"},
                                            {E::FormatViolation, E::TypeConstraintViolation, E::RpcFrameworkError,
                                             E::ProtocolError});
                 }});
  out.push_back({"4.1-4", ocpp_j(v, "§4.1.3"), "Message type a string: CALLERROR", [](const Settings& s) {
                   return expect_call_error(s, R"(["2","check-4","Heartbeat",{}])", {"check-4", "-1"},
                                            {E::RpcFrameworkError, E::FormatViolation, E::ProtocolError});
                 }});
  if (v == ProtocolVersion::v21) {
    out.push_back({"4.1-4", "OCPP 2.1 Part 4 §4.1.3, §4.4", "Unknown message type 7: ignored", [](const Settings& s) {
                     return expect_silence(s, R"([7,"check-7","Heartbeat",{}])", "no answer, connection kept");
                   }});
    out.push_back({"4.3-23", "OCPP 2.1 Part 4 §4.2.4", "SEND: never answered", [](const Settings& s) {
                     return expect_silence(s, R"([6,"check-send","NotifyPeriodicEventStream",{}])",
                                           "no answer (not even a CALLERROR for a bad payload), connection kept");
                   }});
  } else if (v == ProtocolVersion::v201) {
    out.push_back({"4.1-4", "OCPP 2.0.1 Part 4 §4.4", "Unknown message type 7: MessageTypeNotSupported",
                   [](const Settings& s) {
                     return expect_call_error(s, R"([7,"check-7","Heartbeat",{}])", {"check-7"},
                                              {E::MessageTypeNotSupported});
                   }});
  }
  out.push_back({"4.1-5", e423, "Message id a number: CALLERROR with id \"-1\"", [](const Settings& s) {
                   return expect_call_error(s, R"([2,42,"Heartbeat",{}])", {"-1"},
                                            {E::RpcFrameworkError, E::FormatViolation, E::ProtocolError});
                 }});
  const std::string id36(36, 'i'), id37(37, 'i');
  out.push_back({"4.1-7", ocpp_j(v, "§4.1.4"), "Message id of 36 characters: answered", [id36](const Settings& s) {
                   const std::string frame = "[2,\"" + id36 + "\",\"Heartbeat\",{}]";
                   return expect_answer(s, frame, id36, [&](Probe& p) { p.send(frame); });
                 }});
  out.push_back({"4.1-7", ocpp_j(v, "§4.1.4"), "Message id of 37 characters: CALLERROR", [id37](const Settings& s) {
                   return expect_call_error(s, "[2,\"" + id37 + "\",\"Heartbeat\",{}]", {id37, "-1"},
                                            {E::RpcFrameworkError, E::FormatViolation, E::ProtocolError,
                                             E::TypeConstraintViolation, E::PropertyConstraintViolation});
                 }});
  out.push_back({"4.1-8", ocpp_j(v, "§4.1.4"), "Duplicate message id: both CALLs answered", [](const Settings& s) {
                   const std::string frame = R"([2,"check-dup","Heartbeat",{}])";
                   Outcome o = outcome(frame + " twice",
                                       "two answers with id \"check-dup\" (a CALLRESULT, or a CALLERROR while the "
                                       "first is handled), connection kept");
                   Exchange x = exchange(s, [&](Probe& p) {
                     p.send(frame);
                     p.send(frame);
                   });
                   o.got = x.describe();
                   o.pass = x.sentinel_answered && x.before.size() == 2 &&
                            answers(parse(x.before[0]), "check-dup") && answers(parse(x.before[1]), "check-dup");
                   return o;
                 }});
  out.push_back({"4.1-9", e423, "Unknown action: NotImplemented", [](const Settings& s) {
                   return expect_call_error(s, R"([2,"check-9","NoSuchAction",{}])", {"check-9"}, {E::NotImplemented});
                 }});
  out.push_back({"4.1-10", ocpp_j(v, "§4.2.1"), "Action in the wrong case: NotImplemented", [](const Settings& s) {
                   return expect_call_error(s, R"([2,"check-10","heartbeat",{}])", {"check-10"}, {E::NotImplemented});
                 }});
  out.push_back({"4.1-12", ocpp_j(v, "§4.2.2"), "CALLRESULT for no CALL: not answered", [](const Settings& s) {
                   return expect_silence(s, R"([3,"check-unmatched",{}])", "no answer, connection kept");
                 }});
  out.push_back({"4.1-12", e423, "CALLERROR for no CALL: not answered", [](const Settings& s) {
                   return expect_silence(s, R"([4,"check-unmatched","GenericError","",{}])",
                                         "no answer, connection kept");
                 }});
  out.push_back({"4.1-14", "RFC 8259 §9", "Nesting 10000 deep: refused or answered, server keeps serving",
                 [](const Settings& s) {
                   const std::string frame = nested(10000);
                   Outcome o = outcome(shorten(frame, 60),
                                       "an answer or a close in time, then a new connection is served");
                   Exchange x = exchange(s, [&](Probe& p) { p.send(frame); });
                   o.got = x.describe();
                   const bool reacted = x.sentinel_answered || (x.end && x.end->kind != Incoming::Kind::timeout);
                   Exchange after = exchange(s, [](Probe&) {});
                   o.got += "; a new connection: " + after.describe();
                   o.pass = reacted && after.sentinel_answered;
                   return o;
                 }});
  out.push_back({"4.2-22", "RFC 6455 §7.4.1", "16 MiB frame: closed with 1009", [](const Settings& s) {
                   const std::string frame =
                       R"([2,"check-big","Heartbeat",{"pad":")" + std::string(16 << 20, 'x') + "\"}]";
                   return expect_refusal_by_close(s, frame,
                                                  R"([2,"check-big","Heartbeat",{"pad":"xxx..."}] (16 MiB))");
                 }});
  out.push_back({"4.2-22", "RFC 6455 §5.4", "CALL in 3 fragments: answered", [](const Settings& s) {
                   const std::string frame = R"([2,"check-frag","Heartbeat",{}])";
                   return expect_answer(s, frame + " in 3 fragments", "check-frag",
                                        [&](Probe& p) { p.send_fragmented(frame, 3); });
                 }});
}

void add_handshake_checks(std::vector<Check>& out, ProtocolVersion v) {
  out.push_back({"4.5-33", ocpp_j(v, "§3.1.2"), "Subprotocol offered: accepted and named", [](const Settings& s) {
                   return expect_upgrade_status(s, offer(s), "upgrade offering " + s.protocol, 101);
                 }});
  out.push_back({"4.5-33", ocpp_j(v, "§3.1.2"), "No subprotocol in common: no OCPP session", [](const Settings& s) {
                   Offer o = offer(s);
                   o.protocol = "ocpp0.1";
                   return expect_no_ocpp_session(s, o, "upgrade offering ocpp0.1 only");
                 }});
  out.push_back({"4.5-33", ocpp_j(v, "§3.1.2"), "No Sec-WebSocket-Protocol: no OCPP session", [](const Settings& s) {
                   Offer o = offer(s);
                   o.protocol.reset();
                   return expect_no_ocpp_session(s, o, "upgrade without Sec-WebSocket-Protocol");
                 }});
  out.push_back({"4.5-35", "RFC 6455 §4.2.1", "Plain GET on the endpoint: HTTP error", [](const Settings& s) {
                   Outcome o = outcome("GET " + build_target(s.target.url, s.target.identity) + " without Upgrade",
                                       "HTTP 4xx (400, 404 or 426), not an upgrade");
                   std::string error;
                   const unsigned status = plain_get(s.target, error);
                   o.got = status ? "HTTP " + std::to_string(status) : error;
                   o.pass = status >= 400 && status < 500;
                   return o;
                 }});
  out.push_back({"4.8-46", "RFC 6455 §5.5.2, §5.5.3", "Ping: pong with the same payload", [](const Settings& s) {
                   return control_exchange(s, "ping \"ocpp-check\"", "a pong with payload \"ocpp-check\"",
                                           "pong \"ocpp-check\"", [](Probe& p) { return p.ping("ocpp-check"); });
                 }});
  out.push_back({"4.8-49", "RFC 6455 §5.5.1", "Close 1000: the server closes too", [](const Settings& s) {
                   return control_exchange(s, "close 1000", "the server's close frame", "close frame",
                                           [](Probe& p) { return p.close(); });
                 }});
}

// The user's identity cut or padded (with '0') to n characters: derived from it, so a server that
// keys stations on a prefix or a pattern still sees its kind of identity.
std::string sized_identity(const std::string& identity, std::size_t n) {
  std::string id = identity.substr(0, n);
  id.resize(n, '0');
  return id;
}

// The request target of the user's URL with `identity`, and a '/' after it (before the query).
std::string target_with_slash(const Settings& s, std::string_view identity) {
  std::string target = build_target(s.target.url, identity);
  target.insert(std::min(target.find('?'), target.size()), "/");
  return target;
}

Offer offer_target(const Settings& s, std::string target) {
  Offer o = offer(s);
  o.target = std::move(target);
  return o;
}

Offer offer_identity(const Settings& s, std::string identity) {
  Offer o = offer(s);
  o.identity = std::move(identity);
  return o;
}

std::string sent_target(const Settings& s, const Offer& o) { return "upgrade to " + request_target(s.target, o); }

// The upgrade is refused with an HTTP 4xx (no 101).
Outcome expect_identity_refused(const Settings& s, const Offer& o) {
  Outcome out = outcome(sent_target(s, o), "refused with HTTP 4xx, no upgrade");
  auto opened = open_probe(s.target, o);
  out.got = describe(opened.handshake);
  out.pass = !opened.handshake.upgraded && opened.handshake.status >= 400 && opened.handshake.status < 500;
  if (opened.probe) opened.probe->close();
  return out;
}

void add_identity_checks(std::vector<Check>& out, ProtocolVersion v) {
  const std::string clause = ocpp_j(v, "§3.1.1");
  out.push_back({"4.5-31", clause, "Identity of 48 characters: accepted", [](const Settings& s) {
                   // A server that admits only the stations it knows refuses this one for that, not
                   // for its length: what it answers a known-length unknown identity tells which.
                   std::string other = s.target.identity.empty() ? "0" : s.target.identity;
                   other.back() = other.back() == '0' ? '1' : '0';
                   const Offer o = offer_identity(s, sized_identity(s.target.identity, 48));
                   Outcome out = outcome(sent_target(s, o),
                                         "HTTP 101, or the same refusal as for " + other +
                                             " (unknown, of the usual length): a server that admits only the "
                                             "stations it knows cannot show its length limit");
                   auto opened = open_probe(s.target, o);
                   out.got = describe(opened.handshake);
                   if (opened.probe) {
                     opened.probe->close();
                     out.pass = opened.handshake.protocol == s.protocol;
                     return out;
                   }
                   if (!opened.handshake.status) return out;
                   auto control = open_probe(s.target, offer_identity(s, other));
                   if (control.probe) control.probe->close();
                   out.got += "; " + other + ": " + describe(control.handshake);
                   out.pass = control.handshake.status == opened.handshake.status;
                   if (out.pass) out.got += " too: the refusal is not for the length, so the limit is not seen";
                   return out;
                 }});
  out.push_back({"4.5-31", clause, "Identity of 49 characters: refused", [](const Settings& s) {
                   return expect_identity_refused(s, offer_identity(s, sized_identity(s.target.identity, 49)));
                 }});
  out.push_back({"4.5-31", clause, "%2F in the identity: refused", [](const Settings& s) {
                   return expect_identity_refused(s, offer_identity(s, s.target.identity + "/1"));
                 }});
  // The URL's path followed by '/' and nothing: the identity is empty, whatever the path is.
  out.push_back({"4.5-31", clause, "Empty identity: refused", [](const Settings& s) {
                   return expect_identity_refused(s, offer_target(s, build_target(s.target.url, "")));
                 }});
  out.push_back({"4.5-31", clause, "Trailing slash after the identity: refused", [](const Settings& s) {
                   return expect_identity_refused(s, offer_target(s, target_with_slash(s, s.target.identity)));
                 }});
}

void add_basic_auth_checks(std::vector<Check>& out, ProtocolVersion v) {
  out.push_back({"4.6-36", "RFC 7235 §3.1; " + part2(v, "A00 (profiles 1, 2)"), "No Basic Auth: 401",
                 [](const Settings& s) {
                   Offer o = offer(s);
                   o.send_password = false;
                   return expect_upgrade_status(s, o, "upgrade without Authorization", 401);
                 }});
  out.push_back({"4.6-36", "OCTT TC_A_03_CSMS", "Wrong password: 401", [](const Settings& s) {
                   Offer o = offer(s);
                   o.password = s.target.password + "-wrong";
                   return expect_upgrade_status(s, o, "upgrade with a wrong password", 401);
                 }});
  out.push_back({"4.6-36", "OCTT TC_A_02_CSMS", "Username not the identity: 401", [](const Settings& s) {
                   Offer o = offer(s);
                   o.username = s.target.identity + "X";
                   return expect_upgrade_status(s, o, "upgrade as user " + *o.username + " with the password", 401);
                 }});
  out.push_back({"4.6-36", part2(v, "A00 (profiles 1, 2)"), "Right password: accepted", [](const Settings& s) {
                   return expect_upgrade_status(s, offer(s), "upgrade with the password", 101);
                 }});
}

Outcome tls_outcome(const Settings& s, const TlsOffer& offer, std::string sent, bool must_succeed) {
  Outcome o = outcome(std::move(sent), must_succeed ? "a TLS 1.2+ handshake" : "the handshake refused");
  const TlsOutcome t = tls_handshake(s.target, offer);
  o.got = t.ok ? t.version + " " + t.cipher : t.error;
  // A refusal by our own OpenSSL, which cannot offer what was asked, says nothing of the server.
  const bool local = t.error.find("no protocols available") != std::string::npos ||
                     t.error.find("no ciphers available") != std::string::npos;
  if (local) o.got += " (this OpenSSL cannot offer that, so the server was not asked)";
  o.pass = !local && t.ok == must_succeed && (!t.ok || t.version == "TLSv1.2" || t.version == "TLSv1.3");
  return o;
}

void add_tls_checks(std::vector<Check>& out, ProtocolVersion v, bool client_cert) {
  const std::string version_fr = part2(v, client_cert ? "A00.FR.416/418" : "A00.FR.313/315");
  out.push_back({"4.7-40", version_fr, "Default handshake: TLS 1.2 or newer", [](const Settings& s) {
                   return tls_outcome(s, {}, "TLS ClientHello, OpenSSL defaults", true);
                 }});
  out.push_back({"4.7-40", version_fr, "TLS 1.0/1.1 only: refused", [](const Settings& s) {
                   return tls_outcome(s, tls_offer(TLS1_VERSION, TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0"),
                                      "TLS ClientHello offering TLS 1.0 and 1.1 only", false);
                 }});
  const std::string suites_fr = part2(v, client_cert ? "A00.FR.421" : "A00.FR.318");
  for (const auto& [openssl, iana] : std::initializer_list<std::pair<const char*, const char*>>{
           {"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
           {"ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
           {"AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"},
           {"AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384"}}) {
    out.push_back({"4.7-41", suites_fr, std::string("Suite ") + iana + ": accepted",
                   [openssl = std::string(openssl), iana = std::string(iana)](const Settings& s) {
                     return tls_outcome(s, tls_offer(0, TLS1_2_VERSION, openssl),
                                        "TLS 1.2 ClientHello offering " + iana + " only", true);
                   }});
  }
  out.push_back({"4.7-41", part2(v, "A00.FR.320/322"), "CBC suites only: refused", [](const Settings& s) {
                   return tls_outcome(s, tls_offer(0, TLS1_2_VERSION, "AES128-SHA:AES256-SHA"),
                                      "TLS 1.2 ClientHello offering TLS_RSA_WITH_AES_128/256_CBC_SHA only", false);
                 }});
  if (!client_cert) return;
  out.push_back({"4.7-43", part2(v, "A00.FR.407"), "No client certificate: refused", [](const Settings& s) {
                   Offer o = offer(s);
                   o.send_cert = false;
                   Outcome out = outcome("upgrade without a client certificate",
                                         "the TLS handshake or the connection refused");
                   auto opened = open_probe(s.target, o);
                   out.got = opened.probe ? describe(opened.handshake) : opened.handshake.error;
                   out.pass = !opened.probe;
                   if (opened.probe) opened.probe->close();
                   return out;
                 }});
  out.push_back({"4.7-43", part2(v, "A00.FR.403"), "Client certificate: accepted", [](const Settings& s) {
                   return expect_upgrade_status(s, offer(s), "upgrade with the client certificate", 101);
                 }});
}

}  // namespace

std::vector<Check> catalogue(const Settings& s) {
  const ProtocolVersion v = protocol_version(s.protocol);
  std::vector<Check> out;
  add_handshake_checks(out, v);
  add_identity_checks(out, v);
  add_frame_checks(out, v);
  if (!s.target.password.empty()) add_basic_auth_checks(out, v);
  if (s.target.url.secure) add_tls_checks(out, v, !s.target.cert.empty());
  return out;
}

}  // namespace ocpp::app::conformance
