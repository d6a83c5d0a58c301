// The engine's basic exchange, and errors as values. The other files of tests/engine cover
// timeouts, the bad-message budget, the queue, duplicate ids, closing, strict mode and middleware.
#include "engine_fixture.hpp"

namespace ocpp::engine_test {
namespace {

TEST_F(EngineTest, ACallIsWrittenAndCompletesWithItsResult) {
  start();
  auto c1 = call("Heartbeat");
  ASSERT_EQ(host->written.size(), 1u);
  expect_call(0, "c1");
  EXPECT_TRUE(frame(0).at(3).is_object());
  receive_result("c1");
  ASSERT_TRUE(c1->succeeded());
  EXPECT_EQ(c1->result.at("currentTime"), "2024-01-01T00:00:00Z");
}

TEST_F(EngineTest, ACallErrorAnswerFailsTheCallWithThePeersCode) {
  start();
  auto c1 = call();
  receive(R"([4,"c1","NotSupported","no",{"k":1}])");
  ASSERT_TRUE(c1->failed_with(FailureKind::rpc_error));
  ASSERT_TRUE(c1->failure->rpc.has_value());
  EXPECT_EQ(c1->failure->rpc->code(), ErrorCode::NotSupported);
  EXPECT_EQ(c1->failure->rpc->description(), "no");
  EXPECT_EQ(c1->failure->rpc->details().at("k"), 1);
}

TEST_F(EngineTest, AnInboundCallIsAnsweredByItsHandler) {
  start();
  handle_inline("Heartbeat", json::object{{"currentTime", "2024-01-01T00:00:00Z"}});
  receive_call("in1");
  ASSERT_EQ(host->written.size(), 1u);
  expect_result(0, "in1");
  EXPECT_EQ(frame(0).at(2).at("currentTime"), "2024-01-01T00:00:00Z");
}

TEST_F(EngineTest, AnUnknownActionGetsNotImplemented) {
  start();
  receive_call("in1", "Nope");
  ASSERT_EQ(host->written.size(), 1u);
  expect_call_error(0, "in1", "NotImplemented");
}

TEST_F(EngineTest, SendOnlyOnOcpp21) {
  start("ocpp2.0.1");
  std::optional<Failure> refused;
  EXPECT_NO_THROW(refused = engine->send("NotifyPeriodicEventStream", json::object()));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->kind, FailureKind::unsupported);
  EXPECT_TRUE(host->written.empty());
}

TEST_F(EngineTest, NothingThrowsOnGarbage) {
  start();
  for (std::string_view text : {"", "[", "null", "[2]", R"([2,"a"])", R"([3,"x",{}])", R"([4,"x"])",
                                R"([5,"x","A","",{}])", R"([2,"x","",{}])", "[2,\"x\",\"A\",{}]]"})
    receive(text);
  EXPECT_NO_THROW(engine->cancel(12345));
  EXPECT_NO_THROW(engine->on_timer());
  EXPECT_NO_THROW(engine->set_call_concurrency(0));
  EXPECT_EQ(engine->state(), ConnectionState::open);
}

}  // namespace
}  // namespace ocpp::engine_test
