// Strict mode (the generated validators) and the message middleware lanes.
#include "engine_fixture.hpp"

namespace ocpp::engine_test {
namespace {

class StrictTest : public EngineTest {
 protected:
  void start_strict(std::string protocol = "ocpp1.6") {
    opts.strict_mode.enabled = true;
    start(std::move(protocol));
    handle_inline("BootNotification",
                  json::object{{"currentTime", "2024-01-01T00:00:00Z"}, {"interval", 300}, {"status", "Accepted"}});
  }
};

TEST_F(StrictTest, AnInvalidInboundBootNotificationGetsTheMappedErrorAndTheHandlerDoesNotRun) {
  start_strict();
  receive_call("b1", "BootNotification", R"({"chargePointVendor":"ACME"})");
  ASSERT_EQ(host->written.size(), 1u);
  expect_call_error(0, "b1", wire_name(ErrorCode::OccurrenceConstraintViolation, ProtocolVersion::v16));
  expect_call_error(0, "b1", "OccurenceConstraintViolation");
  receive_call("b2", "BootNotification", R"({"chargePointVendor":5,"chargePointModel":"W1"})");
  expect_call_error(1, "b2", "TypeConstraintViolation");
  EXPECT_EQ(handler_runs["BootNotification"], 0);

  receive_call("b3", "BootNotification", R"({"chargePointVendor":"ACME","chargePointModel":"W1"})");
  EXPECT_EQ(handler_runs["BootNotification"], 1);
  expect_result(2, "b3");
}

TEST_F(StrictTest, AnInvalidOutboundCallFailsWithValidationAndNothingIsWritten) {
  start_strict();
  auto bad = call("BootNotification", json::object{{"chargePointVendor", "ACME"}});
  ASSERT_TRUE(bad->failed_with(FailureKind::validation));
  ASSERT_TRUE(bad->failure->validation.has_value());
  EXPECT_EQ(bad->failure->validation->code(), ErrorCode::OccurrenceConstraintViolation);
  EXPECT_TRUE(host->written.empty());
  auto good = call("BootNotification", json::object{{"chargePointVendor", "ACME"}, {"chargePointModel", "W1"}});
  EXPECT_FALSE(good->done()) << "the refused call left no slot taken";
  ASSERT_EQ(host->written.size(), 1u);
  expect_call(0, "c2", "BootNotification");
}

TEST_F(StrictTest, StrictModeForAnotherProtocolLeavesThisOneAlone) {
  opts.strict_mode.enabled = true;
  opts.strict_mode.protocols = {"ocpp2.0.1"};
  start("ocpp1.6");
  handle_inline("BootNotification");
  receive_call("b1", "BootNotification", "{}");
  EXPECT_EQ(handler_runs["BootNotification"], 1);
}

class MiddlewareTest : public EngineTest {
 protected:
  // Holds every incoming CALL's decision; everything else passes.
  void hold_incoming_calls() {
    engine->use([this](std::shared_ptr<MessageContext> ctx) {
      phases.push_back(ctx->phase());
      if (ctx->phase() == MessagePhase::incoming_call) held.push_back(std::move(ctx));
    });
  }
  void release_held() {
    ASSERT_FALSE(held.empty());
    auto ctx = std::move(held.front());
    held.erase(held.begin());
    ctx->next();
    drain_advances();
  }
  // Vetoes every message of one phase.
  void reject(MessagePhase phase, std::string description) {
    engine->use([phase, description](std::shared_ptr<MessageContext> ctx) {
      if (ctx->phase() == phase) ctx->reject(RpcError(ErrorCode::SecurityError, description));
    });
  }
  // A Heartbeat CALL that the middleware refuses: the peer gets a CALLERROR, the handler never runs.
  void expect_call_refused(std::string_view id, std::string_view code) {
    handle_inline("Heartbeat");
    receive_call(id);
    drain_advances();
    EXPECT_EQ(handler_runs["Heartbeat"], 0);
    ASSERT_EQ(host->written.size(), 1u);
    expect_call_error(0, id, code);
  }
  std::vector<std::shared_ptr<MessageContext>> held;
  std::vector<MessagePhase> phases;
};

TEST_F(MiddlewareTest, ADeferredDecisionKeepsTheNextInboundMessageWaiting) {
  start();
  hold_incoming_calls();
  handle_inline("Heartbeat");
  receive_call("m1");
  receive_call("m2");
  drain_advances();
  ASSERT_EQ(held.size(), 1u) << "m2 waits behind m1";
  EXPECT_EQ(held[0]->frame().id, "m1");
  EXPECT_EQ(handler_runs["Heartbeat"], 0);
  EXPECT_TRUE(host->written.empty());

  release_held();
  EXPECT_EQ(handler_runs["Heartbeat"], 1);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0]->frame().id, "m2");
  release_held();
  EXPECT_EQ(handler_runs["Heartbeat"], 2);
  ASSERT_EQ(host->written.size(), 2u);
  expect_result(0, "m1");
  expect_result(1, "m2");
}

TEST_F(MiddlewareTest, DecisionsAreNeverAdvancedInline) {
  start();
  hold_incoming_calls();
  handle_inline("Heartbeat");
  receive_call("m1");
  held[0]->next();
  EXPECT_EQ(handler_runs["Heartbeat"], 0) << "the host decides when advance() runs";
  EXPECT_EQ(host->advances.size(), 1u);
  drain_advances();
  EXPECT_EQ(handler_runs["Heartbeat"], 1);
}

TEST_F(MiddlewareTest, ARejectOnIncomingCallAnswersWithThatError) {
  start();
  reject(MessagePhase::incoming_call, "not you");
  ASSERT_NO_FATAL_FAILURE(expect_call_refused("r1", "SecurityError"));
  EXPECT_EQ(frame(0).at(3), "not you");
}

TEST_F(MiddlewareTest, ARejectOnOutgoingCallFailsTheCallAndSendsNothing) {
  start();
  reject(MessagePhase::outgoing_call, "vetoed");
  auto c1 = call();
  drain_advances();
  ASSERT_TRUE(c1->failed_with(FailureKind::rpc_error));
  EXPECT_EQ(c1->failure->rpc->code(), ErrorCode::SecurityError);
  EXPECT_TRUE(host->written.empty());
}

TEST_F(MiddlewareTest, AThrowingMiddlewareBecomesAnInternalErrorNotAnException) {
  start();
  engine->use([](std::shared_ptr<MessageContext>) { throw std::runtime_error("boom"); });
  expect_call_refused("t1", "InternalError");
}

}  // namespace
}  // namespace ocpp::engine_test
