// The typed API over loopback: generated request types bind action, protocol, response and
// direction.
#include "session_fixture.hpp"

#include <ocpp/messages/v16.hpp>
#include <ocpp/messages/v201.hpp>
#include <ocpp/messages/v21.hpp>

using namespace ocpp_test;

namespace {

template <class T>
struct Typed {
  bool done = false;
  std::exception_ptr error;
  T value{};
  auto handler() {
    return [this](std::exception_ptr e, T v) {
      done = true;
      error = e;
      value = std::move(v);
    };
  }
  template <class E>
  std::optional<E> error_as() const {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const E& e) {
      return e;
    } catch (...) {
    }
    return std::nullopt;
  }
};

v201::BootNotificationRequest boot_request() {
  v201::BootNotificationRequest req;
  req.chargingStation.model = "M1";
  req.chargingStation.vendorName = "V1";
  req.reason = v201::BootReasonEnumType::PowerUp;
  return req;
}

}  // namespace

TEST_F(SessionTest, TypedCallAndTypedHandler) {
  auto [cs, csms] = pair("ocpp2.0.1");
  std::string seen_model;
  csms->handle([&](const v201::BootNotificationRequest& req, auto& ctx) -> v201::BootNotificationResponse {
    seen_model = req.chargingStation.model;
    EXPECT_EQ(ctx.action, "BootNotification");
    return {.currentTime = "2026-01-01T00:00:00Z", .interval = 300, .status = v201::RegistrationStatusEnumType::Accepted};
  });
  Typed<v201::BootNotificationResponse> out;
  cs->call(boot_request(), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_FALSE(out.error);
  EXPECT_EQ(seen_model, "M1");
  EXPECT_EQ(out.value.interval, 300);
  EXPECT_EQ(out.value.status, v201::RegistrationStatusEnumType::Accepted);
}

TEST_F(SessionTest, TypedHandlerIsKeyedByItsProtocol) {
  auto [cs, csms] = pair("ocpp1.6");
  bool v201_called = false;
  csms->handle([&](const v201::HeartbeatRequest&, auto&) -> v201::HeartbeatResponse {
    v201_called = true;
    return {};
  });
  CallOutcome out;
  cs->call("Heartbeat", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_TRUE(out.failed_with<RpcError>());
  EXPECT_EQ(out.rpc_error().code(), ErrorCode::NotImplemented);
  EXPECT_FALSE(v201_called);
}

TEST_F(SessionTest, CoroutineTypedHandler) {
  auto [cs, csms] = pair("ocpp2.0.1");
  csms->handle([](v201::HeartbeatRequest, CallContext) -> asio::awaitable<v201::HeartbeatResponse> {
    v201::HeartbeatResponse r;
    r.currentTime = "2026-02-02T00:00:00Z";
    co_return r;
  });
  Typed<v201::HeartbeatResponse> out;
  cs->call(v201::HeartbeatRequest{}, out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_FALSE(out.error);
  EXPECT_EQ(out.value.currentTime, "2026-02-02T00:00:00Z");
}

// Without strict mode a payload that cannot become the handler's type still gets a precise code.
TEST_F(SessionTest, TypedHandlerAnswersUnconvertiblePayloadsWithTheMappedCode) {
  auto csms = with_raw("ocpp2.0.1");
  bool called = false;
  csms->handle([&](const v201::BootNotificationRequest&, auto&) -> v201::BootNotificationResponse {
    called = true;
    return {};
  });
  send_raw(R"([2,"a","BootNotification",{"reason":"PowerUp"}])");
  send_raw(R"([2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":1,"vendorName":"V"}}])");
  send_raw(R"([2,"c","BootNotification",{"reason":"Lunch","chargingStation":{"model":"M","vendorName":"V"}}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 3; }));
  EXPECT_EQ(raw->frame(0).at(2), "OccurrenceConstraintViolation");
  EXPECT_EQ(raw->frame(1).at(2), "TypeConstraintViolation");
  EXPECT_EQ(raw->frame(2).at(2), "PropertyConstraintViolation");
  EXPECT_EQ(raw->frame(0).at(4).at("path"), "/chargingStation");
  EXPECT_FALSE(called);
}

TEST_F(SessionTest, TypedCallOfAnotherProtocolFailsBeforeSending) {
  auto cs = with_raw("ocpp2.0.1");
  Typed<v16::HeartbeatResponse> out;
  cs->call(v16::HeartbeatRequest{}, out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  EXPECT_TRUE(out.error_as<UsageError>());
  EXPECT_TRUE(raw->frames.empty());
}

// Where the side is known only at run time (a session reached through a CallContext, say).
TEST_F(SessionTest, TypedCallInAForbiddenDirectionFailsBeforeSending) {
  auto csms = with_raw("ocpp2.0.1");
  csms->set_role(Role::csms);
  Typed<v201::BootNotificationResponse> boot;
  csms->call(boot_request(), boot.handler());
  ASSERT_TRUE(run_until([&] { return boot.done; }));
  ASSERT_TRUE(boot.error_as<UsageError>());
  EXPECT_STREQ(boot.error_as<UsageError>()->what(), "BootNotification is not sent by the CSMS");
  EXPECT_TRUE(raw->frames.empty());

  Typed<v201::ResetResponse> reset;  // CSMS → CS is fine
  csms->call(v201::ResetRequest{.type = v201::ResetEnumType::Immediate}, reset.handler());
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0).at(2), "Reset");
  EXPECT_EQ(raw->frame(0).at(3), (json::object{{"type", "Immediate"}}));
}

// A CALLRESULT that does not convert fails the typed call with the code its schema failure maps to.
TEST_F(SessionTest, TypedCallRejectsAnUnconvertibleResult) {
  auto cs = with_raw("ocpp2.0.1");
  Typed<v201::HeartbeatResponse> out;
  cs->call(v201::HeartbeatRequest{}, out.handler());
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  auto id = raw->frame(0).at(1).as_string();
  send_raw(R"([3,")" + std::string(id) + R"(",{"currentTime":42}])");
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_TRUE(out.error_as<RpcError>());
  EXPECT_EQ(out.error_as<RpcError>()->code(), ErrorCode::TypeConstraintViolation);
}

TEST_F(SessionTest, TypedSafeCallGivesAnEmptyOptionalOnError) {
  auto [cs, csms] = pair("ocpp2.0.1");
  csms->handle([](const v201::HeartbeatRequest&, auto&) -> v201::HeartbeatResponse {
    throw RpcError(ErrorCode::GenericError, "no");
  });
  std::optional<std::optional<v201::HeartbeatResponse>> out;
  cs->safe_call(v201::HeartbeatRequest{}, [&](std::optional<v201::HeartbeatResponse> r) { out = std::move(r); });
  ASSERT_TRUE(run_until([&] { return out.has_value(); }));
  EXPECT_FALSE(out->has_value());
}

TEST_F(SessionTest, TypedSendAndSendHandlerOnOcpp21) {
  auto [cs, csms] = pair("ocpp2.1");
  std::optional<v21::NotifyPeriodicEventStreamRequest> got;
  csms->handle([&](const v21::NotifyPeriodicEventStreamRequest& m, auto&) { got = m; });
  v21::NotifyPeriodicEventStreamRequest msg{.data = {{.t = 1.5, .v = "230.1"}}, .id = 7, .pending = 0,
                                            .basetime = "2026-01-01T00:00:00Z"};
  std::optional<std::exception_ptr> sent;
  cs->send(msg, [&](std::exception_ptr e) { sent = e; });
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  EXPECT_FALSE(*sent);
  EXPECT_EQ(*got, msg);
}
