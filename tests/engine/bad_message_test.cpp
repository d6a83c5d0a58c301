// The bad-message budget: consecutive malformed frames are answered; one too many closes with 1002.
#include "engine_fixture.hpp"
#include "support/capturing_logger.hpp"

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


// A station that sends garbage does not flood the log: per connection, the first lines of
// bad_message_log.burst and then one per interval, each saying how many were suppressed before it.
class BadMessageLogTest : public EngineTest {
 protected:
  void start_logged(std::string protocol = "ocpp2.0.1") {
    auto o = opts;
    o.logger = logger;
    o.clock = [this] { return clock.now; };
    SessionHooks hooks;  // what feeds the server's metrics
    hooks.message = [this](const MessageEvent& e) {
      if (e.direction == MessageDirection::out && e.type == MessageType::CallError) ++errors_out;
    };
    engine = std::make_unique<RpcEngine>(*host, std::make_shared<const SessionOptions>(std::move(o)), "CP001",
                                         std::move(hooks));
    engine->events().bad_message = [this](const BadMessageEvent&) { ++bad_events; };
    engine->open(std::move(protocol));
    engine->resume();
  }
  void receive_garbage(int n) {
    for (int i = 0; i < n; ++i) receive(R"([2,"bad","Heartbeat",[]])");
  }
  std::size_t lines() const { return logger->count(LogLevel::warn, "bad message"); }

  std::shared_ptr<ocpp_test::CapturingLogger> logger = std::make_shared<ocpp_test::CapturingLogger>();
  int errors_out = 0;
  int bad_events = 0;
};

TEST_F(BadMessageLogTest, AThousandMalformedFramesLogTheBurstOnlyYetEveryOneIsAnsweredAndCounted) {
  ASSERT_EQ(opts.bad_message_log.burst, 10u) << "the documented default";
  ASSERT_EQ(opts.bad_message_log.interval, 10s);
  start_logged();
  receive_garbage(1000);
  EXPECT_EQ(lines(), 10u);
  EXPECT_EQ(host->written.size(), 1000u) << "every one is answered";
  EXPECT_EQ(errors_out, 1000) << "and seen by the metrics";
  EXPECT_EQ(bad_events, 1000);

  // One interval later one line goes out again, with the count of those it stood for.
  clock.advance(10s);
  receive_garbage(1);
  EXPECT_EQ(lines(), 11u);
  EXPECT_EQ(logger->count(LogLevel::warn, "(990 similar lines suppressed before this one)"), 1u);

  // What is suppressed after it is counted when the connection ends.
  receive_garbage(3);
  EXPECT_EQ(lines(), 11u);
  engine->on_transport_closed(close_code::normal, "");
  EXPECT_EQ(logger->count(LogLevel::warn, "bad message: 3 similar lines suppressed since the last one"), 1u);
}

TEST_F(BadMessageLogTest, GarbageAt500FramesASecondForAMinuteLogsTheBurstAndOneLinePerInterval) {
  start_logged();
  for (int i = 0; i < 500 * 60; ++i) {
    receive_garbage(1);
    clock.advance(2ms);
  }
  EXPECT_EQ(lines(), 15u) << "the first ten at once, then one at 10, 20, 30, 40 and 50 s";
  EXPECT_EQ(bad_events, 30000);
  EXPECT_EQ(errors_out, 30000);
  // Every frame is either a line or counted in one.
  std::size_t accounted = 0;
  for (const auto& line : logger->lines()) {
    if (line.message.find("bad message") == std::string::npos) continue;
    ++accounted;
    const auto at = line.message.rfind(" (");
    if (at != std::string::npos && line.message.find("similar lines suppressed before", at) != std::string::npos)
      accounted += std::stoul(line.message.substr(at + 2));
  }
  engine->on_transport_closed(close_code::normal, "");
  const auto all = logger->lines();
  const auto& last = all.back().message;
  ASSERT_NE(last.find("since the last one"), std::string::npos) << last;
  accounted += std::stoul(last.substr(std::string("bad message: ").size()));
  EXPECT_EQ(accounted, 30000u);
}

TEST_F(BadMessageLogTest, AnswersToUnknownIdsShareTheBudget) {
  start_logged();
  for (int i = 0; i < 50; ++i) receive_result("nobody-" + std::to_string(i));
  EXPECT_EQ(logger->count(LogLevel::info, "answer to an unknown message id"), 10u);
  EXPECT_EQ(bad_events, 50);
}

TEST_F(BadMessageLogTest, CallsOverTheRateLimitShareTheBudgetYetEachIsReported) {
  opts.rate_limit.global = RateLimit{1, std::chrono::minutes(1)};
  start_logged();
  int over = 0;
  engine->events().rate_limit = [&](RateLimitEvent&) { ++over; };
  for (int i = 0; i < 200; ++i) receive(R"([2,"h-)" + std::to_string(i) + R"(","Heartbeat",{}])");
  EXPECT_EQ(over, 199) << "the first is within the limit";
  EXPECT_EQ(logger->count(LogLevel::warn, "rate limit exceeded by Heartbeat"), 10u);
  engine->on_transport_closed(close_code::normal, "");
  EXPECT_EQ(logger->count(LogLevel::warn, "bad message: 189 similar lines suppressed since the last one"), 1u);
}

TEST_F(BadMessageLogTest, AZeroIntervalLogsEveryLine) {
  opts.bad_message_log.interval = 0ms;
  start_logged();
  receive_garbage(100);
  EXPECT_EQ(lines(), 100u);
}

TEST_F(BadMessageLogTest, EachConnectionHasItsOwnBudget) {
  start_logged();
  receive_garbage(20);
  EXPECT_EQ(lines(), 10u);
  engine->on_transport_closed(close_code::abnormal, "");
  engine->open("ocpp2.0.1");  // a client's reconnect
  receive_garbage(20);
  EXPECT_EQ(lines(), 20u + 1u) << "ten more, plus the count at the first connection's end";
}

}  // namespace
}  // namespace ocpp::engine_test
