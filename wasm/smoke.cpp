// Smoke test of the IO-free libraries as WebAssembly: frames, error codes, ids, the logging
// interface, the generated validators of the three OCPP versions, the RPC engine behind a tiny
// host with a hand-moved clock, and Basic Auth, run by node (`node build/wasm/wasm/smoke.js`).
// Prints "wasm smoke: N passed, M failed"; exits 1 on a failure. Builds natively too
// (-DOCPP_IO_FREE_ONLY=ON, target ocpp_wasm_smoke).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocpp/engine/engine.hpp"
#include "ocpp/http/basic_auth.hpp"
#include "ocpp/log/logger.hpp"
#include "ocpp/log/redact.hpp"
#include "ocpp/messages/v16.hpp"
#include "ocpp/messages/v201.hpp"
#include "ocpp/messages/v21.hpp"
#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/message_id.hpp"
#include "ocpp/rpc/protocol.hpp"

namespace {

int passed = 0;
int failed = 0;

void check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (ok) {
    ++passed;
    return;
  }
  ++failed;
  std::printf("FAILED: %.*s", static_cast<int>(what.size()), what.data());
  if (!detail.empty()) std::printf(" (%.*s)", static_cast<int>(detail.size()), detail.data());
  std::printf("\n");
}

template <class Fn>
void guarded(std::string_view what, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    check(false, what, std::string("threw: ") + e.what());
  }
}

void frames() {
  namespace json = boost::json;
  const auto call = ocpp::parse_frame(
      R"([2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}])",
      ocpp::ProtocolVersion::v16);
  check(call.ok(), "CALL parses", call.error.message);
  check(call.frame.type == ocpp::MessageType::Call && call.frame.id == "19223201" &&
            call.frame.action == "BootNotification",
        "CALL type, id and action");
  check(call.frame.payload.is_object() && call.frame.payload.as_object().at("chargePointModel") == "SingleSocketCharger",
        "CALL payload");

  const auto bad = ocpp::parse_frame(R"([2,"42",{}])", ocpp::ProtocolVersion::v16);
  check(!bad.ok() && bad.error.reply && bad.error.id == "42", "short CALL is refused with a CALLERROR to its id",
        bad.error.message);
  const auto garbage = ocpp::parse_frame("[2,\"1\",", ocpp::ProtocolVersion::v201);
  check(!garbage.ok() && garbage.error.id == "-1", "truncated JSON is refused with id -1");

  const json::value result = json::parse(R"({"status":"Accepted","currentTime":"2013-02-01T20:53:32.486Z","interval":300})");
  const std::string text = ocpp::serialize_call_result("19223201", result);
  check(text == R"([3,"19223201",{"status":"Accepted","currentTime":"2013-02-01T20:53:32.486Z","interval":300}])",
        "CALLRESULT serialises", text);
  const auto back = ocpp::parse_frame(text, ocpp::ProtocolVersion::v16);
  check(back.ok() && back.frame.type == ocpp::MessageType::CallResult && back.frame.payload == result,
        "CALLRESULT round-trips");

  const std::string error = ocpp::serialize_call_error(
      "7", ocpp::wire_name(ocpp::ErrorCode::FormatViolation, ocpp::ProtocolVersion::v16), "bad", {});
  check(error == R"([4,"7","FormationViolation","bad",{}])", "CALLERROR uses the 1.6 spelling", error);

  const std::string id = ocpp::random_message_id();
  check(id.size() == 36 && id[14] == '4' && id != ocpp::random_message_id(), "random message ids are UUID v4", id);
}

void exceptions() {
  bool caught = false;
  try {
    throw ocpp::RpcError(ocpp::ErrorCode::NotImplemented, "no handler");
  } catch (const ocpp::Error& e) {
    caught = std::string_view(e.what()).size() > 0;
  }
  check(caught, "exceptions are caught (-fexceptions)");

  bool conversion_error = false;
  try {
    (void)boost::json::value_to<ocpp::v16::BootNotificationRequest>(boost::json::parse(R"({"chargePointVendor":1})"));
  } catch (const ocpp::ConversionError&) {
    conversion_error = true;
  }
  check(conversion_error, "value_to throws ConversionError on a wrong shape");
}

void validators() {
  namespace json = boost::json;
  const ocpp::ActionInfo* boot = ocpp::v16::find_action("BootNotification");
  check(boot != nullptr, "ocpp1.6 BootNotification is in the action table");
  if (!boot) return;
  ocpp::schema::ValidationError error;
  const json::value valid = json::parse(R"({"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"})");
  check(boot->validate_request(valid, {}, &error), "valid 1.6 BootNotification.req passes", error.message);
  const json::value missing = json::parse(R"({"chargePointVendor":"VendorX"})");
  check(!boot->validate_request(missing, {}, &error) && error.keyword == "required" && error.path == "/chargePointModel",
        "1.6 BootNotification.req without chargePointModel fails on required", error.path + " " + error.keyword);
  const json::value too_long = json::parse(R"({"chargePointVendor":"123456789012345678901","chargePointModel":"M"})");
  check(!boot->validate_request(too_long, {}, &error) && error.keyword == "maxLength",
        "1.6 chargePointVendor of 21 characters fails on maxLength", error.keyword);

  // multipleOf 0.1 on a charging schedule's limit: decided on shortest decimals (std::to_chars).
  const ocpp::ActionInfo* profile = ocpp::v16::find_action("SetChargingProfile");
  check(profile != nullptr, "ocpp1.6 SetChargingProfile is in the action table");
  if (profile) {
    auto payload = [](std::string_view limit) {
      return json::parse(std::string(R"({"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,)"
                                     R"("chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",)"
                                     R"("chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[)"
                                     R"({"startPeriod":0,"limit":)") +
                         std::string(limit) + "}]}}}");
    };
    check(profile->validate_request(payload("8.1"), {}, &error), "limit 8.1 is a multiple of 0.1", error.message);
    check(!profile->validate_request(payload("8.15"), {}, &error) && error.keyword == "multipleOf",
          "limit 8.15 is not a multiple of 0.1", error.keyword + ": " + error.message);
  }

  const ocpp::ActionInfo* boot201 = ocpp::v201::find_action("BootNotification");
  const json::value boot201_payload =
      json::parse(R"({"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"})");
  check(boot201 && boot201->validate_request(boot201_payload, {}, &error), "valid 2.0.1 BootNotificationRequest passes");
  const json::value bad_reason = json::parse(R"({"chargingStation":{"model":"M","vendorName":"V"},"reason":"Nope"})");
  check(boot201 && !boot201->validate_request(bad_reason, {}, &error) && error.keyword == "enum",
        "2.0.1 BootNotificationRequest with an unknown reason fails on enum");

  const ocpp::ActionInfo* boot21 = ocpp::v21::find_action("BootNotification");
  check(boot21 && boot21->validate_request(boot201_payload, {}, &error), "valid 2.1 BootNotificationRequest passes");
}

void logging() {
  namespace json = boost::json;
  // Doubles go through std::to_chars (wasm/libcxx13_compat.hpp here): shortest, fixed or scientific.
  const json::object fields = json::parse(R"({"a":45.5,"b":1e23,"c":0.0001,"d":-0.0,"e":100.0,"f":3})").as_object();
  const std::string text = ocpp::fields_to_json(fields);
  check(text == R"({"a":45.5,"b":1e+23,"c":1e-04,"d":-0,"e":100,"f":3})", "fields_to_json prints doubles shortest", text);

  json::value payload = json::parse(R"({"key":"AuthorizationKey","value":"0123456789abcdef"})");
  ocpp::redact(payload);
  check(payload.as_object().at("value") != "0123456789abcdef", "redact masks an AuthorizationKey",
        json::serialize(payload));
}

// The engine's shell, as small as it gets: frames are recorded, a Heartbeat is answered inline,
// the wake-up it asks for is recorded (the test moves the clock and calls on_timer() itself).
class SmokeHost final : public ocpp::EngineHost {
 public:
  ocpp::RpcEngine* engine = nullptr;
  std::vector<std::string> frames;
  std::vector<std::optional<ocpp::TimePoint>> schedules;
  int handled = 0;
  int closes = 0;

  void write(std::string frame) override { frames.push_back(std::move(frame)); }
  void close_transport(std::uint16_t, std::string_view) override { ++closes; }
  void terminate_transport() override { ++closes; }
  void close_session(ocpp::CloseOptions) override { ++closes; }
  std::vector<std::string_view> handled_actions{"Heartbeat"};

  ocpp::HandlerRef find_handler(std::string_view action) override {
    for (std::string_view a : handled_actions)
      if (a == action) return static_cast<ocpp::HandlerRef>(&heartbeat_);
    return nullptr;
  }
  void run_handler(ocpp::HandlerRef, ocpp::InboundRequest& call) override {
    ++handled;
    // Copied first: the handler is free to move them out of the request.
    const std::string id = call.id;
    const std::string action = call.action;
    engine->answer(id, action, call.is_send,
                   ocpp::Reply::result(boost::json::object{{"currentTime", "2025-01-01T00:00:00Z"}}));
  }
  void schedule(std::optional<ocpp::TimePoint> deadline) override { schedules.push_back(deadline); }
  void post_advance(std::shared_ptr<ocpp::detail::MessageStage>, std::size_t) override { ++advances_; }
  std::weak_ptr<ocpp::EngineHost> weak_host() override { return {}; }  // no middleware here

 private:
  int heartbeat_ = 0;
  int advances_ = 0;
};

struct Outcome {
  int completions = 0;
  std::optional<ocpp::Failure> failure;
  boost::json::value result;
};

class SmokeCall final : public ocpp::OutboundCall {
 public:
  explicit SmokeCall(std::shared_ptr<Outcome> outcome) : outcome_(std::move(outcome)) {}
  void complete(std::optional<ocpp::Failure> failure, boost::json::value result, bool) override {
    ++outcome_->completions;
    outcome_->failure = std::move(failure);
    outcome_->result = std::move(result);
  }

 private:
  std::shared_ptr<Outcome> outcome_;
};

std::unique_ptr<ocpp::OutboundCall> make_call(std::string id, std::chrono::milliseconds timeout,
                                              std::shared_ptr<Outcome> outcome) {
  auto call = std::make_unique<SmokeCall>(std::move(outcome));
  call->action = "Heartbeat";
  call->payload = boost::json::object{};
  call->id = std::move(id);
  call->timeout = timeout;
  return call;
}

// The last written frame, parsed (1.6), or a frame of type CallResultError when there is none.
ocpp::Frame last_frame(const SmokeHost& host) {
  if (host.frames.empty()) return ocpp::Frame{ocpp::MessageType::CallResultError};
  return ocpp::parse_frame(host.frames.back(), ocpp::ProtocolVersion::v16).frame;
}

void engine() {
  namespace json = boost::json;
  using namespace std::chrono_literals;
  ocpp::TimePoint now = ocpp::TimePoint{} + 1h;
  SmokeHost host;
  ocpp::SessionOptions options;
  options.clock = [&now] { return now; };
  options.logger = ocpp::null_logger();
  ocpp::RpcEngine engine(host, std::make_shared<const ocpp::SessionOptions>(std::move(options)), "CP001");
  host.engine = &engine;
  int bad_messages = 0;
  engine.events().bad_message = [&](const ocpp::BadMessageEvent&) { ++bad_messages; };

  engine.open("ocpp1.6");
  check(engine.state() == ocpp::ConnectionState::open && engine.protocol() == "ocpp1.6", "engine opens on ocpp1.6");
  check(engine.now() == now, "the engine reads the injected clock");

  // An inbound CALL, answered inline by the host's handler.
  engine.on_frame(R"([2,"a1","Heartbeat",{}])");
  auto f = last_frame(host);
  check(host.handled == 1 && host.frames.size() == 1 && f.type == ocpp::MessageType::CallResult && f.id == "a1" &&
            f.payload.is_object() && f.payload.as_object().contains("currentTime"),
        "an inbound Heartbeat CALL is answered with a CALLRESULT", host.frames.empty() ? "" : host.frames.back());

  // An outbound CALL, written and completed by the matching CALLRESULT.
  auto answered = std::make_shared<Outcome>();
  const auto serial = engine.call(make_call("c1", 5000ms, answered));
  check(serial != 0 && host.frames.size() == 2 && host.frames.back() == R"([2,"c1","Heartbeat",{}])",
        "an outbound call is written as a CALL", host.frames.back());
  check(!host.schedules.empty() && host.schedules.back() == now + 5000ms && engine.next_deadline() == now + 5000ms,
        "the call asks for a wake-up at its deadline");
  engine.on_frame(R"([3,"c1",{"currentTime":"2025-01-01T00:00:00Z"}])");
  check(answered->completions == 1 && !answered->failure && answered->result.is_object() &&
            answered->result.as_object().at("currentTime") == "2025-01-01T00:00:00Z",
        "the matching CALLRESULT completes the call with its payload",
        answered->failure ? answered->failure->message : "");
  check(!host.schedules.empty() && !host.schedules.back() && !engine.next_deadline(),
        "nothing waits once the call is answered");

  // An outbound CALL nobody answers: it times out once the clock passes its deadline.
  auto unanswered = std::make_shared<Outcome>();
  engine.call(make_call("c2", 1000ms, unanswered));
  check(host.frames.size() == 3 && host.frames.back() == R"([2,"c2","Heartbeat",{}])", "the second call is written",
        host.frames.back());
  now += 999ms;
  engine.on_timer();
  check(unanswered->completions == 0, "the call is still pending before its deadline");
  now += 2ms;
  engine.on_timer();
  check(unanswered->completions == 1 && unanswered->failure && unanswered->failure->kind == ocpp::FailureKind::timeout,
        "the call times out after its deadline (FailureKind::timeout)",
        unanswered->failure ? unanswered->failure->message : "no failure");
  check(!host.schedules.empty() && !host.schedules.back(), "no wake-up is asked for after the timeout");
  engine.on_frame(R"([3,"c2",{}])");
  check(unanswered->completions == 1 && host.frames.size() == 3 && bad_messages == 1,
        "a late answer is dropped without completing the call again");

  // A malformed CALL: a CALLERROR to its id.
  engine.on_frame(R"([2,"m1",{}])");
  f = last_frame(host);
  check(host.frames.size() == 4 && f.type == ocpp::MessageType::CallError && f.id == "m1" &&
            f.error_code_text == "FormationViolation" && bad_messages == 2,
        "a malformed CALL gets a CALLERROR (1.6 FormationViolation)", host.frames.back());
  // An action without a handler: NotImplemented.
  engine.on_frame(R"([2,"u1","NoSuchAction",{}])");
  f = last_frame(host);
  check(host.frames.size() == 5 && f.type == ocpp::MessageType::CallError && f.id == "u1" &&
            f.error_code_text == "NotImplemented",
        "a CALL without a handler gets NotImplemented", host.frames.back());
  check(host.closes == 0 && engine.state() == ocpp::ConnectionState::open, "the engine stays open");
}

// Strict mode through the engine: under emscripten its validators are the compact tables
// (OCPP_COMPACT_SCHEMAS), which must give the generated validators' error.
void strict_engine() {
  namespace json = boost::json;
  SmokeHost host;
  host.handled_actions.push_back("BootNotification");  // strict mode checks only handled actions
  ocpp::SessionOptions options;
  options.logger = ocpp::null_logger();
  options.strict_mode.enabled = true;
  ocpp::RpcEngine engine(host, std::make_shared<const ocpp::SessionOptions>(std::move(options)), "CP001");
  host.engine = &engine;
  std::optional<ocpp::schema::ValidationError> seen;
  engine.events().validation_failure = [&](const ocpp::ValidationFailureEvent& e) { seen = e.error; };
  engine.open("ocpp2.0.1");
  const char* payload = R"({"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V","firmwareVersion":7}})";
  engine.on_frame(std::string(R"([2,"s1","BootNotification",)") + payload + "]");
  ocpp::Frame f = ocpp::parse_frame(host.frames.empty() ? "[]" : host.frames.back(), ocpp::ProtocolVersion::v201).frame;
  ocpp::schema::ValidationError expected;
  const bool valid = ocpp::v201::validate_BootNotificationRequest(json::parse(payload), {}, &expected);
  check(!valid && expected.path == "/chargingStation/firmwareVersion" && f.type == ocpp::MessageType::CallError &&
            f.id == "s1" && f.error_code_text == "TypeConstraintViolation" && seen && seen->path == expected.path &&
            seen->keyword == expected.keyword && seen->message == expected.message,
        "strict mode refuses an invalid BootNotification with the generated validator's error",
        seen ? seen->path + " " + seen->keyword + " " + seen->message : "no validation failure event");
  engine.on_frame(R"([2,"s2","Heartbeat",{}])");
  f = ocpp::parse_frame(host.frames.back(), ocpp::ProtocolVersion::v201).frame;
  check(host.handled == 1 && f.type == ocpp::MessageType::CallResult && f.id == "s2",
        "strict mode passes a valid Heartbeat to its handler", host.frames.back());
}

void basic_auth() {
  static constexpr char raw[] = "s3cret:with:colons\x01\0binary";
  const std::string password(raw, sizeof raw - 1);  // with its NUL
  const std::string header = ocpp::basic_auth_header("CP:001", password);
  check(header.rfind("Basic ", 0) == 0, "basic_auth_header starts with \"Basic \"", header);
  check(ocpp::basic_auth_header("CP001", "secret:with:colons") == "Basic Q1AwMDE6c2VjcmV0OndpdGg6Y29sb25z",
        "basic_auth_header is base64 of identity:password");
  const auto back = ocpp::basic_auth_password(header, "CP:001");
  check(back && *back == password, "basic_auth_password round-trips a binary password with colons");
  check(!ocpp::basic_auth_password(header, "CP:002"), "basic_auth_password refuses another identity");
  check(!ocpp::basic_auth_password("Bearer abc", "CP:001"), "basic_auth_password refuses another scheme");
}

}  // namespace

int main() {
  guarded("frames", frames);
  guarded("exceptions", exceptions);
  guarded("validators", validators);
  guarded("logging", logging);
  guarded("engine", engine);
  guarded("strict_engine", strict_engine);
  guarded("basic_auth", basic_auth);
  std::printf("wasm smoke: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
