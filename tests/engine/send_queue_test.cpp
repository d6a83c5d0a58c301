// The send queue bound: a peer that stops reading cannot make a connection hold outbound frames
// without limit. A frame that does not fit is not written, its call or SEND fails at once, the
// event fires once and the connection is closed with the configured code.
#include "engine_fixture.hpp"

namespace ocpp::engine_test {
namespace {

class SendQueueTest : public EngineTest {
 protected:
  // An open engine whose host holds `queued` bytes its peer has not read, bounded by `limit`.
  void start_bounded(std::size_t limit, std::size_t queued,
                     SendQueueOverflow policy = SendQueueOverflow::try_again_later,
                     std::string protocol = "ocpp2.0.1") {
    opts.max_send_queue_bytes = limit;
    opts.send_queue_overflow = policy;
    start_with_hooks(std::move(protocol));
    host->stalled = true;
    host->queued = queued;
  }
  void start_with_hooks(std::string protocol = "ocpp2.0.1") {
    auto o = opts;
    o.clock = [this] { return clock.now; };
    SessionHooks hooks;
    hooks.send_queue_overflow = [this](const SendQueueOverflowEvent& e) { hooked.push_back(e); };
    hooks.callback_error = [this](std::string_view event) { callback_errors.emplace_back(event); };
    engine = std::make_unique<RpcEngine>(*host, std::make_shared<const SessionOptions>(std::move(o)), "CP001",
                                         std::move(hooks));
    engine->events().send_queue_overflow = [this](const SendQueueOverflowEvent& e) { seen.push_back(e); };
    engine->open(std::move(protocol));
    engine->resume();
  }

  std::vector<SendQueueOverflowEvent> hooked, seen;
  std::vector<std::string> callback_errors;
};

TEST_F(SendQueueTest, TheDefaultBoundIs4MiBAndItsOverflowClosesWith1013) {
  const SessionOptions defaults;
  EXPECT_EQ(defaults.max_send_queue_bytes, 4u * 1024 * 1024);
  EXPECT_EQ(defaults.send_queue_overflow, SendQueueOverflow::try_again_later);
  EXPECT_EQ(static_cast<std::uint16_t>(SendQueueOverflow::try_again_later), close_code::try_again_later);
  EXPECT_EQ(static_cast<std::uint16_t>(SendQueueOverflow::policy_violation), close_code::policy_violation);

  // The defaults in force: 16 bytes of room left behind a stalled peer are not enough for a CALL.
  start_with_hooks();
  host->stalled = true;
  host->queued = defaults.max_send_queue_bytes - 16;
  auto c = call();
  EXPECT_TRUE(c->failed_with(FailureKind::send_queue_full));
  ASSERT_EQ(host->transport_closes.size(), 1u);
  EXPECT_EQ(host->transport_closes[0].code, close_code::try_again_later);
}

TEST_F(SendQueueTest, FramesAreWrittenWhileTheyFitAndTheFirstThatDoesNotClosesWithTheConfiguredCode) {
  handle_inline("Heartbeat");
  const std::size_t answer = std::string(R"([3,"h00",{}])").size();
  start_bounded(5 * answer + 3, 0);
  for (int i = 0; i < 5; ++i) receive_call("h0" + std::to_string(i));
  EXPECT_EQ(host->written.size(), 5u);
  EXPECT_EQ(host->queued, 5 * answer);
  EXPECT_TRUE(host->transport_closes.empty());

  receive_call("h05");
  EXPECT_EQ(host->written.size(), 5u) << "the answer that does not fit is not written";
  EXPECT_LE(host->queued, opts.max_send_queue_bytes);
  ASSERT_EQ(host->transport_closes.size(), 1u);
  EXPECT_EQ(host->transport_closes[0].code, close_code::try_again_later);
  EXPECT_EQ(host->transport_closes[0].reason, "Send queue full");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].queued_bytes, 5 * answer);
  EXPECT_EQ(seen[0].frame_bytes, answer);
  EXPECT_EQ(seen[0].limit, 5 * answer + 3);
  EXPECT_EQ(seen[0].close_code, close_code::try_again_later);
  EXPECT_EQ(hooked.size(), 1u) << "the layer above hears of it too (the server's metrics)";

  // Once per connection: what follows neither fires again nor closes again.
  receive_call("h06");
  call();
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(hooked.size(), 1u);
  EXPECT_EQ(host->transport_closes.size(), 1u);
}

TEST_F(SendQueueTest, PolicyViolationClosesWith1008) {
  handle_inline("Heartbeat");
  start_bounded(100, 95, SendQueueOverflow::policy_violation);
  receive_call("h1");
  ASSERT_EQ(host->transport_closes.size(), 1u);
  EXPECT_EQ(host->transport_closes[0].code, close_code::policy_violation);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].close_code, close_code::policy_violation);
}

TEST_F(SendQueueTest, ACallThatDoesNotFitFailsAtOnceWithSendQueueFullAndNeverWaitsForItsTimeout) {
  start_bounded(100, 95);
  auto c1 = call();
  ASSERT_TRUE(c1->failed_with(FailureKind::send_queue_full));
  EXPECT_TRUE(c1->deferred) << "inside its own initiation";
  EXPECT_EQ(c1->failure->close_code, close_code::try_again_later);
  EXPECT_NE(c1->failure->message.find("Send queue full"), std::string::npos) << c1->failure->message;
  EXPECT_TRUE(host->written.empty());
  // Later calls are not even queued while the close is under way.
  host->queued = 0;
  auto c2 = call();
  EXPECT_TRUE(c2->failed_with(FailureKind::send_queue_full));
  EXPECT_TRUE(host->written.empty());
  elapse(opts.call_timeout + 1s);  // nothing completes twice (the fixture checks)
  EXPECT_EQ(completion_order.size(), 2u);
}

TEST_F(SendQueueTest, ACallWaitingForItsSlotFailsWhenItsTurnComesAndTheQueueIsFull) {
  start_bounded(1000, 0);
  auto c1 = call();
  auto c2 = call();  // behind c1: call_concurrency is 1
  EXPECT_FALSE(c2->done());
  host->queued = 1000;
  receive_result("c1");
  EXPECT_TRUE(c1->succeeded());
  EXPECT_TRUE(c2->failed_with(FailureKind::send_queue_full));
  EXPECT_EQ(host->written.size(), 1u);
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(SendQueueTest, ASendThatDoesNotFitFailsWithSendQueueFull) {
  start_bounded(100, 95, SendQueueOverflow::try_again_later, "ocpp2.1");
  auto failure = engine->send("NotifyPeriodicEventStream", json::object{{"id", 1}});
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, FailureKind::send_queue_full);
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(SendQueueTest, ZeroMeansUnbounded) {
  start_bounded(0, std::size_t(1) << 40);
  auto c = call();
  EXPECT_FALSE(c->done());
  EXPECT_EQ(host->written.size(), 1u);
  EXPECT_TRUE(seen.empty());
}

TEST_F(SendQueueTest, AReconnectStartsWithTheBoundAndTheEventArmedAgain) {
  start_bounded(100, 95);
  call();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(engine->on_transport_closed(close_code::try_again_later, "Send queue full"))
      << "not a close we asked for: a client reconnects";
  host->queued = 0;
  engine->open("ocpp2.0.1");
  auto c = call();
  EXPECT_FALSE(c->done());
  EXPECT_EQ(host->written.size(), 1u);
  receive_result(c->id);
  host->queued = 100;
  EXPECT_TRUE(call()->failed_with(FailureKind::send_queue_full));
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(SendQueueTest, AnOverflowCallbackThatThrowsIsReportedAndTheCloseGoesAhead) {
  start_bounded(100, 95);
  engine->events().send_queue_overflow = [](const SendQueueOverflowEvent&) { throw std::runtime_error("boom"); };
  auto c = call();
  EXPECT_TRUE(c->failed_with(FailureKind::send_queue_full));
  EXPECT_EQ(callback_errors, std::vector<std::string>{"on_send_queue_overflow"});
  EXPECT_EQ(host->transport_closes.size(), 1u);
}

}  // namespace
}  // namespace ocpp::engine_test
