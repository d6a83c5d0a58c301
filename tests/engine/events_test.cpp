// The user's events as the engine calls them: what a callback throws stays in the engine (logged,
// reported to the layer above) and the peer goes on; the rate-limit event decides a message's fate.
#include "engine_fixture.hpp"
#include "support/capturing_logger.hpp"

namespace ocpp::engine_test {
namespace {

using ocpp_test::CapturingLogger;

class EventsTest : public EngineTest {
 protected:
  // An engine whose hooks record the callback errors reported to the layer above.
  void start_with_hooks(std::string protocol = "ocpp2.0.1") {
    auto o = opts;
    o.logger = logger;
    o.clock = [this] { return clock.now; };
    SessionHooks hooks;
    hooks.callback_error = [this](std::string_view event) { reported.emplace_back(event); };
    engine = std::make_unique<RpcEngine>(*host, std::make_shared<const SessionOptions>(std::move(o)), "CP001",
                                         std::move(hooks));
    engine->open(std::move(protocol));
    engine->resume();
  }
  // Over-limit Heartbeats from the second one on, decided by `decide` in callback mode.
  void start_rate_limited(LimitAction mode, std::function<void(RateLimitEvent&)> decide) {
    opts.rate_limit.global = RateLimit{1, std::chrono::minutes(1)};
    opts.rate_limit.on_exceeded = mode;
    start_with_hooks();
    engine->events().rate_limit = std::move(decide);
    handle_inline("Heartbeat");
  }

  std::shared_ptr<CapturingLogger> logger = std::make_shared<CapturingLogger>();
  std::vector<std::string> reported;
};

TEST_F(EventsTest, RateLimitCallbackThatAllowsLetsTheCallReachItsHandler) {
  start_rate_limited(LimitAction::callback, [](RateLimitEvent& e) { e.decision = RateLimitDecision::allow; });
  receive_call("c1");
  receive_call("c2");
  ASSERT_EQ(host->written.size(), 2u);
  expect_result(1, "c2");
  EXPECT_EQ(handler_runs["Heartbeat"], 2);
  EXPECT_TRUE(host->session_closes.empty());
}

TEST_F(EventsTest, RateLimitCallbackDropsByDefault) {
  std::vector<std::string> seen;
  start_rate_limited(LimitAction::callback, [&](RateLimitEvent& e) { seen.emplace_back(e.message_id); });
  receive_call("c1");
  receive_call("c2");
  EXPECT_EQ(seen, std::vector<std::string>{"c2"});
  ASSERT_EQ(host->written.size(), 1u) << "c2 is not answered";
  EXPECT_EQ(handler_runs["Heartbeat"], 1);
  EXPECT_TRUE(host->session_closes.empty());
}

TEST_F(EventsTest, RateLimitCallbackThatDisconnectsAsksToCloseWith1008) {
  start_rate_limited(LimitAction::callback, [](RateLimitEvent& e) { e.decision = RateLimitDecision::disconnect; });
  receive_call("c1");
  receive_call("c2");
  EXPECT_EQ(host->written.size(), 1u);
  EXPECT_EQ(handler_runs["Heartbeat"], 1);
  EXPECT_TRUE(asked_to_close_with(close_code::policy_violation));
}

TEST_F(EventsTest, OnlyCallbackModeLetsTheEventDecide) {
  std::vector<RateLimitDecision> seen;
  start_rate_limited(LimitAction::ignore, [&](RateLimitEvent& e) {
    seen.push_back(e.decision);
    e.decision = RateLimitDecision::allow;
  });
  receive_call("c1");
  receive_call("c2");
  EXPECT_EQ(seen, std::vector<RateLimitDecision>{RateLimitDecision::drop}) << "the event says what happens";
  EXPECT_EQ(host->written.size(), 1u) << "ignore drops whatever the event says";
  EXPECT_EQ(handler_runs["Heartbeat"], 1);
}

TEST_F(EventsTest, RateLimitCallbackThatThrowsDropsAndTheNextCallIsAnswered) {
  start_rate_limited(LimitAction::callback, [](RateLimitEvent& e) {
    e.decision = RateLimitDecision::allow;
    throw std::runtime_error("decider down");
  });
  receive_call("c1");
  receive_call("c2");
  EXPECT_EQ(host->written.size(), 1u) << "a callback that threw has not decided";
  EXPECT_EQ(reported, std::vector<std::string>{"on_rate_limit_exceeded"});
  EXPECT_EQ(logger->count(LogLevel::error, "on_rate_limit_exceeded callback threw: decider down"), 1u);
  clock.advance(std::chrono::minutes(1));
  receive_call("c3");
  ASSERT_EQ(host->written.size(), 2u);
  expect_result(1, "c3");
}

TEST_F(EventsTest, AThrowingMessageCallbackIsLoggedReportedAndTheCallStillAnswered) {
  start_with_hooks();
  handle_inline("Heartbeat");
  engine->events().message = [](const MessageEvent&) { throw std::runtime_error("observer down"); };
  receive_call("c1");
  receive_call("c2");
  ASSERT_EQ(host->written.size(), 2u);
  expect_result(0, "c1");
  expect_result(1, "c2");
  EXPECT_EQ(handler_runs["Heartbeat"], 2);
  // Each CALL in and each CALLRESULT out.
  EXPECT_EQ(reported, std::vector<std::string>(4, "on_message"));
  EXPECT_EQ(logger->count(LogLevel::error, "on_message callback threw: observer down"), 4u);
  EXPECT_EQ(engine->state(), ConnectionState::open);
}

TEST_F(EventsTest, ThrowingBadMessageValidationAndCallResultErrorCallbacksAreContained) {
  opts.strict_mode.enabled = true;
  start_with_hooks("ocpp2.1");
  handle_inline("Heartbeat", json::object{{"currentTime", "2026-01-01T00:00:00Z"}});
  auto& ev = engine->events();
  ev.bad_message = [](const BadMessageEvent&) { throw 42; };
  ev.validation_failure = [](const ValidationFailureEvent&) { throw std::runtime_error("v"); };
  ev.call_result_error = [](const CallResultErrorEvent&) { throw std::runtime_error("c"); };
  receive("not json");
  receive_call("c1", "Heartbeat", R"({"x":1})");
  receive(R"([5,"u1","InternalError","",{}])");
  receive_call("c2");
  EXPECT_EQ(reported, (std::vector<std::string>{"on_bad_message", "on_validation_failure", "on_call_result_error"}));
  EXPECT_EQ(logger->count(LogLevel::error, "on_bad_message callback threw: a non-exception"), 1u);
  expect_result(host->written.size() - 1, "c2");
  EXPECT_TRUE(host->session_closes.empty());
}

}  // namespace
}  // namespace ocpp::engine_test
