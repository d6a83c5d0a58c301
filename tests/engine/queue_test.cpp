// Outbound calls: call concurrency, the queue, the connection's state, cancellation, message ids.
#include "engine_fixture.hpp"

namespace ocpp::engine_test {
namespace {

class QueueTest : public EngineTest {
 protected:
  void start_with(std::size_t concurrency, std::size_t max_queued = 1000) {
    opts.call_concurrency = concurrency;
    opts.max_queued_calls = max_queued;
    start();
  }
};

TEST_F(QueueTest, WithConcurrencyOneTheSecondCallWaitsForTheFirstAnswer) {
  start_with(1);
  auto c1 = call();
  auto c2 = call();
  ASSERT_EQ(host->written.size(), 1u);
  expect_call(0, "c1");
  receive_result("c1");
  ASSERT_TRUE(c1->succeeded());
  EXPECT_EQ(c1->result.at("currentTime"), "2024-01-01T00:00:00Z");
  EXPECT_FALSE(c1->deferred);
  ASSERT_EQ(host->written.size(), 2u);
  expect_call(1, "c2");
  EXPECT_FALSE(c2->done());
}

TEST_F(QueueTest, WithConcurrencyThreeThreeGoOutAtOnce) {
  start_with(3);
  for (int i = 0; i < 4; ++i) call();
  ASSERT_EQ(host->written.size(), 3u);
  receive_result("c2");
  ASSERT_EQ(host->written.size(), 4u);
  expect_call(3, "c4");
}

TEST_F(QueueTest, RaisingTheConcurrencySendsQueuedCalls) {
  start_with(1);
  for (int i = 0; i < 4; ++i) call();
  ASSERT_EQ(host->written.size(), 1u);
  EXPECT_NO_THROW(engine->set_call_concurrency(3));
  ASSERT_EQ(host->written.size(), 3u);
  expect_call(1, "c2");
  expect_call(2, "c3");
}

TEST_F(QueueTest, QueueOverflowFailsTheOldestQueuedCall) {
  start_with(1, 2);
  auto c1 = call();
  auto c2 = call();
  auto c3 = call();
  EXPECT_FALSE(c2->done());
  auto c4 = call();
  ASSERT_TRUE(c2->failed_with(FailureKind::connection));
  EXPECT_NE(c2->failure->message.find("overflow"), std::string::npos) << c2->failure->message;
  EXPECT_FALSE(c1->done());
  EXPECT_FALSE(c3->done());
  EXPECT_FALSE(c4->done());
  receive_result("c1");
  expect_call(1, "c3");
  receive_result("c3");
  expect_call(2, "c4");
}

TEST_F(QueueTest, CallsMadeWhileConnectingAreSentOnOpenAndResume) {
  opts.call_concurrency = 2;
  make();
  engine->set_state(ConnectionState::connecting);
  auto c1 = call();
  auto c2 = call();
  auto c3 = call();
  EXPECT_TRUE(host->written.empty());
  EXPECT_FALSE(c1->done());
  EXPECT_NO_THROW(engine->open("ocpp2.0.1"));
  EXPECT_TRUE(host->written.empty()) << "resume() sends what was queued";
  EXPECT_NO_THROW(engine->resume());
  ASSERT_EQ(host->written.size(), 2u);
  expect_call(0, "c1");
  expect_call(1, "c2");
  EXPECT_EQ(engine->next_deadline(), clock.now + 10s);
}

TEST_F(QueueTest, ACallOnAClosedEngineFailsDeferredWithoutASerial) {
  make();
  auto c1 = call();
  ASSERT_TRUE(c1->failed_with(FailureKind::connection));
  EXPECT_TRUE(c1->deferred) << "it completes inside its own initiation";
  EXPECT_EQ(c1->serial, 0u);
  EXPECT_TRUE(host->written.empty());
}

TEST_F(QueueTest, CancellingAQueuedCallCompletesItCancelled) {
  start_with(1);
  auto c1 = call();
  auto c2 = call();
  auto c3 = call();
  EXPECT_NO_THROW(engine->cancel(c2->serial));
  ASSERT_TRUE(c2->failed_with(FailureKind::cancelled));
  EXPECT_FALSE(c1->done());
  receive_result("c1");
  ASSERT_EQ(host->written.size(), 2u);
  expect_call(1, "c3");
}

TEST_F(QueueTest, CancellingAPendingCallFreesItsSlot) {
  start_with(1);
  auto c1 = call();
  auto c2 = call();
  EXPECT_NO_THROW(engine->cancel(c1->serial));
  ASSERT_TRUE(c1->failed_with(FailureKind::cancelled));
  ASSERT_EQ(host->written.size(), 2u);
  expect_call(1, "c2");
  EXPECT_FALSE(c2->done());
  EXPECT_NO_THROW(engine->cancel(c1->serial));  // again: nothing left to cancel
  EXPECT_EQ(c1->completions, 1);
}

TEST_F(QueueTest, CancellingTheLastPendingCallReleasesTheTimer) {
  start_with(1);
  auto c1 = call();
  EXPECT_NO_THROW(engine->cancel(c1->serial));
  EXPECT_EQ(last_schedule(), std::nullopt);
  EXPECT_EQ(engine->next_deadline(), std::nullopt);
}

TEST_F(QueueTest, AnswerToACancelledCallIsNotABadMessage) {
  opts.max_bad_messages = 0;
  start();
  auto c1 = call();
  EXPECT_NO_THROW(engine->cancel(c1->serial));
  receive_result("c1");  // the peer answered what it was asked: it did nothing wrong
  EXPECT_TRUE(host->session_closes.empty());
}

TEST_F(QueueTest, AnOutboundIdAlreadyPendingFailsInvalidWithoutSending) {
  start_with(2);
  auto first = call_with_id("same");
  auto second = call_with_id("same");
  ASSERT_TRUE(second->failed_with(FailureKind::invalid));
  EXPECT_TRUE(second->deferred);
  EXPECT_EQ(second->serial, 0u);
  EXPECT_EQ(host->written.size(), 1u);
  EXPECT_FALSE(first->done());
  receive_result("same");
  EXPECT_TRUE(first->succeeded());
  auto third = call_with_id("same");
  EXPECT_FALSE(third->done()) << "once answered, the id may be used again";
  EXPECT_EQ(host->written.size(), 2u);
}

TEST_F(QueueTest, InvalidMessageIdsFailInvalid) {
  start();
  auto too_long = call_with_id(std::string(37, 'x'));
  EXPECT_TRUE(too_long->failed_with(FailureKind::invalid));
  EXPECT_TRUE(host->written.empty());
}

TEST_F(QueueTest, ACallWhoseIdIsAlreadyQueuedFailsInvalidAndTheFirstIsSentOnce) {
  opts.call_concurrency = 2;
  make();
  engine->set_state(ConnectionState::connecting);
  auto first = call_with_id("key");
  auto second = call_with_id("key");
  ASSERT_TRUE(second->failed_with(FailureKind::invalid));
  EXPECT_TRUE(second->deferred);
  EXPECT_NO_THROW(engine->open("ocpp2.0.1"));
  EXPECT_NO_THROW(engine->resume());
  ASSERT_EQ(host->written.size(), 1u);
  expect_call(0, "key");
  receive_result("key");
  EXPECT_TRUE(first->succeeded());
}

TEST_F(QueueTest, AGeneratedIdThatCollidesWithAPendingCallFailsWithoutReplacingIt) {
  opts.call_concurrency = 2;
  opts.id_generator = [] { return std::string("fixed"); };
  start();
  auto first = call_with_generated_id();
  auto second = call_with_generated_id();
  ASSERT_TRUE(second->failed_with(FailureKind::invalid));
  ASSERT_EQ(host->written.size(), 1u);
  receive_result("fixed");
  EXPECT_TRUE(first->succeeded());
}

}  // namespace
}  // namespace ocpp::engine_test
