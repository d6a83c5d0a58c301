// Closing: draining, at once, forced, joined, before opening, and the transport's end.
#include "engine_fixture.hpp"

namespace ocpp::engine_test {
namespace {

class CloseTest : public EngineTest {
 protected:
  // An open connection with one outbound CALL pending (c1) and one inbound handler running (in1).
  void start_busy(std::size_t concurrency = 1) {
    opts.call_concurrency = concurrency;
    start();
    handle_later("Slow");
    pending = call();
    receive_call("in1", "Slow");
    ASSERT_EQ(tracked.size(), 1u);
    host->written.clear();
  }
  void expect_closed_once(std::uint16_t code, std::string_view reason) const {
    ASSERT_EQ(host->transport_closes.size(), 1u);
    EXPECT_EQ(host->transport_closes[0].code, code);
    EXPECT_EQ(host->transport_closes[0].reason, reason);
  }
  std::shared_ptr<CallRecord> pending;
};

TEST_F(CloseTest, AwaitPendingClosesOnlyOnceTheCallAndTheHandlerHaveFinished) {
  start_busy();
  EXPECT_EQ(close({.code = 4001, .reason = "bye", .await_pending = true}), CloseStart::started);
  EXPECT_EQ(engine->state(), ConnectionState::closing);
  EXPECT_TRUE(host->transport_closes.empty());

  receive_result("c1");
  EXPECT_TRUE(pending->succeeded()) << "a pending call may still be answered";
  EXPECT_TRUE(host->transport_closes.empty()) << "the handler is still running";

  answer_later(0);
  ASSERT_EQ(host->written.size(), 1u);
  expect_result(0, "in1");
  expect_closed_once(4001, "bye");

  elapse(1h);
  answer_later(0);
  expect_closed_once(4001, "bye");
  EXPECT_EQ(tracked[0]->cancels, 0);
}

TEST_F(CloseTest, AwaitPendingClosesWhenTheLastThingToFinishIsTheCall) {
  start_busy();
  close({.reason = "drain"});
  answer_later(0);
  EXPECT_TRUE(host->transport_closes.empty()) << "the call is still pending";
  receive_result("c1");
  expect_closed_once(close_code::normal, "drain");
}

TEST_F(CloseTest, AwaitPendingSendsQueuedCallsBeforeClosing) {
  start_busy();
  auto queued = call();
  close({});
  answer_later(0);
  receive_result("c1");
  ASSERT_EQ(host->written.size(), 2u);
  expect_call(1, "c2");
  EXPECT_TRUE(host->transport_closes.empty());
  receive_result("c2");
  EXPECT_TRUE(queued->succeeded());
  expect_closed_once(close_code::normal, "");
}

TEST_F(CloseTest, AwaitPendingCountsATimeoutAsFinished) {
  start_busy();
  close({});
  answer_later(0);
  elapse(10s);
  EXPECT_TRUE(pending->failed_with(FailureKind::timeout));
  expect_closed_once(close_code::normal, "");
}

TEST_F(CloseTest, AwaitPendingWithNothingInFlightClosesAtOnce) {
  start();
  EXPECT_EQ(close({.reason = "idle"}), CloseStart::started);
  expect_closed_once(close_code::normal, "idle");
}

TEST_F(CloseTest, CallsMadeWhileClosingFail) {
  start_busy();
  close({});
  auto late = call();
  ASSERT_TRUE(late->failed_with(FailureKind::connection));
  EXPECT_TRUE(late->deferred);
  EXPECT_TRUE(host->written.empty());
}

TEST_F(CloseTest, WithoutAwaitPendingEverythingFailsAtOnce) {
  start_busy();
  auto queued = call();
  EXPECT_EQ(close({.code = 4002, .reason = "now", .await_pending = false}), CloseStart::started);
  EXPECT_TRUE(pending->failed_with(FailureKind::connection));
  EXPECT_TRUE(queued->failed_with(FailureKind::connection));
  EXPECT_EQ(tracked[0]->cancels, 1);
  expect_closed_once(4002, "now");
  EXPECT_EQ(last_schedule(), std::nullopt);
  answer_later(0);
  EXPECT_TRUE(host->written.empty()) << "a cancelled handler's answer is dropped";
  EXPECT_EQ(host->terminations, 0);
}

TEST_F(CloseTest, ACallArrivingWhileDrainingIsRefusedWithRpcFrameworkErrorNotDispatched) {
  start_busy();
  handle_inline("Heartbeat");
  close({});
  receive_call("in2", "Heartbeat");
  EXPECT_EQ(handler_runs["Heartbeat"], 0);
  ASSERT_EQ(host->written.size(), 1u);
  ASSERT_NO_FATAL_FAILURE(expect_call_error(0, "in2", "RpcFrameworkError"));
  EXPECT_EQ(text_of(frame(0)[3]), "The connection is closing");
  EXPECT_TRUE(host->transport_closes.empty()) << "the refused CALL does not end the drain early";
  answer_later(0);
  receive_result("c1");
  expect_closed_once(close_code::normal, "");
}

TEST_F(CloseTest, OnOcpp16ACallArrivingWhileDrainingIsRefusedWithGenericError) {
  start("ocpp1.6");
  handle_later("Slow");
  handle_inline("Heartbeat");
  receive_call("in1", "Slow");
  close({});
  receive_call("in2", "Heartbeat");
  EXPECT_EQ(handler_runs["Heartbeat"], 0);
  ASSERT_EQ(host->written.size(), 1u);
  expect_call_error(0, "in2", "GenericError");
}

TEST_F(CloseTest, ACallArrivingAfterTheDrainSentOurCloseFrameIsDroppedUnanswered) {
  start_busy();
  handle_inline("Heartbeat");
  close({});
  answer_later(0);
  receive_result("c1");
  ASSERT_EQ(host->transport_closes.size(), 1u);
  host->written.clear();
  receive_call("late", "Heartbeat");
  EXPECT_EQ(handler_runs["Heartbeat"], 0);
  EXPECT_TRUE(host->written.empty());
}

TEST_F(CloseTest, ACallArrivingAfterAnImmediateCloseIsDroppedUnanswered) {
  start();
  handle_inline("Heartbeat");
  close({.await_pending = false});
  ASSERT_EQ(host->transport_closes.size(), 1u);
  receive_call("late", "Heartbeat");
  EXPECT_EQ(handler_runs["Heartbeat"], 0);
  EXPECT_TRUE(host->written.empty());
}

TEST_F(CloseTest, SendsArrivingWhileClosingAreDropped) {
  start("ocpp2.1");
  handle_later("Slow");
  handle_inline("NotifyPeriodicEventStream");
  receive_call("in1", "Slow");
  close({});
  host->written.clear();
  receive(R"([6,"s1","NotifyPeriodicEventStream",{}])");
  EXPECT_EQ(handler_runs["NotifyPeriodicEventStream"], 0);
  EXPECT_TRUE(host->written.empty());
}

TEST_F(CloseTest, ForceTerminatesTheTransport) {
  start_busy();
  EXPECT_EQ(close({.force = true}), CloseStart::started);
  EXPECT_EQ(host->terminations, 1);
  EXPECT_TRUE(host->transport_closes.empty());
  EXPECT_TRUE(engine->on_transport_closed(close_code::abnormal, ""));
  ASSERT_TRUE(pending->failed_with(FailureKind::connection));
  EXPECT_EQ(pending->failure->close_code, close_code::abnormal);
  EXPECT_EQ(tracked[0]->cancels, 1);
}

TEST_F(CloseTest, ASecondCloseJoinsAndTheFirstCodeWins) {
  start_busy();
  EXPECT_EQ(close({.code = 4001, .await_pending = true}), CloseStart::started);
  EXPECT_EQ(close({.code = 4003, .await_pending = false}), CloseStart::joined);
  EXPECT_FALSE(pending->done()) << "the first close's drain stands";
  EXPECT_EQ(close({.force = true}), CloseStart::joined);
  EXPECT_EQ(host->terminations, 1) << "a later force still drops the connection";
  answer_later(0);
  receive_result("c1");
  expect_closed_once(4001, "");
}

TEST_F(CloseTest, InvalidCloseCodesAreSentAs1000) {
  start();
  close({.code = 1005, .await_pending = false});
  expect_closed_once(close_code::normal, "");
}

TEST_F(CloseTest, CloseWhileConnectingReturnsNotOpenThenFinishFailsQueuedCalls) {
  make();
  engine->set_state(ConnectionState::connecting);
  auto queued = call();
  EXPECT_EQ(close({}), CloseStart::not_open);
  EXPECT_TRUE(engine->close_requested());
  EXPECT_EQ(close({}), CloseStart::joined);
  EXPECT_FALSE(queued->done());
  EXPECT_NO_THROW(engine->finish({close_code::going_away, "Connection aborted"}));
  EXPECT_TRUE(queued->failed_with(FailureKind::connection));
  ASSERT_TRUE(engine->last_close().has_value());
  EXPECT_EQ(engine->last_close()->code, close_code::going_away);
  EXPECT_EQ(engine->state(), ConnectionState::closed);
  EXPECT_TRUE(host->transport_closes.empty());
  EXPECT_EQ(host->terminations, 0);
}

TEST_F(CloseTest, CloseOfAnEngineNeverConnectedIsAlreadyClosedWithNoLastClose) {
  make();
  EXPECT_EQ(close({}), CloseStart::already_closed);
  EXPECT_FALSE(engine->last_close().has_value());
  EXPECT_FALSE(engine->close_requested());
  EXPECT_TRUE(host->transport_closes.empty());
}

TEST_F(CloseTest, TransportLossFailsPendingCallsAndCancelsHandlersThenFinishFailsQueuedOnes) {
  start_busy();
  auto queued = call();
  EXPECT_FALSE(engine->on_transport_closed(close_code::abnormal, "gone")) << "no close was asked for";
  ASSERT_TRUE(pending->failed_with(FailureKind::connection));
  EXPECT_EQ(pending->failure->close_code, close_code::abnormal);
  EXPECT_EQ(tracked[0]->cancels, 1);
  EXPECT_FALSE(queued->done()) << "queued calls wait for a reconnect";
  EXPECT_EQ(last_schedule(), std::nullopt);

  EXPECT_NO_THROW(engine->finish({close_code::abnormal, "gone"}));
  EXPECT_TRUE(queued->failed_with(FailureKind::connection));
  ASSERT_TRUE(engine->last_close().has_value());
  EXPECT_EQ(engine->last_close()->code, close_code::abnormal);
  EXPECT_EQ(engine->last_close()->reason, "gone");
  EXPECT_EQ(engine->state(), ConnectionState::closed);
  EXPECT_EQ(close({}), CloseStart::already_closed);
  EXPECT_TRUE(call()->failed_with(FailureKind::connection));
}

TEST_F(CloseTest, ARequestedCloseEndsWithOnTransportClosedTrue) {
  start();
  close({.code = 4001, .reason = "bye"});
  EXPECT_TRUE(engine->on_transport_closed(4001, "bye"));
  EXPECT_NO_THROW(engine->finish({4001, "bye"}));
  EXPECT_FALSE(engine->close_requested());
  ASSERT_TRUE(engine->last_close().has_value());
  EXPECT_EQ(engine->last_close()->code, 4001);
}

TEST_F(CloseTest, QueuedCallsWaitForTheReconnect) {
  start_busy();
  auto queued = call();
  engine->on_transport_closed(close_code::abnormal, "");
  engine->set_state(ConnectionState::connecting);
  EXPECT_NO_THROW(engine->open("ocpp2.0.1"));
  EXPECT_NO_THROW(engine->resume());
  ASSERT_EQ(host->written.size(), 1u);
  expect_call(0, "c2");
  receive_result("c2");
  EXPECT_TRUE(queued->succeeded());
}

TEST_F(CloseTest, ACallMadeFromACompletionWhileTheTransportGoesIsNotLost) {
  start();
  std::shared_ptr<CallRecord> retry;
  auto first = call("Heartbeat", json::object(), "first", std::nullopt, [&] { retry = call_with_id("retry"); });
  EXPECT_FALSE(engine->on_transport_closed(close_code::abnormal, ""));
  ASSERT_TRUE(first->failed_with(FailureKind::connection));
  ASSERT_TRUE(retry);
  // The shell reconnects (as Client does: connecting, then open + resume).
  engine->set_state(ConnectionState::connecting);
  EXPECT_NO_THROW(engine->open("ocpp2.0.1"));
  EXPECT_NO_THROW(engine->resume());
  // Made while no transport was there, it waited in the queue and goes out on the new connection.
  EXPECT_FALSE(retry->done());
  ASSERT_EQ(host->written.size(), 2u);
  expect_call(1, "retry");
}

}  // namespace
}  // namespace ocpp::engine_test
