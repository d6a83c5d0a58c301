// Typed API: value_from / value_to, optional members, extras, enums, malformed input.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <ocpp/messages/v16.hpp>
#include <ocpp/messages/v201.hpp>
#include <ocpp/messages/v21.hpp>

namespace json = boost::json;

namespace {

TEST(Conversion, StructToJsonOmitsEmptyOptionals) {
  // designated initialisers work (every member has a default member initializer)
  ocpp::v16::BootNotificationRequest req{
      .chargePointVendor = "ACME", .chargePointModel = "Wallbox-1", .firmwareVersion = "1.2.3"};
  json::value v = json::value_from(req);
  EXPECT_EQ(v, json::parse(R"({"chargePointVendor":"ACME","chargePointModel":"Wallbox-1","firmwareVersion":"1.2.3"})"));
  EXPECT_TRUE(ocpp::v16::validate_BootNotificationRequest(v, {}, nullptr));
  auto back = json::value_to<ocpp::v16::BootNotificationRequest>(v);
  EXPECT_EQ(back, req);
  EXPECT_FALSE(back.iccid.has_value());
}

TEST(Conversion, Enums) {
  using namespace ocpp::v16;
  EXPECT_EQ(to_string(Measurand::Energy_Active_Import_Register), "Energy.Active.Import.Register");
  EXPECT_EQ(to_string(Phase::L1_N), "L1-N");
  EXPECT_EQ(to_string(Unit::kWh), "kWh");
  Measurand m{};
  EXPECT_TRUE(from_string("SoC", m));
  EXPECT_EQ(m, Measurand::SoC);
  EXPECT_FALSE(from_string("soc", m));
  EXPECT_EQ(json::value_from(BootNotificationStatus::Accepted), json::value("Accepted"));
}

TEST(Conversion, NestedAndArrays) {
  using namespace ocpp::v16;
  MeterValuesRequest mv;
  mv.connectorId = 2;
  mv.transactionId = 42;
  SampledValue sv;
  sv.value = "1234.5";
  sv.measurand = Measurand::Energy_Active_Import_Register;
  sv.unit = Unit::Celcius;
  mv.meterValue.push_back(MeterValue{"2024-01-01T00:00:00Z", {sv}});
  json::value v = json::value_from(mv);
  EXPECT_EQ(v.at_pointer("/meterValue/0/sampledValue/0/measurand"), json::value("Energy.Active.Import.Register"));
  EXPECT_TRUE(validate_MeterValuesRequest(v, {}, nullptr));
  EXPECT_EQ(json::value_to<MeterValuesRequest>(v), mv);
}

TEST(Conversion, CustomDataExtrasRoundTrip) {
  using namespace ocpp::v201;
  json::value v = json::parse(
      R"({"customData":{"vendorId":"com.example","x":{"y":[1,2]},"z":null},"reason":"PowerUp",
          "chargingStation":{"model":"M","vendorName":"V"}})");
  auto req = json::value_to<BootNotificationRequest>(v);
  ASSERT_TRUE(req.customData.has_value());
  EXPECT_EQ(req.customData->vendorId, "com.example");
  EXPECT_EQ(req.customData->extra.size(), 2u);
  EXPECT_EQ(req.reason, BootReasonEnumType::PowerUp);
  EXPECT_EQ(json::value_from(req), v);
}

TEST(Conversion, MalformedThrowsConversionError) {
  using namespace ocpp::v16;
  const char* bad[] = {
      R"([])",
      R"({"chargePointModel":"m"})",                             // missing required
      R"({"chargePointVendor":1,"chargePointModel":"m"})",       // wrong type
      R"({"chargePointVendor":"v","chargePointModel":null})",    // null for required
  };
  for (const char* text : bad) {
    json::value v = json::parse(text);
    EXPECT_THROW(json::value_to<BootNotificationRequest>(v), ocpp::ConversionError) << text;
    EXPECT_THROW(json::value_to<BootNotificationRequest>(v), std::invalid_argument) << text;
  }
  EXPECT_THROW(json::value_to<AuthorizeResponse>(json::parse(R"({"idTagInfo":{"status":"Nope"}})")),
               ocpp::ConversionError);
  EXPECT_THROW(json::value_to<MeterValuesRequest>(json::parse(R"({"connectorId":1.5,"meterValue":[]})")),
               ocpp::ConversionError);
  EXPECT_THROW(json::value_to<MeterValuesRequest>(json::parse(R"({"connectorId":18446744073709551615,"meterValue":[]})")),
               ocpp::ConversionError);
  EXPECT_THROW(json::value_to<MeterValuesRequest>(json::parse(R"({"connectorId":1,"meterValue":{}})")),
               ocpp::ConversionError);
  // integral doubles convert to integers; null optionals are treated as absent
  auto mv = json::value_to<MeterValuesRequest>(json::parse(R"({"connectorId":3.0,"meterValue":[],"transactionId":null})"));
  EXPECT_EQ(mv.connectorId, 3);
  EXPECT_FALSE(mv.transactionId.has_value());
  try {
    json::value_to<BootNotificationRequest>(json::parse(R"({"chargePointModel":"m"})"));
  } catch (const ocpp::ConversionError& e) {
    EXPECT_NE(std::string(e.what()).find("BootNotificationRequest.chargePointVendor"), std::string::npos) << e.what();
  }
}

TEST(Conversion, SendMessage) {
  using namespace ocpp::v21;
  static_assert(std::is_void_v<ocpp::action_traits<NotifyPeriodicEventStreamRequest>::response_type>);
  NotifyPeriodicEventStreamRequest m{};
  m.id = 1;
  m.pending = 0;
  m.basetime = "2025-01-01T00:00:00Z";
  StreamDataElementType d;
  d.t = 0.5;
  d.v = "230.1";
  m.data.push_back(d);
  json::value v = json::value_from(m);
  EXPECT_TRUE(validate_NotifyPeriodicEventStreamRequest(v, {}, nullptr)) << json::serialize(v);
}

}  // namespace
