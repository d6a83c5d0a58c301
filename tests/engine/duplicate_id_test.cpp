// Inbound CALLs whose message id is already in progress.
#include "engine_fixture.hpp"

namespace ocpp::engine_test {
namespace {

class DuplicateIdTest : public EngineTest {
 protected:
  void start_slow(std::string protocol, std::size_t max_bad_messages = 10) {
    opts.max_bad_messages = max_bad_messages;
    start(std::move(protocol));
    handle_later("Slow");
  }
};

TEST_F(DuplicateIdTest, ACallWhoseIdIsInProgressIsRefusedWithRpcFrameworkErrorOn201) {
  start_slow("ocpp2.0.1");
  receive_call("same", "Slow");
  EXPECT_TRUE(host->written.empty());
  receive_call("same", "Slow");
  ASSERT_EQ(host->written.size(), 1u);
  expect_call_error(0, "same", wire_name(ErrorCode::RpcFrameworkError, ProtocolVersion::v201));
  expect_call_error(0, "same", "RpcFrameworkError");
  EXPECT_EQ(handler_runs["Slow"], 1) << "the handler does not run for the duplicate";
}

TEST_F(DuplicateIdTest, Ocpp16SpellsTheRefusalFormationViolation) {
  start_slow("ocpp1.6");
  receive_call("same", "Slow");
  receive_call("same", "Slow");
  ASSERT_EQ(host->written.size(), 1u);
  EXPECT_EQ(wire_name(ErrorCode::RpcFrameworkError, ProtocolVersion::v16), "FormationViolation");
  expect_call_error(0, "same", "FormationViolation");
}

TEST_F(DuplicateIdTest, ADuplicateIdCountsAsABadMessage) {
  start_slow("ocpp2.0.1", 1);
  receive_call("same", "Slow");
  receive_call("same", "Slow");
  EXPECT_TRUE(host->session_closes.empty());
  receive_call("same", "Slow");
  EXPECT_TRUE(asked_to_close_with(close_code::protocol_error));
}

TEST_F(DuplicateIdTest, OnceAnsweredTheSameIdMayBeUsedAgain) {
  start_slow("ocpp2.0.1", 0);
  receive_call("same", "Slow");
  answer_later(0, json::object{{"ok", true}});
  ASSERT_EQ(host->written.size(), 1u);
  expect_result(0, "same");
  EXPECT_EQ(frame(0).at(2).at("ok"), true);
  receive_call("same", "Slow");
  EXPECT_EQ(handler_runs["Slow"], 2);
  EXPECT_EQ(host->written.size(), 1u);
  EXPECT_TRUE(host->session_closes.empty());
  answer_later(1);
  expect_result(1, "same");
}

TEST_F(DuplicateIdTest, AnInlineAnsweredIdIsNotInProgress) {
  start_slow("ocpp2.0.1", 0);
  handle_inline("Heartbeat");
  receive_call("same");
  receive_call("same");
  ASSERT_EQ(host->written.size(), 2u);
  expect_result(0, "same");
  expect_result(1, "same");
  EXPECT_TRUE(host->session_closes.empty());
}

TEST_F(DuplicateIdTest, ASecondAnswerToATrackedCallIsIgnored) {
  start_slow("ocpp2.0.1");
  receive_call("once", "Slow");
  answer_later(0);
  answer_later(0);
  EXPECT_EQ(host->written.size(), 1u);
}

}  // namespace
}  // namespace ocpp::engine_test
