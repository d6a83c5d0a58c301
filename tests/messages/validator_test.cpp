// Unit tests of the generated JSON-schema validators: every keyword, first-error path and keyword.
#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <ocpp/messages/v16.hpp>
#include <ocpp/messages/v201.hpp>
#include <ocpp/messages/v21.hpp>

#include "samples.hpp"

namespace json = boost::json;
using ocpp::schema::ValidateFn;
using ocpp::schema::ValidationError;
using ocpp::schema::ValidationOptions;

namespace {

// Validate; return the error (keyword empty when valid).
ValidationError check(ValidateFn fn, const json::value& v, ValidationOptions opt = {}) {
  ValidationError e;
  if (fn(v, opt, &e)) return {};
  EXPECT_FALSE(e.keyword.empty());
  return e;
}

// JSON text (parsed), not a JSON string value.
ValidationError check(ValidateFn fn, const char* text, ValidationOptions opt = {}) {
  return check(fn, json::parse(text), opt);
}
ValidationError check(ValidateFn fn, const std::string& text, ValidationOptions opt = {}) {
  return check(fn, json::parse(text), opt);
}

#define EXPECT_VALID(fn, v)                                                          \
  do {                                                                               \
    auto err_ = check(fn, v);                                                        \
    EXPECT_TRUE(err_.keyword.empty()) << err_.path << " " << err_.keyword << " " << err_.message; \
  } while (0)

#define EXPECT_INVALID(fn, v, path_, keyword_) \
  do {                                         \
    auto err_ = check(fn, v);                  \
    EXPECT_EQ(err_.path, path_);               \
    EXPECT_EQ(err_.keyword, keyword_);         \
    EXPECT_FALSE(err_.message.empty());        \
  } while (0)

json::value full16(std::string_view type) { return ocpp_test::sample_json(ocpp_test::samples_v16(), type); }
json::value full201(std::string_view type) { return ocpp_test::sample_json(ocpp_test::samples_v201(), type); }

TEST(Validator, Required) {
  using namespace ocpp::v16;
  EXPECT_INVALID(validate_BootNotificationRequest, "{}", "/chargePointVendor", "required");
  EXPECT_INVALID(validate_BootNotificationRequest, R"({"chargePointVendor":"v"})", "/chargePointModel", "required");
  EXPECT_VALID(validate_BootNotificationRequest, R"({"chargePointVendor":"v","chargePointModel":"m"})");
  // nested
  EXPECT_INVALID(validate_AuthorizeResponse, R"({"idTagInfo":{}})", "/idTagInfo/status", "required");
}

TEST(Validator, Type) {
  using namespace ocpp::v16;
  EXPECT_INVALID(validate_HeartbeatResponse, R"({"currentTime":5})", "/currentTime", "type");
  EXPECT_INVALID(validate_HeartbeatResponse, "[]", "", "type");
  EXPECT_INVALID(validate_HeartbeatResponse, "null", "", "type");
  EXPECT_INVALID(validate_AuthorizeResponse, R"({"idTagInfo":"Accepted"})", "/idTagInfo", "type");
  // integer: integral doubles are integers (JSON Schema), fractions and strings are not
  EXPECT_VALID(validate_MeterValuesRequest, R"({"connectorId":1.0,"meterValue":[]})");
  EXPECT_INVALID(validate_MeterValuesRequest, R"({"connectorId":1.5,"meterValue":[]})", "/connectorId", "type");
  EXPECT_INVALID(validate_MeterValuesRequest, R"({"connectorId":"1","meterValue":[]})", "/connectorId", "type");
  EXPECT_INVALID(validate_MeterValuesRequest, R"({"connectorId":true,"meterValue":[]})", "/connectorId", "type");
  // number accepts integers; boolean
  EXPECT_VALID(validate_GetCompositeScheduleResponse,
               R"({"status":"Accepted","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}})");
  EXPECT_INVALID(ocpp::v201::validate_GetDisplayMessagesResponse, R"({"status":1})", "/status", "type");
}

// Found by fuzz/messages.cpp: the typed messages hold integers as std::int64_t, so an integer the
// validator accepts beyond that range (1.1e51, 2^64-1) made a valid payload fail to convert.
TEST(Validator, IntegersBeyondInt64AreRefusedSoEveryValidPayloadConverts) {
  using namespace ocpp::v201;
  const auto get_log = [](std::string id) {
    return R"({"log":{"remoteLocation":"ftp://x/"},"logType":"DiagnosticsLog","requestId":)" + id + "}";
  };
  EXPECT_INVALID(validate_GetLogRequest, get_log("1.1111111111111111e51"), "/requestId", "type");
  EXPECT_INVALID(validate_GetLogRequest, get_log("-9.3e18"), "/requestId", "type");
  EXPECT_INVALID(validate_GetLogRequest, get_log("18446744073709551615"), "/requestId", "type");
  EXPECT_INVALID(validate_GetLogRequest, get_log("9223372036854775808"), "/requestId", "type");
  for (const char* id : {"9223372036854775807", "-9223372036854775808", "9.2e18"}) {
    EXPECT_VALID(validate_GetLogRequest, get_log(id));
    EXPECT_NO_THROW(json::value_to<GetLogRequest>(json::parse(get_log(id)))) << id;
  }
}

TEST(Validator, AdditionalProperties) {
  using namespace ocpp::v16;
  EXPECT_INVALID(validate_AuthorizeRequest, R"({"idTag":"x","foo":1})", "/foo", "additionalProperties");
  EXPECT_INVALID(validate_AuthorizeRequest, R"({"idTag":"x","a/b~c":1})", "/a~1b~0c", "additionalProperties");
  EXPECT_INVALID(validate_HeartbeatRequest, R"({"x":1})", "/x", "additionalProperties");
  EXPECT_VALID(validate_HeartbeatRequest, "{}");
  EXPECT_INVALID(validate_AuthorizeResponse, R"({"idTagInfo":{"status":"Accepted","x":1}})", "/idTagInfo/x",
                 "additionalProperties");
  // required is reported before additionalProperties
  EXPECT_INVALID(validate_AuthorizeRequest, R"({"foo":1})", "/idTag", "required");
  // 2.x customData allows extra members
  EXPECT_VALID(ocpp::v201::validate_HeartbeatRequest, R"({"customData":{"vendorId":"v","anything":[1]}})");
  EXPECT_INVALID(ocpp::v201::validate_HeartbeatRequest, R"({"customData":{"anything":[1]}})", "/customData/vendorId",
                 "required");
}

TEST(Validator, Enum) {
  using namespace ocpp::v16;
  EXPECT_INVALID(validate_AuthorizeResponse, R"({"idTagInfo":{"status":"Nope"}})", "/idTagInfo/status", "enum");
  EXPECT_INVALID(validate_AuthorizeResponse, R"({"idTagInfo":{"status":"accepted"}})", "/idTagInfo/status", "enum");
  EXPECT_INVALID(validate_AuthorizeResponse, R"({"idTagInfo":{"status":1}})", "/idTagInfo/status", "type");
  EXPECT_VALID(validate_AuthorizeResponse, R"({"idTagInfo":{"status":"ConcurrentTx"}})");
  // array path
  json::value mv = json::parse(
      R"({"connectorId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z","sampledValue":[{"value":"1"},{"value":"2","measurand":"Bogus"}]}]})");
  EXPECT_INVALID(validate_MeterValuesRequest, mv, "/meterValue/0/sampledValue/1/measurand", "enum");
}

TEST(Validator, CelsiusSpellings) {
  using namespace ocpp::v16;
  for (const char* unit : {"Celcius", "Celsius"}) {
    std::string mv = std::string(R"({"connectorId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z","sampledValue":[{"value":"21.5","unit":")") +
                     unit + R"("}]}]})";
    EXPECT_VALID(validate_MeterValuesRequest, mv);
    std::string st = std::string(R"({"meterStop":1,"timestamp":"2024-01-01T00:00:00Z","transactionId":1,"transactionData":[{"timestamp":"2024-01-01T00:00:00Z","sampledValue":[{"value":"1","unit":")") +
                     unit + R"("}]}]})";
    EXPECT_VALID(validate_StopTransactionRequest, st);
    Unit u{};
    EXPECT_TRUE(from_string(unit, u));
  }
}

TEST(Validator, StringLengthCountsCodePoints) {
  using namespace ocpp::v16;  // Authorize.idTag: maxLength 20
  EXPECT_VALID(validate_AuthorizeRequest, R"({"idTag":"12345678901234567890"})");
  EXPECT_INVALID(validate_AuthorizeRequest, R"({"idTag":"123456789012345678901"})", "/idTag", "maxLength");
  std::string twenty_e_acute;  // 20 code points, 40 bytes
  for (int i = 0; i < 20; ++i) twenty_e_acute += "\xC3\xA9";
  json::object o;
  o["idTag"] = twenty_e_acute;
  EXPECT_VALID(validate_AuthorizeRequest, json::value(o));
  o["idTag"] = twenty_e_acute + "\xF0\x9F\x94\x8C";  // + one 4-byte code point (plug emoji)
  EXPECT_INVALID(validate_AuthorizeRequest, json::value(o), "/idTag", "maxLength");
  EXPECT_EQ(ocpp::schema::code_points("a\xC3\xA9\xF0\x9F\x94\x8C"), 3u);
}

TEST(Validator, MinimumMaximum) {
  using ocpp::v201::validate_NotifyEVChargingNeedsRequest;
  json::value v = full201("NotifyEVChargingNeedsRequest");
  json::value& soc = v.at_pointer("/chargingNeeds/dcChargingParameters/stateOfCharge");
  for (int ok : {0, 50, 100}) {
    soc = ok;
    EXPECT_VALID(validate_NotifyEVChargingNeedsRequest, v);
  }
  soc = 101;
  EXPECT_INVALID(validate_NotifyEVChargingNeedsRequest, v, "/chargingNeeds/dcChargingParameters/stateOfCharge",
                 "maximum");
  soc = -1;
  EXPECT_INVALID(validate_NotifyEVChargingNeedsRequest, v, "/chargingNeeds/dcChargingParameters/stateOfCharge",
                 "minimum");
  soc = 100.0;  // integral double
  EXPECT_VALID(validate_NotifyEVChargingNeedsRequest, v);
}

TEST(Validator, MultipleOfDecidedOnDecimalValue) {
  using ocpp::v16::validate_SetChargingProfileRequest;
  json::value v = full16("SetChargingProfileRequest");
  json::value& limit = v.at_pointer("/csChargingProfiles/chargingSchedule/chargingSchedulePeriod/0/limit");
  json::value& rate = v.at_pointer("/csChargingProfiles/chargingSchedule/minChargingRate");
  for (double ok : {8.1, 21.4, 0.0, 2000.0, 16.3, 0.1, 0.3, 1e6, 123456.7}) {
    limit = ok;
    rate = ok;
    SCOPED_TRACE(ok);
    EXPECT_VALID(validate_SetChargingProfileRequest, v);
  }
  limit = std::int64_t{2000};  // integers are numbers too
  EXPECT_VALID(validate_SetChargingProfileRequest, v);
  limit = 6.25;
  EXPECT_INVALID(validate_SetChargingProfileRequest, v,
                 "/csChargingProfiles/chargingSchedule/chargingSchedulePeriod/0/limit", "multipleOf");
  limit = 8.0;
  rate = 0.05;
  EXPECT_INVALID(validate_SetChargingProfileRequest, v, "/csChargingProfiles/chargingSchedule/minChargingRate",
                 "multipleOf");

  using ocpp::schema::is_multiple_of;
  EXPECT_TRUE(is_multiple_of(8.1, 0.1));
  EXPECT_TRUE(is_multiple_of(-8.1, 0.1));
  EXPECT_TRUE(is_multiple_of(21.4, 0.1));
  EXPECT_TRUE(is_multiple_of(0.0, 0.1));
  EXPECT_TRUE(is_multiple_of(2000, 0.1));
  EXPECT_TRUE(is_multiple_of(1e300, 0.1));
  EXPECT_FALSE(is_multiple_of(6.25, 0.1));
  EXPECT_FALSE(is_multiple_of(0.1 + 0.2, 0.1));  // 0.30000000000000004 is not a one-decimal value
  EXPECT_TRUE(is_multiple_of(7.5, 2.5));
  EXPECT_FALSE(is_multiple_of(7.6, 2.5));
  EXPECT_TRUE(is_multiple_of(6.25, 0.05));
  EXPECT_TRUE(is_multiple_of(12, 3));
  EXPECT_FALSE(is_multiple_of(13, 3));
  EXPECT_FALSE(is_multiple_of(1e-5, 0.1));
}

TEST(Validator, DateTime) {
  using ocpp::v16::validate_HeartbeatResponse;
  auto hb = [](const char* t) { return json::value(json::object{{"currentTime", t}}); };
  for (const char* ok : {"2024-01-01T12:00:00Z", "2024-01-01t12:00:00z", "2024-02-29T23:59:59.123456+01:00",
                         "1999-12-31T23:59:60Z", "2024-06-30T23:59:60.5Z", "2024-07-01T01:59:60+02:00",
                         "2024-01-01T00:00:00-23:59"}) {
    SCOPED_TRACE(ok);
    EXPECT_VALID(validate_HeartbeatResponse, hb(ok));
  }
  for (const char* bad : {"2024-01-01T12:00:00", "2024-01-01 12:00:00Z", "2023-02-29T00:00:00Z",
                          "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z",
                          "2024-01-01T12:60:00Z", "2024-01-01T12:00:00.Z", "2024-01-01T12:00:00+0100",
                          "2024-01-01T12:00:00+01", "2024-01-01T12:00:60Z", "2024-1-01T12:00:00Z",
                          "2024-01-01T12:00:00Zjunk", "", "2024-01-01", "2024-01-01T12:00:00+24:00"}) {
    EXPECT_INVALID(validate_HeartbeatResponse, hb(bad), "/currentTime", "format");
  }
  // lenient mode: offset may be missing, everything else is still checked
  ValidationOptions lenient;
  lenient.lenient_date_time = true;
  EXPECT_TRUE(check(validate_HeartbeatResponse, hb("2024-01-01T12:00:00"), lenient).keyword.empty());
  EXPECT_TRUE(check(validate_HeartbeatResponse, hb("2024-01-01T12:00:00.5"), lenient).keyword.empty());
  EXPECT_EQ(check(validate_HeartbeatResponse, hb("2024-01-01T25:00:00"), lenient).keyword, "format");
  EXPECT_EQ(check(validate_HeartbeatResponse, hb("2024-01-01 12:00:00"), lenient).keyword, "format");
  EXPECT_EQ(check(validate_HeartbeatResponse, hb("2024-01-01T12:00:00")).keyword, "format");
}

TEST(Validator, Uri) {
  using ocpp::v16::validate_GetDiagnosticsRequest;
  auto gd = [](const char* loc) { return json::value(json::object{{"location", loc}}); };
  for (const char* ok : {"ftp://user:pw@diag.example.com:21/upload/", "https://example.com/a%20b?x=1&y=2#frag",
                         "http://[2001:db8::1]:8080/", "urn:ocpp:diag", "file:///tmp/x", "sftp://10.0.0.1/logs"}) {
    SCOPED_TRACE(ok);
    EXPECT_VALID(validate_GetDiagnosticsRequest, gd(ok));
  }
  for (const char* bad : {"", "not a uri", "/relative/path", "example.com/x", "http://exa mple.com/",
                          "http://example.com/%zz", "http://example.com/%2", "1http://x", "http://host:port/",
                          "http://example.com/a#b#c", "http://[::1/"}) {
    EXPECT_INVALID(validate_GetDiagnosticsRequest, gd(bad), "/location", "format");
  }
}

TEST(Validator, MinItemsMaxItems) {
  using ocpp::v16::validate_GetInstalledCertificateIdsResponse;
  EXPECT_INVALID(validate_GetInstalledCertificateIdsResponse, R"({"status":"Accepted","certificateHashData":[]})",
                 "/certificateHashData", "minItems");
  EXPECT_INVALID(validate_GetInstalledCertificateIdsResponse, R"({"status":"Accepted","certificateHashData":{}})",
                 "/certificateHashData", "type");
  using ocpp::v201::validate_AuthorizeRequest;
  json::value v = full201("AuthorizeRequest");
  json::array& a = v.at_pointer("/iso15118CertificateHashData").as_array();
  json::value item = a[0];
  for (int i = 0; i < 3; ++i) a.push_back(item);
  EXPECT_VALID(validate_AuthorizeRequest, v);
  a.push_back(item);
  EXPECT_INVALID(validate_AuthorizeRequest, v, "/iso15118CertificateHashData", "maxItems");
  a.resize(4);
  a[3].as_object()["serialNumber"] = 7;
  EXPECT_INVALID(validate_AuthorizeRequest, v, "/iso15118CertificateHashData/3/serialNumber", "type");
}

TEST(Validator, FirstFailureInDocumentOrder) {
  using namespace ocpp::v16;
  // two errors: the first member in the instance is reported
  EXPECT_INVALID(validate_BootNotificationRequest,
                 R"({"chargePointVendor":"012345678901234567890","chargePointModel":5})", "/chargePointVendor",
                 "maxLength");
  EXPECT_INVALID(validate_BootNotificationRequest,
                 R"({"chargePointModel":5,"chargePointVendor":"012345678901234567890"})", "/chargePointModel", "type");
  // null error pointer is allowed
  EXPECT_FALSE(validate_BootNotificationRequest(json::parse("{}"), {}, nullptr));
  auto e = ocpp::schema::validate(validate_BootNotificationRequest, json::parse("{}"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->keyword, "required");
}

TEST(Validator, UntypedMembersAcceptAnything) {
  using ocpp::v201::validate_DataTransferRequest;
  EXPECT_VALID(validate_DataTransferRequest, R"({"vendorId":"v","data":{"a":[1,null]}})");
  EXPECT_VALID(validate_DataTransferRequest, R"({"vendorId":"v","data":null})");
  EXPECT_VALID(validate_DataTransferRequest, R"({"vendorId":"v","data":"x"})");
  // 1.6 DataTransfer.data is a string (known schema limitation, kept)
  EXPECT_INVALID(ocpp::v16::validate_DataTransferRequest, R"({"vendorId":"v","data":{"a":1}})", "/data", "type");
}

}  // namespace
