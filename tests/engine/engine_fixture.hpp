#pragma once
// A test host for the IO-free RpcEngine: it records what the engine asks for (frames, closes,
// wake-ups, middleware decisions) and runs nothing on its own. Time is a manual clock; middleware
// decisions wait in a queue until the test drains them. No Asio, no sockets, no threads, no sleeps.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include "ocpp/engine/engine.hpp"

namespace ocpp::engine_test {

namespace json = boost::json;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

// Time moves only when the test says so.
struct ManualClock {
  TimePoint now = TimePoint{} + std::chrono::hours(1);
  void advance(milliseconds d) { now += d; }
};

// How one outbound call ended, shared between the test and the engine-owned call.
struct CallRecord {
  std::string id;
  std::uint64_t serial = 0;
  int completions = 0;
  std::optional<Failure> failure;
  json::value result;
  bool deferred = false;

  bool done() const { return completions > 0; }
  bool succeeded() const { return done() && !failure; }
  bool failed_with(FailureKind kind) const { return done() && failure && failure->kind == kind; }
};

class RecordingCall final : public OutboundCall {
 public:
  RecordingCall(std::shared_ptr<CallRecord> record, std::vector<std::string>* order,
                std::function<void()> on_complete)
      : record_(std::move(record)), order_(order), on_complete_(std::move(on_complete)) {}

  void complete(std::optional<Failure> failure, json::value result, bool deferred) override {
    if (record_->completions++ > 0) ADD_FAILURE() << "call " << record_->id << " completed twice";
    record_->failure = std::move(failure);
    record_->result = std::move(result);
    record_->deferred = deferred;
    order_->push_back(record_->id);
    if (on_complete_) on_complete_();
  }

 private:
  std::shared_ptr<CallRecord> record_;
  std::vector<std::string>* order_;
  std::function<void()> on_complete_;
};

// An inbound CALL answered later; counts how often the engine cancels it.
struct TrackedCall final : InboundHandle {
  int cancels = 0;
  void cancel() noexcept override { ++cancels; }
};

using TestHandler = std::function<void(InboundRequest&)>;

class TestHost final : public EngineHost, public std::enable_shared_from_this<TestHost> {
 public:
  struct Close {
    std::uint16_t code;
    std::string reason;
  };

  std::vector<std::string> written;
  std::vector<Close> transport_closes;
  int terminations = 0;
  std::vector<CloseOptions> session_closes;
  std::vector<std::optional<TimePoint>> schedules;
  std::map<std::string, TestHandler, std::less<>> handlers;
  std::deque<std::pair<std::shared_ptr<detail::MessageStage>, std::size_t>> advances;
  // Bytes written and not taken by the peer: a stalled peer takes none.
  std::size_t queued = 0;
  bool stalled = false;

  void write(std::string frame) override {
    if (stalled) queued += frame.size();
    written.push_back(std::move(frame));
  }
  std::size_t queued_bytes() const noexcept override { return queued; }
  void close_transport(std::uint16_t code, std::string_view reason) override {
    transport_closes.push_back({code, std::string(reason)});
  }
  void terminate_transport() override { ++terminations; }
  void close_session(CloseOptions options) override { session_closes.push_back(std::move(options)); }
  HandlerRef find_handler(std::string_view action) override {
    auto it = handlers.find(action);
    return it == handlers.end() ? nullptr : &it->second;
  }
  void run_handler(HandlerRef handler, InboundRequest& call) override {
    (*static_cast<const TestHandler*>(handler))(call);
  }
  void schedule(std::optional<TimePoint> deadline) override { schedules.push_back(deadline); }
  void post_advance(std::shared_ptr<detail::MessageStage> stage, std::size_t step) override {
    advances.emplace_back(std::move(stage), step);
  }
  std::weak_ptr<EngineHost> weak_host() override { return std::shared_ptr<EngineHost>(shared_from_this()); }
};

// A JSON string's text, or any other value serialised (so a wrong type shows in the failure).
inline std::string text_of(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

inline std::unique_ptr<RpcEngine> make_engine(EngineHost& host, SessionOptions o) {
  return std::make_unique<RpcEngine>(host, std::make_shared<const SessionOptions>(std::move(o)), "CP001");
}

class EngineTest : public ::testing::Test {
 protected:
  ManualClock clock;
  std::shared_ptr<TestHost> host = std::make_shared<TestHost>();  // outlives the engine
  std::unique_ptr<RpcEngine> engine;
  std::vector<std::string> completion_order;            // outbound call ids, as they completed
  std::vector<std::shared_ptr<TrackedCall>> tracked;     // inbound calls answered later
  std::map<std::string, int> handler_runs;               // by action
  int next_call = 0;

  // What make() and start() use: tests change it first.
  SessionOptions opts = [] {
    SessionOptions o;
    o.call_timeout = 10s;
    o.logger = null_logger();
    return o;
  }();

  // An engine that is not connected yet.
  void make() {
    auto o = opts;
    o.clock = [this] { return clock.now; };
    engine = make_engine(*host, std::move(o));
  }
  // An engine on an open connection.
  void start(std::string protocol = "ocpp2.0.1") {
    make();
    EXPECT_NO_THROW(engine->open(std::move(protocol)));
    EXPECT_NO_THROW(engine->resume());
  }

  // An outbound CALL with the id given (or c1, c2, ...).
  std::shared_ptr<CallRecord> call(std::string action = "Heartbeat", json::value payload = json::object(),
                                   std::string id = {}, std::optional<milliseconds> timeout = std::nullopt,
                                   std::function<void()> on_complete = {}) {
    auto record = std::make_shared<CallRecord>();
    record->id = id.empty() ? "c" + std::to_string(++next_call) : std::move(id);
    auto c = std::make_unique<RecordingCall>(record, &completion_order, std::move(on_complete));
    c->action = std::move(action);
    c->payload = std::move(payload);
    c->id = record->id;
    c->timeout = timeout;
    EXPECT_NO_THROW(record->serial = engine->call(std::move(c)));
    return record;
  }
  std::shared_ptr<CallRecord> call_with_id(std::string id, std::optional<milliseconds> timeout = std::nullopt) {
    return call("Heartbeat", json::object(), std::move(id), timeout);
  }
  // An outbound CALL whose id the engine makes (SessionOptions::id_generator).
  std::shared_ptr<CallRecord> call_with_generated_id() {
    auto record = std::make_shared<CallRecord>();
    auto c = std::make_unique<RecordingCall>(record, &completion_order, std::function<void()>{});
    c->action = "Heartbeat";
    c->payload = json::object();
    EXPECT_NO_THROW(record->serial = engine->call(std::move(c)));
    return record;
  }

  void receive(std::string_view text) { EXPECT_NO_THROW(engine->on_frame(text)); }
  void receive_call(std::string_view id, std::string_view action = "Heartbeat", std::string_view payload = "{}") {
    receive("[2,\"" + std::string(id) + "\",\"" + std::string(action) + "\"," + std::string(payload) + "]");
  }
  void receive_result(std::string_view id) {
    receive("[3,\"" + std::string(id) + "\",{\"currentTime\":\"2024-01-01T00:00:00Z\"}]");
  }
  void elapse(milliseconds d) {
    clock.advance(d);
    EXPECT_NO_THROW(engine->on_timer());
  }
  CloseStart close(CloseOptions o) {
    CloseStart r{};
    EXPECT_NO_THROW(r = engine->close(std::move(o)));
    return r;
  }

  // Handlers: one that answers before it returns, one that is answered later by the test.
  void handle_inline(const std::string& action, json::value result = json::object()) {
    host->handlers[action] = [this, action, result](InboundRequest& r) {
      ++handler_runs[action];
      EXPECT_NO_THROW(engine->answer(r.id, r.action, r.is_send, Reply::result(result)));
    };
  }
  void handle_later(const std::string& action) {
    host->handlers[action] = [this, action](InboundRequest& r) {
      ++handler_runs[action];
      auto h = std::make_shared<TrackedCall>();
      h->id = r.id;
      h->action = r.action;
      h->is_send = r.is_send;
      tracked.push_back(h);
      EXPECT_NO_THROW(engine->track(h));
    };
  }
  void answer_later(std::size_t i, json::value result = json::object()) {
    EXPECT_NO_THROW(engine->answer_tracked(tracked.at(i), Reply::result(std::move(result))));
  }

  // Runs the middleware decisions posted so far, and those they post in turn.
  void drain_advances() {
    while (!host->advances.empty()) {
      auto [stage, step] = std::move(host->advances.front());
      host->advances.pop_front();
      EXPECT_NO_THROW(engine->advance(stage, step));
    }
  }

  json::array frame(std::size_t i) const {
    EXPECT_LT(i, host->written.size());
    if (i >= host->written.size()) return {};
    return json::parse(host->written[i]).as_array();
  }
  json::array last_frame() const { return frame(host->written.size() - 1); }
  // A CALLERROR's [type, id, code].
  void expect_call_error(std::size_t i, std::string_view id, std::string_view code) const {
    auto f = frame(i);
    ASSERT_EQ(f.size(), 5u) << host->written[i];
    EXPECT_EQ(f[0], 4);
    EXPECT_EQ(text_of(f[1]), id);
    EXPECT_EQ(text_of(f[2]), code);
  }
  void expect_call(std::size_t i, std::string_view id, std::string_view action = "Heartbeat") const {
    auto f = frame(i);
    ASSERT_EQ(f.size(), 4u) << host->written[i];
    EXPECT_EQ(f[0], 2);
    EXPECT_EQ(text_of(f[1]), id);
    EXPECT_EQ(text_of(f[2]), action);
  }
  void expect_result(std::size_t i, std::string_view id) const {
    auto f = frame(i);
    ASSERT_EQ(f.size(), 3u) << host->written[i];
    EXPECT_EQ(f[0], 3);
    EXPECT_EQ(text_of(f[1]), id);
  }
  // The engine asked the host to close the session for too many bad messages.
  bool asked_to_close_with(std::uint16_t code) const {
    return host->session_closes.size() == 1 && host->session_closes[0].code == code;
  }
  std::optional<TimePoint> last_schedule() const {
    EXPECT_FALSE(host->schedules.empty());
    return host->schedules.empty() ? std::nullopt : host->schedules.back();
  }
};

}  // namespace ocpp::engine_test
