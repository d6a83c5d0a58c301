// The bad-message budget: consecutive malformed frames are answered; one too many closes with 1002.
#include "engine_fixture.hpp"

namespace ocpp::engine_test {
namespace {

class BadMessageTest : public EngineTest {
 protected:
  void start_with_budget(std::size_t n, std::string protocol = "ocpp2.0.1") {
    opts.max_bad_messages = n;
    start(std::move(protocol));
  }
};

TEST_F(BadMessageTest, MalformedFramesWithinTheBudgetAreAnsweredAndTheConnectionStays) {
  start_with_budget(3);
  receive(R"(not json)");
  receive(R"([2,"bad-1","Heartbeat"])");
  receive(R"([2,"bad-2","Heartbeat",[]])");
  ASSERT_EQ(host->written.size(), 3u);
  expect_call_error(0, "-1", "RpcFrameworkError");
  expect_call_error(1, "bad-1", "RpcFrameworkError");
  expect_call_error(2, "bad-2", "FormatViolation");
  EXPECT_TRUE(host->session_closes.empty());
  EXPECT_TRUE(host->transport_closes.empty());
  EXPECT_EQ(engine->state(), ConnectionState::open);
}

TEST_F(BadMessageTest, OneMoreThanTheBudgetAsksToCloseTheSessionWith1002) {
  start_with_budget(2);
  receive(R"([2,17,"Heartbeat",{}])");
  receive(R"([9,"x","A",{}])");
  EXPECT_TRUE(host->session_closes.empty());
  receive(R"([2,"y","Heartbeat",[]])");
  ASSERT_EQ(host->written.size(), 3u) << "the last one is still answered";
  expect_call_error(0, "-1", "RpcFrameworkError");
  expect_call_error(1, "x", "MessageTypeNotSupported");
  ASSERT_TRUE(asked_to_close_with(close_code::protocol_error));
  EXPECT_FALSE(host->session_closes[0].reason.empty());
}

TEST_F(BadMessageTest, AGoodCallInBetweenResetsTheCount) {
  start_with_budget(1);
  handle_inline("Heartbeat");
  receive(R"([2,"bad-1","Heartbeat",[]])");
  receive_call("good");
  receive(R"([2,"bad-2","Heartbeat",[]])");
  EXPECT_TRUE(host->session_closes.empty()) << "the budget is for consecutive bad frames";
  receive(R"([2,"bad-3","Heartbeat",[]])");
  EXPECT_TRUE(asked_to_close_with(close_code::protocol_error));
}

TEST_F(BadMessageTest, AGoodAnswerInBetweenResetsTheCount) {
  start_with_budget(1);
  call();
  receive("[]");
  receive_result("c1");
  receive("[]");
  EXPECT_TRUE(host->session_closes.empty());
  receive("[]");
  EXPECT_TRUE(asked_to_close_with(close_code::protocol_error));
}

TEST_F(BadMessageTest, Ocpp16SpellsFrameErrorsFormationViolation) {
  start_with_budget(10, "ocpp1.6");
  receive(R"(not json)");
  receive(R"([2,"bad-1","Heartbeat",[]])");
  expect_call_error(0, "-1", "FormationViolation");
  expect_call_error(1, "bad-1", "FormationViolation");
}

TEST_F(BadMessageTest, AMalformedAnswerFailsItsCallAtOnceAndCounts) {
  start_with_budget(0);
  auto c1 = call();
  auto c2 = call();
  receive(R"([3,"c1",[]])");
  ASSERT_TRUE(c1->failed_with(FailureKind::rpc_error));
  ASSERT_TRUE(c1->failure->rpc.has_value());
  EXPECT_EQ(c1->failure->rpc->code(), ErrorCode::FormatViolation);
  expect_call(1, "c2");  // the slot is free again
  EXPECT_TRUE(asked_to_close_with(close_code::protocol_error));
}

}  // namespace
}  // namespace ocpp::engine_test
