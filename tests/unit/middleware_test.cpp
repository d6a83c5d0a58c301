// Message middleware over loopback: all six phases, changes, vetoes, and order kept while a
// middleware decides asynchronously.
#include <thread>

#include "session_fixture.hpp"

using namespace ocpp_test;

namespace {
std::string name(MessagePhase p) {
  switch (p) {
    case MessagePhase::incoming_call: return "incoming_call";
    case MessagePhase::outgoing_call: return "outgoing_call";
    case MessagePhase::incoming_result: return "incoming_result";
    case MessagePhase::incoming_error: return "incoming_error";
    case MessagePhase::outgoing_result: return "outgoing_result";
    case MessagePhase::outgoing_error: return "outgoing_error";
  }
  return "?";
}
HandlerResult heartbeat(CallContext&) { return json::object{{"currentTime", "2026-01-01T00:00:00Z"}}; }
}  // namespace

TEST_F(SessionTest, MiddlewareSeesAllSixPhasesInOrder) {
  auto [cs, csms] = pair();
  std::vector<std::string> cs_seen, csms_seen;
  cs->use([&](std::shared_ptr<MessageContext> ctx) { cs_seen.push_back(name(ctx->phase()) + " " + ctx->action()); });
  csms->use([&](std::shared_ptr<MessageContext> ctx) { csms_seen.push_back(name(ctx->phase()) + " " + ctx->action()); });
  csms->handle("Heartbeat", heartbeat);
  CallOutcome ok, missing;
  cs->call("Heartbeat", json::object(), ok.handler());
  ASSERT_TRUE(run_until([&] { return ok.done; }));
  cs->call("Nope", json::object(), missing.handler());
  ASSERT_TRUE(run_until([&] { return missing.done; }));
  EXPECT_EQ(cs_seen, (std::vector<std::string>{"outgoing_call Heartbeat", "incoming_result Heartbeat",
                                                "outgoing_call Nope", "incoming_error Nope"}));
  EXPECT_EQ(csms_seen, (std::vector<std::string>{"incoming_call Heartbeat", "outgoing_result Heartbeat",
                                                  "incoming_call Nope", "outgoing_error Nope"}));
}

TEST_F(SessionTest, MiddlewareMayChangeMessages) {
  auto [cs, csms] = pair();
  csms->use([](std::shared_ptr<MessageContext> ctx) {
    if (ctx->phase() == MessagePhase::incoming_call) ctx->frame().payload.as_object()["added"] = 1;
  });
  cs->use([](std::shared_ptr<MessageContext> ctx) {
    if (ctx->phase() == MessagePhase::incoming_result) ctx->frame().payload.as_object()["seen"] = true;
  });
  csms->handle("Echo", [](CallContext& ctx) -> HandlerResult { return ctx.params; });
  CallOutcome out;
  cs->call("Echo", json::object{{"x", 1}}, out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_FALSE(out.error);
  EXPECT_EQ(out.result, (json::object{{"x", 1}, {"added", 1}, {"seen", true}}));
}

TEST_F(SessionTest, MiddlewareVetoes) {
  auto cs = with_raw();
  cs->use([](std::shared_ptr<MessageContext> ctx) {
    if (ctx->phase() == MessagePhase::outgoing_call && ctx->action() == "Forbidden")
      ctx->reject(RpcError(ErrorCode::SecurityError, "not from here"));
    if (ctx->phase() == MessagePhase::incoming_call && ctx->action() == "Reset")
      ctx->reject(RpcError(ErrorCode::SecurityError, "no resets"));
  });
  bool reset_ran = false;
  cs->handle("Reset", [&](CallContext&) -> HandlerResult {
    reset_ran = true;
    return json::object();
  });
  CallOutcome out;
  cs->call("Forbidden", json::object(), out.handler());
  ASSERT_TRUE(run_until([&] { return out.done; }));
  ASSERT_TRUE(out.failed_with<RpcError>());
  EXPECT_EQ(out.rpc_error().code(), ErrorCode::SecurityError);
  send_raw(R"([2,"r1","Reset",{"type":"Immediate"}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0), (json::array{4, "r1", "SecurityError", "no resets", json::object()}))
      << "the vetoed call was never sent; only the CALLERROR for Reset was";
  EXPECT_FALSE(reset_ran);
}

TEST_F(SessionTest, OrderIsKeptWhileAMiddlewareDecidesLater) {
  auto csms = with_raw();
  std::shared_ptr<MessageContext> held;
  std::vector<std::string> passed;
  csms->use([&](std::shared_ptr<MessageContext> ctx) {
    if (ctx->phase() != MessagePhase::incoming_call) return;
    passed.push_back(ctx->frame().id);
    if (ctx->frame().id == "m1") held = std::move(ctx);  // decided later, elsewhere
  });
  std::vector<std::string> handled;
  csms->handle("Heartbeat", [&](CallContext& ctx) -> HandlerResult {
    handled.push_back(ctx.message_id);
    return heartbeat(ctx);
  });
  send_raw(R"([2,"m1","Heartbeat",{}])");
  send_raw(R"([2,"m2","Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return held != nullptr; }));
  io.restart();
  io.poll();
  EXPECT_EQ(passed, std::vector<std::string>{"m1"}) << "m2 waits behind m1";
  EXPECT_TRUE(handled.empty());
  std::thread([ctx = std::move(held)]() mutable { ctx->next(); }).join();
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 2; }));
  EXPECT_EQ(handled, (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(raw->frame(0).at(1), "m1");
  EXPECT_EQ(raw->frame(1).at(1), "m2");
}

TEST_F(SessionTest, AThrowingMiddlewareFailsTheMessageWithInternalError) {
  auto csms = with_raw();
  csms->use([](std::shared_ptr<MessageContext> ctx) {
    if (ctx->phase() == MessagePhase::incoming_call) throw std::runtime_error("bug");
  });
  csms->handle("Heartbeat", heartbeat);
  send_raw(R"([2,"t1","Heartbeat",{}])");
  ASSERT_TRUE(run_until([&] { return raw->frames.size() == 1; }));
  EXPECT_EQ(raw->frame(0).at(2), "InternalError");
}
