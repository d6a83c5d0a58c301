// Session behaviour over the loopback transport: deterministic, single-threaded.
#include "session_fixture.hpp"
#include "support/capturing_logger.hpp"

using namespace ocpp_test;

namespace {

HandlerResult heartbeat(CallContext&) { return json::object{{"currentTime", "2026-01-01T00:00:00Z"}}; }

}  // namespace

TEST_F(SessionTest, CallCompletesWithTheResult) {
  auto [a, b] = pair();
  b->handle("Heartbeat", heartbeat);
  CallOutcome out;
  a->call("Heartbeat", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_FALSE(out.error);
  EXPECT_EQ(out.result.at("currentTime"), "2026-01-01T00:00:00Z");
}

TEST_F(SessionTest, ProtocolSpecificHandlerWinsOverGenericAndWildcard) {
  auto [a, b] = pair("ocpp1.6");
  b->handle_any([](CallContext&) -> HandlerResult { return json::object{{"from", "wildcard"}}; });
  b->handle("Heartbeat", [](CallContext&) -> HandlerResult { return json::object{{"from", "generic"}}; });
  b->handle("ocpp1.6", "Heartbeat", [](CallContext&) -> HandlerResult { return json::object{{"from", "1.6"}}; });
  EXPECT_THROW(b->handle("Heartbeat", heartbeat), std::logic_error);
  CallOutcome h, other;
  a->call("Heartbeat", json::object(), h.handler());
  a->call("Reset", json::object(), other.handler());
  ASSERT_TRUE(run_until([&] { return h.done && other.done; }));
  EXPECT_EQ(h.result.at("from"), "1.6");
  EXPECT_EQ(other.result.at("from"), "wildcard");
}

TEST_F(SessionTest, UnknownActionGetsNotImplemented) {
  auto [a, b] = pair();
  CallOutcome out;
  a->call("NoSuchAction", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  EXPECT_EQ(out.rpc_error().code(), ErrorCode::NotImplemented);
}

TEST_F(SessionTest, HandlerRpcErrorCrossesWithDescriptionAndDetails) {
  auto [a, b] = pair();
  b->handle("Authorize", [](CallContext&) -> HandlerResult {
    throw RpcError(ErrorCode::SecurityError, "not allowed", json::object{{"reason", "blocked"}});
  });
  CallOutcome out;
  a->call("Authorize", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  auto e = out.rpc_error();
  EXPECT_EQ(e.code(), ErrorCode::SecurityError);
  EXPECT_EQ(e.description(), "not allowed");
  EXPECT_EQ(e.details().at("reason"), "blocked");
}

TEST_F(SessionTest, Ocpp16SpellsErrorCodesItsOwnWay) {
  auto a = with_raw("ocpp1.6");
  a->handle("DataTransfer", [](CallContext&) -> HandlerResult { throw RpcError(ErrorCode::FormatViolation, "x"); });
  a->handle("Authorize",
            [](CallContext&) -> HandlerResult { throw RpcError(ErrorCode::OccurrenceConstraintViolation, "y"); });
  send_raw(R"([2,"m1","DataTransfer",{}])");
  send_raw(R"([2,"m2","Authorize",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
  EXPECT_EQ(raw->frame(0)[2], "FormationViolation");
  EXPECT_EQ(raw->frame(1)[2], "OccurenceConstraintViolation");
}

TEST_F(SessionTest, OtherExceptionsBecomeInternalErrorWithDetailsOnlyWhenAsked) {
  SessionOptions detailed;
  detailed.respond_with_detailed_errors = true;
  for (bool with_details : {false, true}) {
    auto [a, b] = pair("ocpp2.0.1", {}, with_details ? detailed : SessionOptions{});
    b->handle("Reset", [](CallContext&) -> HandlerResult { throw std::runtime_error("database down"); });
    CallOutcome out;
    a->call("Reset", json::object(), out.handler());
    ASSERT_TRUE(run_until([&] { return out.done; }));
    auto e = out.rpc_error();
    EXPECT_EQ(e.code(), ErrorCode::InternalError);
    EXPECT_EQ(e.details().contains("message"), with_details);
    EXPECT_EQ(e.description().find("database down") != std::string::npos, with_details);
  }
}

TEST_F(SessionTest, NoReplyLetsTheCallerTimeOutAndTheLateAnswerIsIgnored) {
  SessionOptions caller_opts;
  caller_opts.call_timeout = milliseconds(30);
  caller_opts.max_bad_messages = 0;  // one counted bad message would close the connection
  // Built by hand to keep the answering side's transport: the late answer goes through it.
  auto lp = make_loopback_pair(io.get_executor());
  auto caller = TestPeer::make(io.get_executor(), caller_opts);
  auto answerer = TestPeer::make(io.get_executor());
  std::string unanswered_id;
  answerer->handle("Heartbeat", [&](CallContext& ctx) -> HandlerResult {
    unanswered_id = ctx.message_id;
    return no_reply;
  });
  answerer->handle("StatusNotification", [](CallContext&) -> HandlerResult { return json::object(); });
  caller->open(lp.a, "ocpp2.0.1");
  answerer->open(lp.b, "ocpp2.0.1");
  std::vector<std::string> bad;
  caller->on_bad_message([&](const BadMessageEvent& e) { bad.emplace_back(e.error); });

  CallOutcome out;
  caller->call("Heartbeat", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_FALSE(unanswered_id.empty()) << "the handler ran and chose not to answer";
  EXPECT_TRUE(out.failed_with<TimeoutError>());

  lp.b->send(R"([3,")" + unanswered_id + R"(",{"currentTime":"2026-01-01T00:00:00Z"}])");
  ASSERT_TRUE(run_until([&] { return !bad.empty(); }));
  EXPECT_NE(bad[0].find("late"), std::string::npos) << bad[0];
  EXPECT_EQ(caller->state(), ConnectionState::open) << "not counted toward max_bad_messages";
  // The connection still works after the ignored answer.
  CallOutcome next;
  caller->call("StatusNotification", json::object(), next.handler());
  ASSERT_TRUE(run_until([&] { return next.done; }));
  EXPECT_FALSE(next.error);
}

TEST_F(SessionTest, OneCallInFlightByDefaultTheRestQueueInOrder) {
  auto a = with_raw();
  CallOutcome c1, c2, c3;
  a->call("A1", json::object(), c1.handler());
  a->call("A2", json::object(), c2.handler());
  a->call("A3", json::object(), c3.handler());
  run_until([&] { return false; }, milliseconds(30));
  ASSERT_EQ(raw->frames.size(), 1u) << "the second CALL waits for the first answer";
  EXPECT_EQ(raw->frame(0)[2], "A1");
  send_raw("[3," + json::serialize(raw->frame(0)[1]) + ",{}]");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
  EXPECT_EQ(raw->frame(1)[2], "A2");
  a->set_call_concurrency(3);
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 3; }));
  EXPECT_EQ(raw->frame(2)[2], "A3");
  EXPECT_TRUE(c1.done);
  EXPECT_FALSE(c2.done);
}

TEST_F(SessionTest, CancellationRejectsAndFreesTheSlot) {
  auto a = with_raw();
  asio::cancellation_signal cancel;
  CallOutcome first, second;
  a->call("Slow", json::object(), asio::bind_cancellation_slot(cancel.slot(), first.handler()));
  a->call("Next", json::object(), second.handler());
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  cancel.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until([&] { return first.done && raw->frames.size() == 2; }));
  try {
    std::rethrow_exception(first.error);
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), asio::error::operation_aborted);
  }
  EXPECT_EQ(raw->frame(1)[2], "Next");
}

TEST_F(SessionTest, MalformedFramesAreAnsweredAndTheBudgetClosesWith1002) {
  SessionOptions o;
  o.max_bad_messages = 2;
  auto a = with_raw("ocpp2.0.1", o);
  std::optional<CloseResult> closed;
  a->on_close([&](const CloseResult& r) { closed = r; });
  send_raw(R"([2,"bad-1","Heartbeat")");
  send_raw(R"([2,17,"Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
  EXPECT_EQ(raw->frame(0)[1], "-1");
  EXPECT_EQ(raw->frame(0)[2], "RpcFrameworkError");
  EXPECT_EQ(a->state(), ConnectionState::open);
  // A good message resets the count: the budget is for consecutive bad frames.
  a->handle("Heartbeat", heartbeat);
  send_raw(R"([2,"ok","Heartbeat",{}])");
  send_raw(R"([9,"x","A",{}])");
  send_raw(R"([9,"y","A",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 5; }));
  EXPECT_EQ(raw->frame(3)[2], "MessageTypeNotSupported");
  EXPECT_EQ(a->state(), ConnectionState::open);
  send_raw(R"([9,"z","A",{}])");
  ASSERT_TRUE(run_until([&] { return closed.has_value(); }));
  EXPECT_EQ(closed->code, close_code::protocol_error);
}

TEST_F(SessionTest, ResponsesToUnknownIdsAreNotAnsweredButCounted) {
  SessionOptions o;
  o.max_bad_messages = 1;
  auto a = with_raw("ocpp2.0.1", o);
  send_raw(R"([3,"never-sent",{}])");
  send_raw(R"([4,"never-sent","GenericError","",{}])");
  ASSERT_TRUE(run_until([&] { return raw->closed_code.has_value(); }));
  EXPECT_TRUE(raw->frames.empty());
  EXPECT_EQ(*raw->closed_code, close_code::protocol_error);
}

TEST_F(SessionTest, DuplicateIdOfACallInProgressIsRefused) {
  auto a = with_raw();
  std::optional<Responder> held;
  a->handle("Slow", [&](CallContext&, Responder r) { held.emplace(std::move(r)); });
  send_raw(R"([2,"same","Slow",{}])");
  send_raw(R"([2,"same","Slow",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0)[2], "RpcFrameworkError");
  held->result(json::object{{"ok", true}});
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
  EXPECT_EQ(raw->frame(1)[0], 3);
  EXPECT_EQ(raw->frame(1)[1], "same");
}

TEST_F(SessionTest, ResponderDroppedWithoutAnswerSendsInternalError) {
  auto a = with_raw();
  a->handle("Forgetful", [](CallContext&, Responder) {});
  send_raw(R"([2,"f1","Forgetful",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0)[2], "InternalError");
}

TEST_F(SessionTest, CoroutineHandlers) {
  auto [a, b] = pair();
  b->handle("Reset", [](CallContext ctx) -> asio::awaitable<json::value> {
    asio::steady_timer t(co_await asio::this_coro::executor, milliseconds(1));
    co_await t.async_wait(asio::use_awaitable);
    co_return json::object{{"status", "Accepted"}, {"echo", ctx.params.at("type")}};
  });
  CallOutcome out;
  a->call("Reset", json::object{{"type", "Hard"}}, out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_FALSE(out.error);
  EXPECT_EQ(out.result.at("echo"), "Hard");
}

TEST_F(SessionTest, SendFramesOnOcpp21AreHandledAndNeverAnswered) {
  auto a = with_raw("ocpp2.1");
  int seen = 0;
  a->handle("NotifyPeriodicEventStream", [&](CallContext& ctx) -> HandlerResult {
    EXPECT_TRUE(ctx.is_send);
    ++seen;
    throw std::runtime_error("even a failing SEND handler gets no answer");
  });
  send_raw(R"([6,"s1","NotifyPeriodicEventStream",{"id":1}])");
  send_raw(R"([6,"s2","Unknown",{}])");
  ASSERT_TRUE(run_until([&] { return seen == 1; }));
  run_until([] { return false; }, milliseconds(20));
  EXPECT_TRUE(raw->frames.empty());

  bool sent = false;
  a->send("NotifyPeriodicEventStream", json::object{{"id", 2}}, [&](std::exception_ptr e) { sent = !e; });
  ASSERT_TRUE(run_until([&] { return sent && raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0)[0], 6);
}

TEST_F(SessionTest, SendIsRefusedBeforeOcpp21) {
  auto a = with_raw("ocpp2.0.1");
  std::exception_ptr error;
  bool done = false;
  a->send("NotifyPeriodicEventStream", json::object(), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_TRUE(error);
  EXPECT_TRUE(raw->frames.empty());
}

TEST_F(SessionTest, CallResultErrorOnOcpp21WhenAnAnswerIsMalformed) {
  auto a = with_raw("ocpp2.1");
  CallOutcome out;
  a->call("Heartbeat", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  send_raw("[3," + json::serialize(raw->frame(0)[1]) + ",[1,2]]");
  ASSERT_TRUE(run_until([&] { return out.done && raw->frames.size() == 2; }));
  EXPECT_EQ(out.rpc_error().code(), ErrorCode::FormatViolation);
  EXPECT_EQ(raw->frame(1)[0], 5);
  EXPECT_EQ(raw->frame(1)[1], raw->frame(0)[1]);
}

TEST_F(SessionTest, CloseIsIdempotentAndTheFirstCodeWins) {
  auto [a, b] = pair();
  std::vector<CloseResult> results;
  a->close(CloseOptions{4001, "first", true, false}, [&](CloseResult r) { results.push_back(r); });
  a->close(CloseOptions{4002, "second", true, false}, [&](CloseResult r) { results.push_back(r); });
  ASSERT_TRUE(run_until([&] { return results.size() == 2; }));
  EXPECT_EQ(results[0].code, 4001);
  EXPECT_EQ(results[1].code, 4001);
  CallOutcome out;
  a->call("Heartbeat", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  EXPECT_TRUE(out.failed_with<ConnectionError>());
  std::vector<CloseResult> again;
  a->close(CloseOptions{}, [&](CloseResult r) { again.push_back(r); });
  ASSERT_TRUE(run_until([&] { return again.size() == 1; }));
  EXPECT_EQ(again[0].code, 4001);
}

TEST_F(SessionTest, InvalidCloseCodesAreSentAs1000) {
  auto [a, b] = pair();
  std::optional<CloseResult> seen_by_b;
  b->on_close([&](const CloseResult& r) { seen_by_b = r; });
  a->close(CloseOptions{1005, "", false, false});
  ASSERT_TRUE(run_until([&] { return seen_by_b.has_value(); }));
  EXPECT_EQ(seen_by_b->code, 1000);
}

TEST_F(SessionTest, AwaitPendingLetsCallsFinishWithoutItTheyFail) {
  for (bool await_pending : {true, false}) {
    auto a = with_raw();
    CallOutcome out;
    a->call("Heartbeat", json::object(), out.handler());
    ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
    bool closed = false;
    a->close(CloseOptions{1000, "", await_pending, false}, [&](CloseResult) { closed = true; });
    run_until([] { return false; }, milliseconds(10));
    EXPECT_EQ(closed, !await_pending);
    if (await_pending) {
      EXPECT_FALSE(out.done);
      send_raw("[3," + json::serialize(raw->frame(0)[1]) + ",{\"currentTime\":\"x\"}]");
      ASSERT_TRUE(run_until([&] { return closed; }));
      EXPECT_FALSE(out.error);
    } else {
      ASSERT_TRUE(run_until([&] { return out.done; }));
      EXPECT_TRUE(out.failed_with<ConnectionError>());
    }
  }
}

TEST_F(SessionTest, CloseAwaitingAHandlerThatNeverAnswersCompletesAfterTheDrainTimeout) {
  SessionOptions o;
  o.drain_timeout = milliseconds(30);
  auto a = with_raw("ocpp2.0.1", o);
  std::optional<Responder> held;  // never answers until the close is over
  bool cancelled = false;
  a->handle("Slow", [&](CallContext&, Responder r) {
    r.cancellation_slot().assign([&](asio::cancellation_type) { cancelled = true; });
    held.emplace(std::move(r));
  });
  send_raw(R"([2,"s1","Slow",{}])");
  ASSERT_TRUE(run_until([&] { return held.has_value(); }));
  std::optional<CloseResult> result;
  a->close(CloseOptions{4001, "bye", true, false}, [&](CloseResult r) { result = r; });
  ASSERT_TRUE(run_until([&] { return result && raw->closed_code; }));
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(result->code, 4001);
  EXPECT_EQ(*raw->closed_code, 4001);
  held->result(json::object());
  held.reset();
  run_until([] { return false; }, milliseconds(10));
  EXPECT_TRUE(raw->frames.empty()) << "the cancelled handler's late answer is not sent";
}

TEST_F(SessionTest, ACallArrivingWhileDrainingIsRefusedWithoutRunningItsHandler) {
  auto a = with_raw();
  int heartbeats = 0;
  a->handle("Heartbeat", [&](CallContext& ctx) { ++heartbeats; return heartbeat(ctx); });
  CallOutcome out;
  a->call("Reset", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  a->close(CloseOptions{});
  send_raw(R"([2,"h1","Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
  EXPECT_EQ(raw->frame(1)[0], 4);
  EXPECT_EQ(raw->frame(1)[1], "h1");
  EXPECT_EQ(raw->frame(1)[2], "RpcFrameworkError");
  EXPECT_EQ(heartbeats, 0);
  send_raw("[3," + json::serialize(raw->frame(0)[1]) + ",{}]");
  ASSERT_TRUE(run_until([&] { return out.done && raw->closed_code; }));
  EXPECT_FALSE(out.error) << "the answer to our call is still taken while draining";
}

TEST_F(SessionTest, ForceDropsTheConnectionAndFailsPendingCalls) {
  auto a = with_raw();
  CallOutcome out;
  a->call("Heartbeat", json::object(), out.handler());
  std::optional<CloseResult> result;
  a->close(CloseOptions{1000, "", true, true}, [&](CloseResult r) { result = r; });
  ASSERT_TRUE(run_until([&] { return result && out.done; }));
  EXPECT_EQ(result->code, close_code::abnormal);
  EXPECT_TRUE(out.failed_with<ConnectionError>());
}

TEST_F(SessionTest, MessageEventsForEveryFrameWithLatency) {
  auto [a, b] = pair();
  b->handle("Heartbeat", heartbeat);
  std::vector<std::pair<MessageDirection, MessageType>> seen;
  std::optional<double> latency;
  a->on_message([&](const MessageEvent& e) {
    seen.emplace_back(e.direction, e.type);
    if (e.latency_ms) latency = e.latency_ms;
    if (e.type == MessageType::CallResult) {
      EXPECT_EQ(e.action, "Heartbeat");
    }
  });
  CallOutcome out;
  a->call("Heartbeat", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(MessageDirection::out, MessageType::Call));
  EXPECT_EQ(seen[1], std::make_pair(MessageDirection::in, MessageType::CallResult));
  EXPECT_TRUE(latency.has_value());
}

TEST_F(SessionTest, AnsweredBadFramesAreObservedWithTheirErrorCode) {
  auto a = with_raw("ocpp1.6");
  std::vector<std::string> codes;
  a->on_message([&](const MessageEvent& e) {
    if (e.direction == MessageDirection::out) codes.emplace_back(e.error_code);
  });
  send_raw("not json");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_EQ(codes[0], "FormationViolation") << "what the wire says, also in the event";
  EXPECT_EQ(raw->frame(0)[2], json::value(codes[0]));
}

TEST_F(SessionTest, SafeCallGivesEmptyInsteadOfThrowing) {
  auto [a, b] = pair();
  std::optional<std::optional<json::value>> got;
  a->safe_call("Nope", json::object(), [&](std::optional<json::value> v) { got = std::move(v); });
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  EXPECT_FALSE(got->has_value());
}

TEST_F(SessionTest, ConnectionLossFailsPendingCallsAndCancelsHandlers) {
  auto a = with_raw();
  bool cancelled = false;
  a->handle("Slow", [&](CallContext&, Responder r) {
    r.cancellation_slot().assign([&](asio::cancellation_type) { cancelled = true; });
    static std::optional<Responder> keep;
    keep.emplace(std::move(r));
  });
  send_raw(R"([2,"s","Slow",{}])");
  CallOutcome out;
  a->call("Heartbeat", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  raw_transport->terminate();
  ASSERT_TRUE(run_until([&] { return out.done && cancelled; }));
  EXPECT_TRUE(out.failed_with<ConnectionError>());
}

TEST_F(SessionTest, RateLimitDropsOverLimitCallsUnansweredAndRefills) {
  auto now = std::chrono::steady_clock::time_point{};
  SessionOptions o;
  o.clock = [&] { return now; };
  o.rate_limit.global = RateLimit{2, milliseconds(1000)};
  auto a = with_raw("ocpp2.0.1", o);
  a->handle("Heartbeat", heartbeat);
  std::vector<std::string> limited;
  a->on_rate_limit_exceeded([&](const RateLimitEvent& e) { limited.emplace_back(e.message_id); });
  for (auto id : {"c1", "c2", "c3"}) send_raw(std::string(R"([2,")") + id + R"(","Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2 && limited.size() == 1; }));
  EXPECT_EQ(limited, std::vector<std::string>{"c3"});
  now += milliseconds(500);  // one token back
  send_raw(R"([2,"c4","Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 3; }));
  EXPECT_EQ(raw->frame(2).at(1), "c4") << "c3 was dropped, not delayed";
}

TEST_F(SessionTest, PerActionLimitsLeaveOtherActionsAlone) {
  auto now = std::chrono::steady_clock::time_point{};
  SessionOptions o;
  o.clock = [&] { return now; };
  o.rate_limit.per_action["Heartbeat"] = RateLimit{1, milliseconds(60000)};
  auto a = with_raw("ocpp2.0.1", o);
  a->handle("Heartbeat", heartbeat);
  a->handle("Authorize", [](CallContext&) -> HandlerResult { return json::object{{"idTokenInfo", {{"status", "Accepted"}}}}; });
  send_raw(R"([2,"h1","Heartbeat",{}])");
  send_raw(R"([2,"h2","Heartbeat",{}])");
  send_raw(R"([2,"a1","Authorize",{}])");
  send_raw(R"([2,"a2","Authorize",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 3; }));
  EXPECT_EQ(raw->frame(0).at(1), "h1");
  EXPECT_EQ(raw->frame(1).at(1), "a1");
  EXPECT_EQ(raw->frame(2).at(1), "a2");
}

TEST_F(SessionTest, RateLimitCanDisconnect) {
  SessionOptions o;
  o.rate_limit.global = RateLimit{1, milliseconds(60000)};
  o.rate_limit.on_exceeded = LimitAction::disconnect;
  auto a = with_raw("ocpp2.0.1", o);
  a->handle("Heartbeat", heartbeat);
  send_raw(R"([2,"c1","Heartbeat",{}])");
  send_raw(R"([2,"c2","Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return raw->closed_code.has_value(); }));
  EXPECT_EQ(*raw->closed_code, close_code::policy_violation);
}

TEST_F(SessionTest, RateLimitCallbackModeLeavesTheDecisionToTheEvent) {
  for (auto decision : {RateLimitDecision::allow, RateLimitDecision::drop, RateLimitDecision::disconnect}) {
    SCOPED_TRACE(static_cast<int>(decision));
    SessionOptions o;
    o.rate_limit.global = RateLimit{1, milliseconds(60000)};
    o.rate_limit.on_exceeded = LimitAction::callback;
    auto a = with_raw("ocpp2.0.1", o);
    int runs = 0;
    a->handle("Heartbeat", [&](CallContext& c) {
      ++runs;
      return heartbeat(c);
    });
    std::vector<LimitAction> seen;
    a->on_rate_limit_exceeded([&](RateLimitEvent& e) {
      seen.push_back(e.action_taken);
      e.decision = decision;
    });
    send_raw(R"([2,"c1","Heartbeat",{}])");
    send_raw(R"([2,"c2","Heartbeat",{}])");
    ASSERT_TRUE(run_until([&] { return seen.size() == 1; }));
    EXPECT_EQ(seen[0], LimitAction::callback);
    switch (decision) {
      case RateLimitDecision::allow:
        ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
        EXPECT_EQ(raw->frame(1).at(0), 3);
        EXPECT_EQ(raw->frame(1).at(1), "c2");
        EXPECT_EQ(runs, 2);
        EXPECT_EQ(a->state(), ConnectionState::open);
        break;
      case RateLimitDecision::drop:
        io.restart();
        io.poll();  // everything the session posted has arrived
        ASSERT_EQ(raw->frames.size(), 1u) << "c2 is not answered";
        EXPECT_EQ(raw->frame(0).at(1), "c1");
        EXPECT_EQ(runs, 1);
        EXPECT_EQ(a->state(), ConnectionState::open);
        EXPECT_FALSE(raw->closed_code);
        break;
      case RateLimitDecision::disconnect:
        ASSERT_TRUE(run_until([&] { return raw->closed_code.has_value(); }));
        EXPECT_EQ(*raw->closed_code, close_code::policy_violation);
        EXPECT_EQ(runs, 1);
        break;
    }
  }
}

TEST_F(SessionTest, ThrowingOpenMessageAndCloseCallbacksNeitherEndTheRunNorTheConnection) {
  auto logger = std::make_shared<CapturingLogger>();
  SessionOptions o;
  o.logger = logger;
  auto lp = make_loopback_pair(io.get_executor());
  auto a = TestPeer::make(io.get_executor(), o);
  a->handle("Heartbeat", heartbeat);
  a->on_open([] { throw std::runtime_error("open failed"); });
  a->on_message([](const MessageEvent&) { throw std::runtime_error("message failed"); });
  bool closed = false;
  a->on_close([&](const CloseResult&) {
    closed = true;
    throw std::runtime_error("close failed");
  });
  raw = std::make_shared<RawEnd>();
  raw_transport = lp.b;
  lp.b->start(raw);
  EXPECT_NO_THROW(a->open(lp.a, "ocpp2.0.1"));
  send_raw(R"([2,"c1","Heartbeat",{}])");
  send_raw(R"([2,"c2","Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
  EXPECT_EQ(raw->frame(1).at(1), "c2");
  EXPECT_EQ(a->state(), ConnectionState::open);
  a->close();
  ASSERT_TRUE(run_until([&] { return closed; }));
  EXPECT_EQ(logger->count(LogLevel::error, "on_open callback threw: open failed"), 1u);
  EXPECT_EQ(logger->count(LogLevel::error, "on_message callback threw: message failed"), 4u);
  EXPECT_EQ(logger->count(LogLevel::error, "on_close callback threw: close failed"), 1u);
}

TEST_F(SessionTest, AMessageMiddlewareThrowingANonExceptionAnswersInternalError) {
  auto a = with_raw("ocpp2.0.1");
  a->handle("Heartbeat", heartbeat);
  int calls = 0;
  a->use([&](std::shared_ptr<MessageContext> ctx) {
    if (ctx->phase() == MessagePhase::incoming_call && ++calls == 1) throw 42;
  });
  send_raw(R"([2,"c1","Heartbeat",{}])");
  send_raw(R"([2,"c2","Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
  EXPECT_EQ(raw->frame(0).at(0), 4);
  EXPECT_EQ(raw->frame(0).at(2), "InternalError");
  EXPECT_EQ(raw->frame(1).at(0), 3);
  EXPECT_EQ(raw->frame(1).at(1), "c2");
}
