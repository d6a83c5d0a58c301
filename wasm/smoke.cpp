// Smoke test of the IO-free libraries as WebAssembly: frames, error codes, ids, the logging
// interface and the generated validators of the three OCPP versions, run by node
// (`node build/wasm/wasm/smoke.js`). Prints "wasm smoke: N passed, M failed"; exits 1 on a failure.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

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

}  // namespace

int main() {
  guarded("frames", frames);
  guarded("exceptions", exceptions);
  guarded("validators", validators);
  guarded("logging", logging);
  std::printf("wasm smoke: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
