// Call timeouts as deadlines on an injected clock.
#include "engine_fixture.hpp"

namespace ocpp::engine_test {
namespace {

using TimeoutTest = EngineTest;

TEST_F(TimeoutTest, SentCallDeadlineIsNowPlusCallTimeoutAndIsScheduled) {
  start();
  const auto t0 = clock.now;
  call();
  expect_call(0, "c1");
  EXPECT_EQ(last_schedule(), t0 + 10s);
  EXPECT_EQ(engine->next_deadline(), t0 + 10s);
}

TEST_F(TimeoutTest, PerCallTimeoutOverridesTheSessionDefault) {
  start();
  const auto t0 = clock.now;
  call_with_id("short", 2s);
  EXPECT_EQ(last_schedule(), t0 + 2s);
  EXPECT_EQ(engine->next_deadline(), t0 + 2s);
}

TEST_F(TimeoutTest, NothingExpiresBeforeTheDeadlineAndTheCallFailsAtIt) {
  start();
  const auto t0 = clock.now;
  auto c1 = call();
  elapse(9999ms);
  EXPECT_FALSE(c1->done());
  EXPECT_EQ(last_schedule(), t0 + 10s) << "the wake-up is asked for again";
  elapse(1ms);
  ASSERT_TRUE(c1->failed_with(FailureKind::timeout));
  EXPECT_FALSE(c1->deferred);
  EXPECT_NE(c1->failure->message.find("timed out"), std::string::npos) << c1->failure->message;
}

TEST_F(TimeoutTest, ACallLongPastItsDeadlineFailsOnTheNextTimer) {
  start();
  auto c1 = call();
  elapse(1h);
  EXPECT_TRUE(c1->failed_with(FailureKind::timeout));
}

TEST_F(TimeoutTest, ATimeoutSendsTheNextQueuedCall) {
  start();
  auto c1 = call();
  auto c2 = call();
  ASSERT_EQ(host->written.size(), 1u);
  elapse(10s);
  EXPECT_TRUE(c1->failed_with(FailureKind::timeout));
  EXPECT_FALSE(c2->done());
  ASSERT_EQ(host->written.size(), 2u);
  expect_call(1, "c2");
  EXPECT_EQ(engine->next_deadline(), clock.now + 10s);
  EXPECT_EQ(last_schedule(), clock.now + 10s);
}

TEST_F(TimeoutTest, LateAnswerToATimedOutCallIsNotABadMessageButAnAnswerToANeverSentIdIs) {
  opts.max_bad_messages = 0;
  start();
  auto c1 = call();
  elapse(10s);
  ASSERT_TRUE(c1->failed_with(FailureKind::timeout));
  receive_result("c1");
  receive(R"([4,"c1","InternalError","late",{}])");
  EXPECT_TRUE(host->session_closes.empty()) << "a late answer is not the peer's fault";
  EXPECT_EQ(c1->completions, 1);
  receive_result("never-sent");
  EXPECT_TRUE(asked_to_close_with(close_code::protocol_error));
  EXPECT_TRUE(host->written.size() == 1u) << "answers are never answered";
}

TEST_F(TimeoutTest, AnswersToUnknownIdsAreNotCountedWhenCountUnknownResponsesIsOff) {
  opts.max_bad_messages = 0;
  opts.count_unknown_responses = false;
  start();
  receive_result("never-sent");
  EXPECT_TRUE(host->session_closes.empty());
}

TEST_F(TimeoutTest, TheTimerIsReleasedWhenNoCallIsPendingAnyMore) {
  start();
  call();
  receive_result("c1");
  ASSERT_FALSE(host->schedules.empty());
  EXPECT_EQ(last_schedule(), std::nullopt) << "answered: nothing waits";
  EXPECT_EQ(engine->next_deadline(), std::nullopt);
  call();
  EXPECT_TRUE(last_schedule().has_value());
  elapse(10s);
  EXPECT_EQ(last_schedule(), std::nullopt) << "timed out: nothing waits";
}

TEST_F(TimeoutTest, SeveralDeadlinesExpireInOrder) {
  opts.call_concurrency = 3;
  start();
  const auto t0 = clock.now;
  auto slow = call_with_id("slow", 3s);
  auto fast = call_with_id("fast", 1s);
  auto mid = call_with_id("mid", 2s);
  EXPECT_EQ(engine->next_deadline(), t0 + 1s);

  elapse(1s);
  EXPECT_TRUE(fast->failed_with(FailureKind::timeout));
  EXPECT_FALSE(mid->done());
  EXPECT_FALSE(slow->done());
  EXPECT_EQ(last_schedule(), t0 + 2s);

  elapse(1s);
  EXPECT_TRUE(mid->failed_with(FailureKind::timeout));
  EXPECT_FALSE(slow->done());
  EXPECT_EQ(last_schedule(), t0 + 3s);

  elapse(1s);
  EXPECT_TRUE(slow->failed_with(FailureKind::timeout));
  EXPECT_EQ(last_schedule(), std::nullopt);
  EXPECT_EQ(completion_order, (std::vector<std::string>{"fast", "mid", "slow"}));
}

TEST_F(TimeoutTest, CallsExpiringOnTheSameWakeUpFailInTheOrderTheyWereMade) {
  opts.call_concurrency = 4;
  start();
  for (const char* id : {"zulu", "alpha", "mike", "bravo"}) call_with_id(id);
  elapse(10s);
  EXPECT_EQ(completion_order, (std::vector<std::string>{"zulu", "alpha", "mike", "bravo"}));
}

}  // namespace
}  // namespace ocpp::engine_test
