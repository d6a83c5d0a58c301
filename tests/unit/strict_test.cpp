// Strict mode over loopback: every phase (inbound call, outbound call, handler result, inbound
// result, SEND), the keyword → code table with each version's spelling, and the option filters.
#include "session_fixture.hpp"

using namespace ocpp_test;

namespace {

SessionOptions strict(std::vector<std::string> protocols = {}, std::vector<std::string> methods = {}) {
  SessionOptions o;
  o.strict_mode.enabled = true;
  o.strict_mode.protocols = std::move(protocols);
  o.strict_mode.methods = std::move(methods);
  return o;
}

struct Failures {
  std::vector<ValidationPhase> phases;
  std::vector<std::string> keywords;
  std::vector<ErrorCode> codes;
  void watch(RpcSession& s) {
    s.on_validation_failure([this](const ValidationFailureEvent& e) {
      phases.push_back(e.phase);
      keywords.push_back(e.error.keyword);
      codes.push_back(e.code);
    });
  }
};

constexpr const char* kBoot201 = R"({"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}})";

}  // namespace

class StrictTest : public SessionTest {
 protected:
  // Sends each payload as a BootNotification CALL and returns the CALLERROR codes in order.
  std::vector<std::string> codes_for(const std::vector<std::string>& payloads) {
    std::size_t first = raw->frames.size();
    for (std::size_t i = 0; i < payloads.size(); ++i)
      send_raw(R"([2,"m)" + std::to_string(i) + R"(","BootNotification",)" + payloads[i] + "]");
    EXPECT_TRUE(run_until([&] { return raw->frames.size() == first + payloads.size(); }));
    std::vector<std::string> codes;
    for (std::size_t i = first; i < raw->frames.size(); ++i) {
      auto f = raw->frame(i);
      codes.emplace_back(f.at(0) == 4 ? std::string(f.at(2).as_string()) : "ok");
    }
    return codes;
  }
};

TEST_F(StrictTest, InboundCallsAreValidatedBeforeTheHandlerWithTheMappedCodes) {
  auto csms = with_raw("ocpp2.0.1", strict());
  int called = 0;
  csms->handle("BootNotification", [&](CallContext&) -> HandlerResult {
    ++called;
    return json::object{{"currentTime", "2026-01-01T00:00:00Z"}, {"interval", 60}, {"status", "Accepted"}};
  });
  Failures failures;
  failures.watch(*csms);
  auto codes = codes_for({
      kBoot201,
      R"({"reason":"PowerUp","chargingStation":{"model":7,"vendorName":"V"}})",              // type
      R"({"reason":"PowerUp"})",                                                            // required
      R"({"reason":"Lunch","chargingStation":{"model":"M","vendorName":"V"}})",             // enum
      R"({"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"},"x":1})",      // additionalProperties
      R"({"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V","serialNumber":")" +
          std::string(26, 's') + R"("}})",                                                 // maxLength
  });
  EXPECT_EQ(codes, (std::vector<std::string>{"ok", "TypeConstraintViolation", "OccurrenceConstraintViolation",
                                             "PropertyConstraintViolation", "PropertyConstraintViolation",
                                             "FormatViolation"}));
  EXPECT_EQ(called, 1);
  EXPECT_EQ(failures.keywords,
            (std::vector<std::string>{"type", "required", "enum", "additionalProperties", "maxLength"}));
  for (auto p : failures.phases) EXPECT_EQ(p, ValidationPhase::inbound_call);
  auto details = raw->frame(2).at(4);
  EXPECT_EQ(details.at("path"), "/chargingStation");
  EXPECT_EQ(details.at("keyword"), "required");
}

TEST_F(StrictTest, Ocpp16SpellsTheCodesItsOwnWay) {
  auto csms = with_raw("ocpp1.6", strict());
  csms->handle("BootNotification", [](CallContext&) -> HandlerResult { return json::object(); });
  auto codes = codes_for({R"({"chargePointVendor":"V"})", R"({"chargePointVendor":"V","chargePointModel":")" +
                                                               std::string(21, 'm') + R"("})"});
  EXPECT_EQ(codes, (std::vector<std::string>{"OccurenceConstraintViolation", "FormationViolation"}));
}

TEST_F(StrictTest, OutboundCallsAreValidatedAndNothingIsSent) {
  auto cs = with_raw("ocpp2.0.1", strict());
  Failures failures;
  failures.watch(*cs);
  CallOutcome out;
  cs->call("BootNotification", json::parse(R"({"reason":"PowerUp"})"), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_TRUE(out.failed_with<ValidationFailure>());
  EXPECT_EQ(out.rpc_error().code(), ErrorCode::OccurrenceConstraintViolation);
  EXPECT_EQ(failures.phases, std::vector<ValidationPhase>{ValidationPhase::outbound_call});

  // The queue moves on: the next, valid call is sent.
  CallOutcome ok;
  cs->call("BootNotification", json::parse(kBoot201), ok.handler());
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0).at(2), "BootNotification");
}

TEST_F(StrictTest, InvalidHandlerResultsBecomeInternalError) {
  auto csms = with_raw("ocpp2.0.1", strict());
  csms->handle("Heartbeat", [](CallContext&) -> HandlerResult { return json::object{{"currentTime", "yesterday"}}; });
  Failures failures;
  failures.watch(*csms);
  send_raw(R"([2,"h1","Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0).at(0), 4);
  EXPECT_EQ(raw->frame(0).at(2), "InternalError");
  EXPECT_EQ(raw->frame(0).at(4), json::object());  // nothing of the invalid payload leaks
  EXPECT_EQ(failures.phases, std::vector<ValidationPhase>{ValidationPhase::handler_result});
  EXPECT_EQ(failures.keywords, std::vector<std::string>{"format"});
}

TEST_F(StrictTest, InvalidCallResultsFailTheCallAndOnlyOcpp21AnswersThem) {
  for (std::string protocol : {"ocpp2.0.1", "ocpp2.1"}) {
    SCOPED_TRACE(protocol);
    auto cs = with_raw(protocol, strict());
    Failures failures;
    failures.watch(*cs);
    CallOutcome out;
    cs->call("Heartbeat", json::object(), out.handler());
    ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
    std::string id(raw->frame(0).at(1).as_string());
    send_raw(R"([3,")" + id + R"(",{"currentTime":"2026-13-01T00:00:00Z"}])");
    ASSERT_TRUE(run_until([&] { return out.done; }));
    ASSERT_TRUE(out.failed_with<ValidationFailure>());
    EXPECT_EQ(out.rpc_error().code(), ErrorCode::FormatViolation);
    EXPECT_EQ(failures.phases, std::vector<ValidationPhase>{ValidationPhase::inbound_result});
    if (protocol == "ocpp2.1") {
      ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
      auto f = raw->frame(1);
      EXPECT_EQ(f.at(0), 5);
      EXPECT_EQ(f.at(1).as_string(), id);
      EXPECT_EQ(f.at(2), "FormatViolation");
      EXPECT_EQ(f.at(4).at("path"), "/currentTime");
    } else {
      // Frames keep their order: a CALLRESULTERROR would arrive before this next CALL.
      cs->call("Heartbeat", json::object(), [](std::exception_ptr, json::value) {});
      ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
      EXPECT_EQ(raw->frame(1).at(0), 2);
    }
  }
}

TEST_F(StrictTest, InvalidSendIsDroppedUnanswered) {
  auto csms = with_raw("ocpp2.1", strict());
  bool called = false;
  csms->handle("NotifyPeriodicEventStream", [&](CallContext&) -> HandlerResult {
    called = true;
    return no_reply;
  });
  Failures failures;
  failures.watch(*csms);
  send_raw(R"([6,"s1","NotifyPeriodicEventStream",{"id":1}])");
  ASSERT_TRUE(run_until([&] { return !failures.phases.empty(); }));
  EXPECT_FALSE(called);
  // Frames keep their order: an answer to the SEND would arrive before this CALL's.
  send_raw(R"([2,"after","Unknown",{}])");
  ASSERT_TRUE(run_until([&] { return !raw->frames.empty(); }));
  EXPECT_EQ(raw->frame(0).at(1), "after");
}

TEST_F(StrictTest, OnlyTheListedProtocolsAndMethodsAreValidated) {
  auto other_protocol = with_raw("ocpp2.0.1", strict({"ocpp1.6"}));
  other_protocol->handle("BootNotification", [](CallContext&) -> HandlerResult {
    return json::object{{"currentTime", "2026-01-01T00:00:00Z"}, {"interval", 60}, {"status", "Accepted"}};
  });
  EXPECT_EQ(codes_for({R"({"reason":"Lunch"})"}), std::vector<std::string>{"ok"});

  auto other_method = with_raw("ocpp2.0.1", strict({}, {"Heartbeat"}));
  other_method->handle("BootNotification", [](CallContext&) -> HandlerResult {
    return json::object{{"currentTime", "2026-01-01T00:00:00Z"}, {"interval", 60}, {"status", "Accepted"}};
  });
  EXPECT_EQ(codes_for({R"({"reason":"Lunch"})"}), std::vector<std::string>{"ok"});
}

TEST_F(StrictTest, LenientDateTimeAcceptsAMissingOffset) {
  for (bool lenient : {false, true}) {
    auto opts = strict();
    opts.strict_mode.lenient_date_time = lenient;
    auto cs = with_raw("ocpp2.0.1", opts);
    CallOutcome out;
    cs->call("Heartbeat", json::object(), out.handler());
    ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
    send_raw(R"([3,")" + std::string(raw->frame(0).at(1).as_string()) + R"(",{"currentTime":"2026-01-01T10:00:00"}])");
    ASSERT_TRUE(run_until([&] { return out.done; }));
    EXPECT_EQ(static_cast<bool>(out.error), !lenient);
  }
}

TEST_F(StrictTest, VendorActionsPassUnlessUnknownActionsAreRejected) {
  auto lax = with_raw("ocpp2.0.1", strict());
  lax->handle("AcmeReport", [](CallContext&) -> HandlerResult { return json::object(); });
  send_raw(R"([2,"v1","AcmeReport",{"anything":1}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0).at(0), 3);

  auto opts = strict();
  opts.strict_mode.reject_unknown_actions = true;
  auto tight = with_raw("ocpp2.0.1", opts);
  tight->handle("AcmeReport", [](CallContext&) -> HandlerResult { return json::object(); });
  send_raw(R"([2,"v2","AcmeReport",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0).at(2), "NotImplemented");
}

TEST_F(StrictTest, DecimalMultipleOf) {
  auto cp = with_raw("ocpp1.6", strict());
  cp->handle("SetChargingProfile", [](CallContext&) -> HandlerResult { return json::object{{"status", "Accepted"}}; });
  auto profile = [](const char* limit) {
    return std::string(R"({"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,)"
                       R"("chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",)"
                       R"("chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":)") +
           limit + "}]}}}";
  };
  for (auto [limit, expected] : {std::pair{"8.1", "ok"}, {"21.4", "ok"}, {"6.25", "FormationViolation"}}) {
    std::size_t first = raw->frames.size();
    send_raw(std::string(R"([2,"p","SetChargingProfile",)") + profile(limit) + "]");
    ASSERT_TRUE(run_until([&] { return raw->frames.size() == first + 1; }));
    auto f = raw->frame(first);
    EXPECT_EQ(f.at(0) == 3 ? std::string("ok") : std::string(f.at(2).as_string()), expected) << limit;
  }
}

TEST(StrictOptions, AProtocolWithoutSchemasIsRefused) {
  StrictModeOptions o;
  o.enabled = true;
  o.protocols = {"ocpp1.5"};
  EXPECT_THROW(check_strict_mode_options(o), std::invalid_argument);
  o.protocols = {"ocpp1.6", "ocpp2.0.1", "ocpp2.1"};
  EXPECT_NO_THROW(check_strict_mode_options(o));
}

TEST(StrictOptions, KeywordTable) {
  EXPECT_EQ(error_code_for_keyword("type"), ErrorCode::TypeConstraintViolation);
  for (auto k : {"required", "minItems", "maxItems"})
    EXPECT_EQ(error_code_for_keyword(k), ErrorCode::OccurrenceConstraintViolation) << k;
  for (auto k : {"enum", "additionalProperties"})
    EXPECT_EQ(error_code_for_keyword(k), ErrorCode::PropertyConstraintViolation) << k;
  for (auto k : {"format", "maxLength", "minLength", "minimum", "maximum", "exclusiveMinimum", "multipleOf"})
    EXPECT_EQ(error_code_for_keyword(k), ErrorCode::FormatViolation) << k;
}
