// The drain of a close with await_pending is bounded by SessionOptions::drain_timeout: handlers
// that never answer are cancelled, calls still in flight fail, and the close goes ahead.
#include "engine_fixture.hpp"

namespace ocpp::engine_test {
namespace {

class DrainTest : public EngineTest {
 protected:
  void expect_closed_once(std::uint16_t code, std::string_view reason) const {
    ASSERT_EQ(host->transport_closes.size(), 1u);
    EXPECT_EQ(host->transport_closes[0].code, code);
    EXPECT_EQ(host->transport_closes[0].reason, reason);
  }
  // An open connection where the peer's CALL in1 runs a handler that has not answered.
  void start_with_running_handler() {
    start();
    handle_later("Slow");
    receive_call("in1", "Slow");
    ASSERT_EQ(tracked.size(), 1u);
  }
};

TEST_F(DrainTest, AHandlerThatNeverAnswersIsCancelledAfterTheDrainTimeoutAndTheCloseGoesAhead) {
  opts.drain_timeout = 2s;
  start_with_running_handler();
  const auto closed_at = clock.now;
  EXPECT_EQ(close({.code = 4001, .reason = "bye"}), CloseStart::started);
  EXPECT_EQ(last_schedule(), closed_at + 2s) << "the shell is asked to wake the engine at the drain's end";

  elapse(2s - 1ms);
  EXPECT_TRUE(host->transport_closes.empty());
  EXPECT_EQ(tracked[0]->cancels, 0);

  elapse(1ms);
  EXPECT_EQ(tracked[0]->cancels, 1);
  expect_closed_once(4001, "bye");
  EXPECT_EQ(last_schedule(), std::nullopt);

  answer_later(0);
  EXPECT_TRUE(host->written.empty()) << "the cancelled handler's late answer is ignored";
  expect_closed_once(4001, "bye");
}

TEST_F(DrainTest, TheDrainTimeoutDefaultsToTheCloseTimeout) {
  opts.close_timeout = 3s;
  start_with_running_handler();
  close({});
  elapse(3s - 1ms);
  EXPECT_TRUE(host->transport_closes.empty());
  elapse(1ms);
  EXPECT_EQ(tracked[0]->cancels, 1);
  expect_closed_once(close_code::normal, "");
}

TEST_F(DrainTest, TheDrainTimeoutAlsoBoundsSentAndQueuedCalls) {
  opts.drain_timeout = 2s;
  start();
  std::vector<std::string> bad;
  engine->events().bad_message = [&](const BadMessageEvent& e) { bad.emplace_back(e.error); };
  auto sent = call("Heartbeat", json::object(), "c1", 1min);
  auto queued = call("Heartbeat", json::object(), "c2", 1min);
  close({.code = 4001});
  elapse(2s);
  ASSERT_TRUE(sent->failed_with(FailureKind::connection)) << "not its own timeout: the close cut it short";
  EXPECT_TRUE(queued->failed_with(FailureKind::connection));
  EXPECT_EQ(completion_order, (std::vector<std::string>{"c2", "c1"})) << "queued calls fail first, as in a close";
  expect_closed_once(4001, "");
  ASSERT_EQ(host->written.size(), 1u) << "the queued call was never sent";

  receive_result("c1");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("late answer"), std::string::npos) << "the peer answered before it saw our close: " << bad[0];
}

TEST_F(DrainTest, AnAnswerToTheLastPendingCallKeepsTheDrainsWakeUp) {
  opts.drain_timeout = 2s;
  start_with_running_handler();
  auto c1 = call();
  const auto closed_at = clock.now;
  close({});
  receive_result("c1");
  ASSERT_TRUE(c1->succeeded());
  EXPECT_EQ(last_schedule(), closed_at + 2s) << "releasing the timer would leave the handler waiting forever";
  elapse(2s);
  EXPECT_EQ(tracked[0]->cancels, 1);
  expect_closed_once(close_code::normal, "");
}

TEST_F(DrainTest, ADrainThatFinishesInTimeReleasesItsWakeUpAndIsNotCutLater) {
  opts.drain_timeout = 2s;
  start_with_running_handler();
  close({.code = 4001});
  answer_later(0);
  expect_result(0, "in1");
  expect_closed_once(4001, "");
  EXPECT_EQ(last_schedule(), std::nullopt);
  elapse(1h);
  EXPECT_EQ(tracked[0]->cancels, 0);
  expect_closed_once(4001, "");
}

TEST_F(DrainTest, AReconnectedConnectionDoesNotInheritAnEndedDrain) {
  opts.drain_timeout = 2s;
  start_with_running_handler();
  close({});
  EXPECT_TRUE(engine->on_transport_closed(close_code::normal, ""));
  EXPECT_EQ(tracked[0]->cancels, 1);
  EXPECT_NO_THROW(engine->finish({close_code::normal, ""}));
  EXPECT_EQ(engine->next_deadline(), std::nullopt);
  engine->set_state(ConnectionState::connecting);
  EXPECT_NO_THROW(engine->open("ocpp2.0.1"));
  elapse(1h);
  EXPECT_EQ(engine->state(), ConnectionState::open);
  EXPECT_TRUE(host->transport_closes.empty());
}

}  // namespace
}  // namespace ocpp::engine_test
