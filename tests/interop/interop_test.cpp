// Interop tests against two real JavaScript OCPP-J libraries, ocpp-ws-io@2.3.2 and ocpp-rpc@2.2.1,
// driven through tests/interop/peers/peer.mjs (see its README for the command/event protocol).
//
// Every test spawns one peer process (client or server) and talks to it over a real WebSocket on
// 127.0.0.1. Needs `node` on PATH and peers/node_modules (bash tests/interop/peers/install.sh);
// without them the tests fail, they are never skipped.
//
// The io_context runs on a background thread; the test thread synchronises on futures, on
// events of the peer and on a condition variable fed by our callbacks. Nothing sleeps.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "ocpp/messages/v16.hpp"
#include "ocpp/messages/v201.hpp"
#include "ocpp/messages/v21.hpp"
#include "ocpp/ocpp.hpp"
#include "ocpp/server/basic_auth.hpp"
#include "peer.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace interop;

constexpr const char* kIdentity = "CP-1";
constexpr const char* kCurrentTime = "2026-01-01T00:00:00Z";
const json::object kDetails{{"k", "v"}};

const std::string kWsIo = "ocpp-ws-io";
const std::string kRpc = "ocpp-rpc";

// A raw frame the peer received whose message id (element 1) is `id`.
Predicate frame_in_with_id(std::string id) {
  return [id](const json::object& o) {
    if (str(o, "event") != "frame_in") return false;
    boost::system::error_code ec;
    json::value v = json::parse(str(o, "data"), ec);
    return !ec && v.is_array() && v.get_array().size() > 1 && v.get_array()[1] == json::value(id);
  };
}

// ------------------------------------------------------------------ waiting on our side

template <class T>
T get(std::future<T>& f, const std::string& what, std::chrono::milliseconds timeout = kEventTimeout) {
  if (f.wait_for(timeout) != std::future_status::ready)
    throw Abort("ours: no completion of " + what + " within " + std::to_string(timeout.count()) + " ms");
  return f.get();
}

// The RpcError a call failed with; records a failure if it succeeded or failed otherwise.
std::optional<ocpp::RpcError> rpc_error_of(std::future<json::value> f, const std::string& what) {
  if (f.wait_for(kEventTimeout) != std::future_status::ready) throw Abort("ours: no answer to " + what);
  try {
    json::value v = f.get();
    ADD_FAILURE() << what << ": expected an RpcError, got the result " << v;
  } catch (const ocpp::RpcError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": expected an RpcError, got " << typeid(e).name() << ": " << e.what();
  }
  return std::nullopt;
}

// What our callbacks saw, filled on the io thread and read on the test thread.
struct Record {
  struct ClientSeen {
    std::string identity, protocol;
  };
  std::mutex m;
  std::condition_variable cv;
  std::vector<ClientSeen> clients;
  std::vector<ocpp::CloseResult> closes;

  void add_client(ClientSeen c) {
    std::lock_guard lock(m);
    clients.push_back(std::move(c));
    cv.notify_all();
  }
  void add_close(ocpp::CloseResult r) {
    std::lock_guard lock(m);
    closes.push_back(std::move(r));
    cv.notify_all();
  }
  ClientSeen wait_client() {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, kEventTimeout, [&] { return !clients.empty(); }))
      throw Abort("ours: no on_client callback");
    return clients.front();
  }
  ocpp::CloseResult wait_close() {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, kEventTimeout, [&] { return !closes.empty(); })) throw Abort("ours: no on_close callback");
    return closes.front();
  }
  std::size_t client_count() {
    std::lock_guard lock(m);
    return clients.size();
  }
};

// ------------------------------------------------------------------ expectations per library

// The code our library writes for `code` on `protocol` (spelled out here rather than taken from
// ocpp::wire_name, so the test does not check the library against itself).
std::string our_wire_code(ocpp::ErrorCode code, const std::string& protocol) {
  using E = ocpp::ErrorCode;
  const bool v16 = protocol == "ocpp1.6";
  switch (code) {
    case E::GenericError: return "GenericError";
    case E::NotImplemented: return "NotImplemented";
    case E::NotSupported: return "NotSupported";
    case E::InternalError: return "InternalError";
    case E::ProtocolError: return "ProtocolError";
    case E::SecurityError: return "SecurityError";
    case E::FormatViolation: return v16 ? "FormationViolation" : "FormatViolation";
    case E::PropertyConstraintViolation: return "PropertyConstraintViolation";
    case E::OccurrenceConstraintViolation:
      return v16 ? "OccurenceConstraintViolation" : "OccurrenceConstraintViolation";
    case E::TypeConstraintViolation: return "TypeConstraintViolation";
    case E::MessageTypeNotSupported: return v16 ? "FormationViolation" : "MessageTypeNotSupported";
    case E::RpcFrameworkError: return v16 ? "FormationViolation" : "RpcFrameworkError";
  }
  return "?";
}

// The rpcErrorCode the JS library reports for a CALLERROR code it received. Both map codes they
// do not know to GenericError; ocpp-ws-io does not know the 1.6 spelling OccurenceConstraintViolation.
std::string js_reported_code(const std::string& lib, const std::string& wire) {
  if (lib == kWsIo && wire == "OccurenceConstraintViolation") return "GenericError";
  return wire;
}

struct Combo {
  std::string lib;
  std::string protocol;
};

void PrintTo(const Combo& c, std::ostream* os) { *os << c.lib << " " << c.protocol; }

std::string combo_name(const testing::TestParamInfo<Combo>& info) {
  std::string p = info.param.protocol.substr(4);  // "1.6", "2.0.1", "2.1"
  std::erase(p, '.');
  return (info.param.lib == kWsIo ? "wsio" : "rpc") + std::string("_v") + p;
}

const std::vector<Combo> kCombos = {
    {kWsIo, "ocpp1.6"}, {kWsIo, "ocpp2.0.1"}, {kWsIo, "ocpp2.1"},
    {kRpc, "ocpp1.6"},  {kRpc, "ocpp2.0.1"},  {kRpc, "ocpp2.1"},
};

// Handlers of our side (server and client register the same ones). DataTransfer answers with
// the CALLERROR its messageId names, with description "nope" and details {"k":"v"}; "throw" makes
// it throw a non-RPC exception.
void add_handlers(auto& target) {
  target.handle("Heartbeat", [](ocpp::CallContext&) -> ocpp::HandlerResult {
    return json::object{{"currentTime", kCurrentTime}};
  });
  target.handle("Reset", [](ocpp::CallContext& ctx) -> ocpp::HandlerResult {
    return json::object{{"status", "Accepted"}, {"echo", ctx.params}};
  });
  target.handle("DataTransfer", [](ocpp::CallContext& ctx) -> ocpp::HandlerResult {
    const json::object p = obj(ctx.params);
    const std::string which = str(p, "messageId");
    if (which == "throw") throw std::runtime_error("boom");
    throw ocpp::RpcError(ocpp::parse_error_code(which), "nope", kDetails);
  });
}

// ------------------------------------------------------------------ fixture base

class InteropBase : public testing::Test {
 protected:
  void SetUp() override {
    if (auto problem = peers_problem(); !problem.empty()) FAIL() << problem;
  }

  void start_io() { io_thread_.start(); }

  // Everything posted so far (that is already queued) has run on the io thread.
  void io_barrier() {
    auto p = std::make_shared<std::promise<void>>();
    auto f = p->get_future();
    asio::post(io_, [p] { p->set_value(); });
    get(f, "io_context barrier");
  }

  // Runs `f` on the io thread and returns its result (session state is not thread-safe).
  template <class F>
  auto on_io(F f) {
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto fut = task->get_future();
    asio::post(io_, [task] { (*task)(); });
    return get(fut, "a task on the io thread");
  }

  void drain_io() { io_thread_.drain(); }

  void stop_peer_and_report() {
    if (!peer_) return;
    peer_->stop();
    if (!HasFailure() && !peer_->exited_cleanly()) ADD_FAILURE() << "the peer did not exit with code 0";
    // OCPP_INTEROP_VERBOSE=1 prints the transcript of passing tests too.
    if (HasFailure() || std::getenv("OCPP_INTEROP_VERBOSE")) std::cerr << peer_->dump();
  }

  // Scenario bodies shared by both directions; `ours` is our session connected to the peer, which
  // knows us as kIdentity.
  void peer_calls_reach_our_handlers(const std::string& lib, const std::string& protocol);
  void our_calls_get_peer_answers(ocpp::RpcSession& ours, const std::string& lib, const std::string& protocol);
  void malformed_frames_are_answered(const std::string& protocol);

  IoThread io_thread_;
  asio::io_context& io_ = io_thread_.context();
  std::unique_ptr<Peer> peer_;
  Record record_;
};

void InteropBase::peer_calls_reach_our_handlers(const std::string& lib, const std::string& protocol) {
  {
    SCOPED_TRACE("Heartbeat");
    auto r = peer_->call("Heartbeat", json::object{}, kIdentity);
    ASSERT_EQ(str(r, "event"), "result") << r;
    EXPECT_EQ(at(r, "payload"), json::value(json::object{{"currentTime", kCurrentTime}}));
  }
  {
    SCOPED_TRACE("Reset");
    const json::object payload{{"type", "Soft"}};
    auto r = peer_->call("Reset", payload, kIdentity);
    ASSERT_EQ(str(r, "event"), "result") << r;
    EXPECT_EQ(at(r, "payload"), json::value(json::object{{"status", "Accepted"}, {"echo", payload}}));
  }
  {
    // The required case: code, description and details cross verbatim from our side.
    SCOPED_TRACE("SecurityError nope {k:v}");
    auto r = peer_->call("DataTransfer", json::object{{"vendorId", "x"}, {"messageId", "SecurityError"}}, kIdentity);
    ASSERT_EQ(str(r, "event"), "call_error") << r;
    EXPECT_EQ(str(r, "code"), "SecurityError");
    EXPECT_EQ(str(r, "description"), "nope");  // both libraries: err.message = wire description
    EXPECT_EQ(at(r, "details"), json::value(kDetails));
    EXPECT_EQ(at(r, "wire"),
              json::value(json::object{{"code", "SecurityError"}, {"description", "nope"}, {"details", kDetails}}));
  }
  using E = ocpp::ErrorCode;
  for (E code : {E::GenericError, E::NotImplemented, E::NotSupported, E::InternalError, E::ProtocolError,
                 E::FormatViolation, E::PropertyConstraintViolation, E::OccurrenceConstraintViolation,
                 E::TypeConstraintViolation, E::MessageTypeNotSupported, E::RpcFrameworkError}) {
    // Our handler throws RpcError(code); the wire carries the per-version spelling.
    const std::string name(ocpp::wire_name(code, ocpp::ProtocolVersion::v201));
    SCOPED_TRACE("handler throws " + name);
    auto r = peer_->call("DataTransfer", json::object{{"vendorId", "x"}, {"messageId", name}}, kIdentity);
    ASSERT_EQ(str(r, "event"), "call_error") << r;
    const std::string wire = our_wire_code(code, protocol);
    EXPECT_EQ(str(obj(at(r, "wire")), "code"), wire) << r;
    EXPECT_EQ(str(r, "code"), js_reported_code(lib, wire)) << r;
    EXPECT_EQ(str(obj(at(r, "wire")), "description"), "nope") << r;
    EXPECT_EQ(at(obj(at(r, "wire")), "details"), json::value(kDetails)) << r;
  }
  {
    SCOPED_TRACE("handler throws std::runtime_error");
    auto r = peer_->call("DataTransfer", json::object{{"vendorId", "x"}, {"messageId", "throw"}}, kIdentity);
    ASSERT_EQ(str(r, "event"), "call_error") << r;
    EXPECT_EQ(str(r, "code"), "InternalError") << r;
    EXPECT_NE(str(r, "description"), "") << r;
    // respond_with_detailed_errors is off by default: the exception text must not leak.
    EXPECT_EQ(str(r, "wire").find("boom"), std::string::npos) << r;
  }
  {
    SCOPED_TRACE("unknown action");
    auto r = peer_->call("NoSuchAction", json::object{}, kIdentity);
    ASSERT_EQ(str(r, "event"), "call_error") << r;
    EXPECT_EQ(str(r, "code"), "NotImplemented") << r;
    EXPECT_EQ(str(obj(at(r, "wire")), "code"), "NotImplemented") << r;
  }
}

void InteropBase::our_calls_get_peer_answers(ocpp::RpcSession& ours, const std::string& lib,
                                             const std::string& protocol) {
  const bool v16 = protocol == "ocpp1.6";
  {
    SCOPED_TRACE("scripted reply");
    const json::object reply{{"configurationKey", json::array{json::object{{"key", "HeartbeatInterval"},
                                                                           {"readonly", false},
                                                                           {"value", "300"}}}}};
    peer_->handle("GetConfiguration", {{"reply", reply}});
    const json::object payload{{"key", json::array{"HeartbeatInterval"}}};
    auto f = ours.call("GetConfiguration", payload, asio::use_future);
    EXPECT_EQ(get(f, "GetConfiguration call"), json::value(reply));
    auto in = peer_->wait(event_is("inbound"), "inbound GetConfiguration");
    EXPECT_EQ(str(in, "action"), "GetConfiguration");
    EXPECT_EQ(at(in, "payload"), json::value(payload));
  }
  {
    // The peer's default BootNotification answer (a dynamic time) reaches us as an object.
    SCOPED_TRACE("built-in BootNotification");
    auto f = ours.call("BootNotification", json::object{{"chargePointVendor", "v"}, {"chargePointModel", "m"}},
                       asio::use_future);
    json::value v = get(f, "BootNotification call");
    EXPECT_EQ(str(obj(v), "status"), "Accepted") << v;
    EXPECT_TRUE(at(obj(v), "currentTime").is_string()) << v;
  }

  struct Case {
    std::string sent;  // code given to the peer's createRPCError
    ocpp::ErrorCode expected;
    std::string wire;  // code text we should see (RpcError::wire_code)
  };
  // ocpp-rpc rewrites FormatViolation→FormationViolation and OccurenceConstraintViolation→
  // OccurrenceConstraintViolation on 1.6 and sends other known codes as given; ocpp-ws-io sends
  // known codes as given and unknown ones (including OccurenceConstraintViolation) as GenericError.
  using E = ocpp::ErrorCode;
  const bool rpc = lib == kRpc;
  const std::vector<Case> cases = {
      {"SecurityError", E::SecurityError, "SecurityError"},
      {"FormatViolation", E::FormatViolation, rpc && v16 ? "FormationViolation" : "FormatViolation"},
      {"FormationViolation", E::FormatViolation, "FormationViolation"},
      {"OccurrenceConstraintViolation", E::OccurrenceConstraintViolation, "OccurrenceConstraintViolation"},
      {"OccurenceConstraintViolation", rpc ? E::OccurrenceConstraintViolation : E::GenericError,
       rpc ? (v16 ? "OccurrenceConstraintViolation" : "OccurenceConstraintViolation") : "GenericError"},
      {"TypeConstraintViolation", E::TypeConstraintViolation, "TypeConstraintViolation"},
      {"PropertyConstraintViolation", E::PropertyConstraintViolation, "PropertyConstraintViolation"},
      {"NotSupported", E::NotSupported, "NotSupported"},
      {"InternalError", E::InternalError, "InternalError"},
      {"ProtocolError", E::ProtocolError, "ProtocolError"},
      {"RpcFrameworkError", E::RpcFrameworkError, "RpcFrameworkError"},
      {"MessageTypeNotSupported", E::MessageTypeNotSupported, "MessageTypeNotSupported"},
      {"NoSuchCode", E::GenericError, "GenericError"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("peer answers " + c.sent);
    peer_->handle("ChangeAvailability",
                  {{"error", {{"code", c.sent}, {"description", "nope"}, {"details", kDetails}}}});
    auto f = ours.call("ChangeAvailability", json::object{{"connectorId", 0}, {"type", "Operative"}},
                       asio::use_future);
    auto e = rpc_error_of(std::move(f), "ChangeAvailability answered with " + c.sent);
    if (!e) continue;
    EXPECT_EQ(e->code(), c.expected) << "wire code " << e->wire_code();
    EXPECT_EQ(e->wire_code(), c.wire);
    if (rpc || c.wire == "GenericError") {
      // ocpp-rpc: description and details verbatim. ocpp-ws-io does so only for GenericError.
      EXPECT_EQ(e->description(), "nope");
    } else {
      // ocpp-ws-io: the class's canned text; the scripted description travels in details.
      EXPECT_FALSE(e->description().empty());
      EXPECT_NE(e->description(), "nope");
    }
    if (rpc) {
      EXPECT_EQ(e->details(), kDetails);
    } else {
      // ocpp-ws-io wraps: {name, message: <description>, rpcErrorCode, rpcErrorMessage, details}.
      EXPECT_EQ(str(e->details(), "message"), "nope") << json::value(e->details());
      EXPECT_EQ(at(e->details(), "details"), json::value(kDetails)) << json::value(e->details());
    }
  }
  {
    SCOPED_TRACE("action the peer does not handle");
    auto f = ours.call("UnlockConnector", json::object{{"connectorId", 1}}, asio::use_future);
    auto e = rpc_error_of(std::move(f), "UnlockConnector (unhandled)");
    if (e) {
      EXPECT_EQ(e->code(), E::NotImplemented);
      EXPECT_EQ(e->wire_code(), "NotImplemented");
    }
  }
  {
    // Our call times out; the peer's late answer then arrives while our next call is in flight
    // and must not be taken for that call's answer.
    SCOPED_TRACE("timeout, then a late answer");
    peer_->handle("TriggerMessage", {{"reply", {{"status", "Accepted"}}}, {"delay_ms", 200}});
    peer_->handle("GetConfiguration", {{"reply", {{"configurationKey", json::array{}}}}, {"delay_ms", 300}});
    ocpp::CallOptions short_timeout;
    short_timeout.timeout = 50ms;
    auto f1 = ours.call("TriggerMessage", json::object{{"requestedMessage", "Heartbeat"}}, short_timeout,
                        asio::use_future);
    ASSERT_EQ(f1.wait_for(kEventTimeout), std::future_status::ready);
    EXPECT_THROW(f1.get(), ocpp::TimeoutError);
    auto f2 = ours.call("GetConfiguration", json::object{}, asio::use_future);
    EXPECT_EQ(get(f2, "GetConfiguration after a timeout"),
              json::value(json::object{{"configurationKey", json::array{}}}));
  }
  {
    // After all those errors the connection is still usable.
    SCOPED_TRACE("afterwards");
    peer_->handle("GetConfiguration", {{"reply", json::object{{"configurationKey", json::array{}}}}});
    auto f = ours.call("GetConfiguration", json::object{}, asio::use_future);
    EXPECT_EQ(get(f, "GetConfiguration call"), json::value(json::object{{"configurationKey", json::array{}}}));
  }
}

void InteropBase::malformed_frames_are_answered(const std::string& protocol) {
  const bool v16 = protocol == "ocpp1.6";
  const bool v21 = protocol == "ocpp2.1";
  struct Case {
    std::string frame;
    std::string reply_id;  // id of our CALLERROR; empty: we must not answer
    std::string code_2x;   // on 1.6 every one of these is FormationViolation
  };
  const std::vector<Case> cases = {
      {R"([2,"bad-1","Heartbeat")", "-1", "RpcFrameworkError"},        // truncated JSON
      {R"({"not":"an array"})", "-1", "RpcFrameworkError"},            // valid JSON, not a frame
      {R"([2,"bad-2","Heartbeat"])", "bad-2", "RpcFrameworkError"},    // CALL without payload
      {R"([2,"bad-3","Heartbeat",[]])", "bad-3", "FormatViolation"},   // payload not an object
      {R"([9,"bad-4","Heartbeat",{}])", v21 ? "" : "bad-4", "MessageTypeNotSupported"},  // 2.1 ignores it
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("peer sends " + c.frame);
    peer_->send_raw(kIdentity, c.frame);
    if (c.reply_id.empty()) continue;
    auto ev = peer_->wait(frame_in_with_id(c.reply_id), "our CALLERROR with id " + c.reply_id);
    json::value reply = json::parse(str(ev, "data"));
    const json::array& a = reply.as_array();
    ASSERT_GE(a.size(), 5u) << reply;
    EXPECT_EQ(a[0], json::value(4)) << reply;
    EXPECT_EQ(a[2], json::value(v16 ? "FormationViolation" : c.code_2x)) << reply;
    EXPECT_TRUE(a[3].is_string()) << reply;
    EXPECT_TRUE(a[4].is_object()) << reply;
  }
  // The connection survived: a Heartbeat still works. Frames are answered in order, so an
  // answer to bad-4 on 2.1 would have arrived before this result.
  auto r = peer_->call("Heartbeat", json::object{}, kIdentity);
  EXPECT_EQ(str(r, "event"), "result") << r;
  if (v21) {
    for (const auto& ev : peer_->backlog_copy()) {
      EXPECT_FALSE(frame_in_with_id("bad-4")(ev)) << "ocpp2.1 must ignore an unknown message type: " << ev;
    }
  }
}


// ------------------------------------------------------------------ their client → our server

class TheirClientOurServer : public InteropBase, public testing::WithParamInterface<Combo> {
 protected:
  void SetUp() override {
    InteropBase::SetUp();
    if (HasFatalFailure()) return;
    ocpp::ServerOptions so;
    so.protocols = {"ocpp2.1", "ocpp2.0.1", "ocpp1.6"};  // the peer offers one of them
    configure(so);
    server_.emplace(io_.get_executor(), so);
    add_handlers(*server_);
    add_more_handlers(*server_);
    server_->on_client([this](const std::shared_ptr<ocpp::ServerClient>& c) {
      record_.add_client({c->identity(), c->protocol()});
      c->on_close([this](const ocpp::CloseResult& r) { record_.add_close(r); });
    });
    port_ = server_->listen(0, "127.0.0.1");
    start_io();
    peer_ = std::make_unique<Peer>(std::vector<std::string>{
        "client", "--lib", GetParam().lib, "--url", "ws://127.0.0.1:" + std::to_string(port_), "--identity",
        kIdentity, "--protocols", GetParam().protocol, "--no-reconnect"});
    open_ = peer_->wait(event_in({"open", "connect_error", "close"}), "open");
    ASSERT_EQ(str(open_, "event"), "open") << open_;
    seen_ = record_.wait_client();
    session_ = server_->get_client(kIdentity);
    ASSERT_NE(session_, nullptr) << "server.get_client(\"" << kIdentity << "\") after on_client";
  }

  void TearDown() override {
    stop_peer_and_report();
    session_.reset();
    if (server_ && io_thread_.running()) {
      auto f = server_->close(ocpp::CloseOptions{1001, "", false, false}, asio::use_future);
      if (f.wait_for(5s) != std::future_status::ready) ADD_FAILURE() << "Server::close did not complete in 5 s";
    }
    drain_io();
  }

  virtual void configure(ocpp::ServerOptions&) {}
  virtual void add_more_handlers(ocpp::Server&) {}

  std::optional<ocpp::Server> server_;
  std::uint16_t port_ = 0;
  std::shared_ptr<ocpp::ServerClient> session_;
  json::object open_;
  Record::ClientSeen seen_;
};

TEST_P(TheirClientOurServer, NegotiatesProtocolAndAnswersHeartbeat) {
  EXPECT_EQ(str(open_, "protocol"), GetParam().protocol);
  EXPECT_EQ(seen_.identity, kIdentity);
  EXPECT_EQ(seen_.protocol, GetParam().protocol) << "on_client saw another protocol than the peer's open event";
  EXPECT_EQ(on_io([&] { return session_->protocol(); }), GetParam().protocol);
  EXPECT_EQ(on_io([&] { return session_->handshake().path; }), std::string("/") + kIdentity);
  EXPECT_EQ(server_->client_count(), 1u);
  auto r = peer_->call("Heartbeat", json::object{}, kIdentity);
  ASSERT_EQ(str(r, "event"), "result") << r;
  EXPECT_EQ(at(r, "payload"), json::value(json::object{{"currentTime", kCurrentTime}}));
}

TEST_P(TheirClientOurServer, PeerCallsGetOurRepliesAndErrors) {
  peer_calls_reach_our_handlers(GetParam().lib, GetParam().protocol);
}

TEST_P(TheirClientOurServer, OurCallsGetPeerRepliesAndErrors) {
  our_calls_get_peer_answers(*session_, GetParam().lib, GetParam().protocol);
}

TEST_P(TheirClientOurServer, MalformedFramesAreAnsweredAndConnectionStaysOpen) {
  malformed_frames_are_answered(GetParam().protocol);
  EXPECT_EQ(server_->get_client(kIdentity), session_);
}

TEST_P(TheirClientOurServer, OurCloseReachesPeer) {
  auto f = session_->close(ocpp::CloseOptions{4001, "interop bye", false, false}, asio::use_future);
  ocpp::CloseResult res = get(f, "close");
  EXPECT_EQ(res.code, 4001);
  EXPECT_EQ(res.reason, "interop bye");
  auto ev = peer_->wait(event_is("close"), "close");
  EXPECT_EQ(at(ev, "code"), json::value(4001)) << ev;
  EXPECT_EQ(str(ev, "reason"), "interop bye") << ev;
  ocpp::CloseResult seen = record_.wait_close();
  EXPECT_EQ(seen.code, 4001);
  EXPECT_EQ(seen.reason, "interop bye");
  EXPECT_EQ(server_->get_client(kIdentity), nullptr);
}

TEST_P(TheirClientOurServer, PeerCloseReachesUs) {
  peer_->send({{"cmd", "close"}, {"code", 4002}, {"reason", "peer bye"}});
  auto ev = peer_->wait(event_in({"closed", "cmd_error"}), "closed");
  EXPECT_EQ(str(ev, "event"), "closed") << ev;
  ocpp::CloseResult seen = record_.wait_close();
  EXPECT_EQ(seen.code, 4002);
  EXPECT_EQ(seen.reason, "peer bye");
  EXPECT_EQ(server_->get_client(kIdentity), nullptr);
  // Calls on the closed connection fail at once with ConnectionError.
  auto f = session_->call("Reset", json::object{}, asio::use_future);
  ASSERT_EQ(f.wait_for(kEventTimeout), std::future_status::ready);
  EXPECT_THROW(f.get(), ocpp::ConnectionError);
}

INSTANTIATE_TEST_SUITE_P(Interop, TheirClientOurServer, testing::ValuesIn(kCombos), combo_name);

// Server behaviour with real clients that does not depend on the protocol version (ocpp2.0.1).
class OurServerWithTheirClients : public TheirClientOurServer {
 protected:
  void TearDown() override {
    if (peer2_) {
      peer2_->stop();
      if (HasFailure() || std::getenv("OCPP_INTEROP_VERBOSE")) std::cerr << peer2_->dump();
    }
    TheirClientOurServer::TearDown();
  }
  std::unique_ptr<Peer> peer2_;
};

TEST_P(OurServerWithTheirClients, DuplicateIdentityEvictsTheOlderConnection) {
  peer2_ = std::make_unique<Peer>(std::vector<std::string>{
      "client", "--lib", GetParam().lib, "--url", "ws://127.0.0.1:" + std::to_string(port_), "--identity", kIdentity,
      "--protocols", GetParam().protocol, "--no-reconnect"});
  auto open2 = peer2_->wait(event_in({"open", "connect_error", "close"}), "open of the second connection");
  ASSERT_EQ(str(open2, "event"), "open") << open2;
  auto ev = peer_->wait(event_is("close"), "close of the evicted connection");
  EXPECT_EQ(at(ev, "code"), json::value(4000)) << ev;
  ocpp::CloseResult seen = record_.wait_close();
  EXPECT_EQ(seen.code, 4000);
  auto now = server_->get_client(kIdentity);
  ASSERT_NE(now, nullptr);
  EXPECT_NE(now, session_);
  EXPECT_EQ(server_->client_count(), 1u);
  auto r = peer2_->call("Heartbeat", json::object{}, kIdentity);
  EXPECT_EQ(str(r, "event"), "result") << r;
}

TEST_P(OurServerWithTheirClients, PendingCallFailsWhenThePeerCloses) {
  peer_->handle("Reset", {{"noreply", true}});
  auto f = session_->call("Reset", json::object{{"type", "Immediate"}}, asio::use_future);
  peer_->wait(event_is("inbound"), "inbound Reset");
  peer_->send({{"cmd", "close"}, {"code", 1000}, {"reason", "going"}});
  ASSERT_EQ(f.wait_for(kEventTimeout), std::future_status::ready) << "the pending call outlived the connection";
  try {
    f.get();
    ADD_FAILURE() << "the call succeeded";
  } catch (const ocpp::ConnectionError& e) {
    // The close code of the connection that ended (what() already says "Connection closed (1000: going)").
    EXPECT_EQ(e.close_code(), 1000) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ConnectionError, got " << typeid(e).name() << ": " << e.what();
  }
}

TEST_P(OurServerWithTheirClients, CrossingCallsBothComplete) {
  peer_->handle("Reset", {{"reply", {{"status", "Accepted"}}}, {"delay_ms", 100}});
  auto f = session_->call("Reset", json::object{{"type", "Immediate"}}, asio::use_future);
  peer_->wait(event_is("inbound"), "inbound Reset");
  // While the peer sits on our CALL, it calls us.
  auto r = peer_->call("Heartbeat", json::object{}, kIdentity);
  EXPECT_EQ(str(r, "event"), "result") << r;
  EXPECT_EQ(get(f, "Reset call"), json::value(json::object{{"status", "Accepted"}}));
}

TEST_P(OurServerWithTheirClients, OversizedFrameClosesWith1009) {
  // A CALL just over the default max_frame_bytes (64 KiB).
  const std::string frame =
      R"([2,"big-1","DataTransfer",{"vendorId":"x","data":")" + std::string(64 * 1024, 'a') + R"("}])";
  peer_->send_raw(kIdentity, frame);
  auto ev = peer_->wait(event_is("close"), "close");
  EXPECT_EQ(at(ev, "code"), json::value(1009)) << ev;
  ocpp::CloseResult seen = record_.wait_close();
  EXPECT_EQ(seen.code, 1009);
}

TEST_P(OurServerWithTheirClients, ServerCloseReachesPeerAndStopsAccepting) {
  auto f = server_->close(ocpp::CloseOptions{1001, "shutdown", false, false}, asio::use_future);
  get(f, "Server::close");
  auto ev = peer_->wait(event_is("close"), "close");
  EXPECT_EQ(at(ev, "code"), json::value(1001)) << ev;
  EXPECT_EQ(str(ev, "reason"), "shutdown") << ev;
  EXPECT_EQ(server_->client_count(), 0u);
  peer2_ = std::make_unique<Peer>(std::vector<std::string>{
      "client", "--lib", GetParam().lib, "--url", "ws://127.0.0.1:" + std::to_string(port_), "--identity", "CP-2",
      "--protocols", GetParam().protocol, "--no-reconnect"});
  auto second = peer2_->wait(event_in({"open", "connect_error"}), "outcome of a connection after close");
  EXPECT_EQ(str(second, "event"), "connect_error") << second;
  EXPECT_EQ(record_.client_count(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Interop, OurServerWithTheirClients,
                         testing::Values(Combo{kWsIo, "ocpp2.0.1"}, Combo{kRpc, "ocpp2.0.1"}), combo_name);

// ------------------------------------------------------------------ our client → their server

class OurClientTheirServer : public InteropBase, public testing::WithParamInterface<Combo> {
 protected:
  void SetUp() override {
    InteropBase::SetUp();
    if (HasFatalFailure()) return;
    peer_ = std::make_unique<Peer>(
        std::vector<std::string>{"server", "--lib", GetParam().lib, "--protocols", GetParam().protocol});
    auto listening = peer_->wait(event_in({"listening", "listen_error", "fatal"}), "listening");
    ASSERT_EQ(str(listening, "event"), "listening") << listening;
    ocpp::ClientOptions co;
    endpoint_ = "ws://127.0.0.1:" + str(listening, "port");
    co.endpoint = endpoint_;
    co.identity = kIdentity;
    co.protocols = {GetParam().protocol};
    co.reconnect = false;
    configure(co);
    client_ = ocpp::Client::create(io_.get_executor(), co);
    add_handlers(*client_);
    client_->on_close([this](const ocpp::CloseResult& r) { record_.add_close(r); });
    start_io();
    auto connected = client_->connect(asio::use_future);
    get(connected, "connect");  // rethrows ConnectError
    client_event_ = peer_->wait(event_is("client"), "client");
  }

  void TearDown() override {
    if (client_ && io_thread_.running()) {
      auto f = client_->close(ocpp::CloseOptions{1000, "", false, false}, asio::use_future);
      if (f.wait_for(5s) != std::future_status::ready) ADD_FAILURE() << "Client::close did not complete in 5 s";
    }
    stop_peer_and_report();
    drain_io();
  }

  virtual void configure(ocpp::ClientOptions&) {}

  std::shared_ptr<ocpp::Client> client_;
  json::object client_event_;
  std::string endpoint_;
};

TEST_P(OurClientTheirServer, NegotiatesProtocolAndGetsHeartbeat) {
  EXPECT_EQ(on_io([&] { return client_->protocol(); }), GetParam().protocol);
  EXPECT_EQ(str(client_event_, "protocol"), GetParam().protocol) << client_event_;
  EXPECT_EQ(str(client_event_, "identity"), kIdentity) << client_event_;
  EXPECT_EQ(str(client_event_, "url"), std::string("/") + kIdentity) << client_event_;
  auto f = client_->call("Heartbeat", json::object{}, asio::use_future);
  json::value v = get(f, "Heartbeat call");
  ASSERT_TRUE(v.is_object()) << v;
  EXPECT_TRUE(at(v.get_object(), "currentTime").is_string()) << v;
}

TEST_P(OurClientTheirServer, PeerCallsGetOurRepliesAndErrors) {
  peer_calls_reach_our_handlers(GetParam().lib, GetParam().protocol);
}

TEST_P(OurClientTheirServer, OurCallsGetPeerRepliesAndErrors) {
  our_calls_get_peer_answers(*client_, GetParam().lib, GetParam().protocol);
}

TEST_P(OurClientTheirServer, MalformedFramesAreAnsweredAndConnectionStaysOpen) {
  malformed_frames_are_answered(GetParam().protocol);
}

TEST_P(OurClientTheirServer, OurCloseReachesPeer) {
  auto f = client_->close(ocpp::CloseOptions{4001, "interop bye", false, false}, asio::use_future);
  ocpp::CloseResult res = get(f, "close");
  EXPECT_EQ(res.code, 4001);
  EXPECT_EQ(res.reason, "interop bye");
  auto ev = peer_->wait(event_is("client_close"), "client_close");
  EXPECT_EQ(at(ev, "code"), json::value(4001)) << ev;
  EXPECT_EQ(str(ev, "reason"), "interop bye") << ev;
  ocpp::CloseResult seen = record_.wait_close();
  EXPECT_EQ(seen.code, 4001);
  EXPECT_EQ(seen.reason, "interop bye");
}

TEST_P(OurClientTheirServer, PeerCloseReachesUs) {
  peer_->send({{"cmd", "close"}, {"identity", kIdentity}, {"code", 4002}, {"reason", "peer bye"}});
  auto ev = peer_->wait(event_in({"closed", "cmd_error"}), "closed");
  EXPECT_EQ(str(ev, "event"), "closed") << ev;
  ocpp::CloseResult seen = record_.wait_close();  // reconnect is off: the close is final
  EXPECT_EQ(seen.code, 4002);
  EXPECT_EQ(seen.reason, "peer bye");
  auto f = client_->call("Heartbeat", json::object{}, asio::use_future);
  ASSERT_EQ(f.wait_for(kEventTimeout), std::future_status::ready);
  EXPECT_THROW(f.get(), ocpp::ConnectionError);
}

TEST_P(OurClientTheirServer, ReconnectsAfterTheServerCloses) {
  ocpp::ClientOptions co;
  co.endpoint = endpoint_;
  co.identity = "CP-2";
  co.protocols = {GetParam().protocol};
  co.reconnect = true;
  co.backoff_min = 10ms;
  co.backoff_max = 50ms;
  auto c2 = ocpp::Client::create(io_.get_executor(), co);
  struct CloseAtExit {  // also when the test aborts, so the io_context can run dry
    std::shared_ptr<ocpp::Client> c;
    ~CloseAtExit() { c->close(ocpp::CloseOptions{1000, "", false, false}); }
  } close_at_exit{c2};
  auto dropped = std::make_shared<std::promise<ocpp::CloseResult>>();
  c2->on_disconnect([dropped, once = std::make_shared<std::once_flag>()](const ocpp::CloseResult& r) {
    std::call_once(*once, [&] { dropped->set_value(r); });
  });
  auto connected = c2->connect(asio::use_future);
  get(connected, "connect of CP-2");
  auto is_cp2 = [](const json::object& o) { return str(o, "event") == "client" && str(o, "identity") == "CP-2"; };
  auto first = peer_->wait(is_cp2, "client CP-2");
  EXPECT_EQ(str(first, "protocol"), GetParam().protocol) << first;
  peer_->send({{"cmd", "close"}, {"identity", "CP-2"}, {"code", 1012}, {"reason", "restart"}});
  auto dropped_f = dropped->get_future();
  ocpp::CloseResult r = get(dropped_f, "on_disconnect of CP-2");
  EXPECT_EQ(r.code, 1012);
  EXPECT_EQ(r.reason, "restart");
  auto again = peer_->wait(is_cp2, "client CP-2 reconnecting");
  EXPECT_EQ(str(again, "protocol"), GetParam().protocol) << again;
  // Queued until the reconnect completes if need be.
  auto hb = c2->call("Heartbeat", json::object{}, asio::use_future);
  EXPECT_TRUE(get(hb, "Heartbeat after the reconnect").is_object());
  EXPECT_EQ(on_io([&] { return c2->protocol(); }), GetParam().protocol);
  auto closed = c2->close(ocpp::CloseOptions{1000, "", false, false}, asio::use_future);
  get(closed, "close of CP-2");
}

INSTANTIATE_TEST_SUITE_P(Interop, OurClientTheirServer, testing::ValuesIn(kCombos), combo_name);

// ------------------------------------------------------------------ subprotocol mismatch

// Tests that set up their own server or client, parameterised by the JS library only.
class PerLibTest : public InteropBase, public testing::WithParamInterface<std::string> {
 protected:
  void TearDown() override {
    if (client_ && io_thread_.running()) {
      auto f = client_->close(ocpp::CloseOptions{}, asio::use_future);
      if (f.wait_for(5s) != std::future_status::ready) ADD_FAILURE() << "Client::close did not complete in 5 s";
    }
    stop_peer_and_report();
    if (server_ && io_thread_.running()) {
      auto f = server_->close(ocpp::CloseOptions{1001, "", false, false}, asio::use_future);
      if (f.wait_for(5s) != std::future_status::ready) ADD_FAILURE() << "Server::close did not complete in 5 s";
    }
    drain_io();
  }

  std::optional<ocpp::Server> server_;
  std::shared_ptr<ocpp::Client> client_;
};

std::string lib_name(const testing::TestParamInfo<std::string>& info) { return info.param == kWsIo ? "wsio" : "rpc"; }

class SubprotocolMismatch : public PerLibTest {
 protected:
  // Our server accepts only ocpp2.0.1; the peer client offers only ocpp1.6. Returns the peer's
  // first connection outcome event.
  json::object their_client_offers_16(ocpp::ProtocolMismatch mode) {
    ocpp::ServerOptions so;
    so.protocols = {"ocpp2.0.1"};
    so.protocol_mismatch = mode;
    server_.emplace(io_.get_executor(), so);
    add_handlers(*server_);
    server_->on_client([this](const std::shared_ptr<ocpp::ServerClient>& c) {
      record_.add_client({c->identity(), c->protocol()});
    });
    const std::uint16_t port = server_->listen(0, "127.0.0.1");
    start_io();
    peer_ = std::make_unique<Peer>(std::vector<std::string>{
        "client", "--lib", GetParam(), "--url", "ws://127.0.0.1:" + std::to_string(port), "--identity", kIdentity,
        "--protocols", "ocpp1.6", "--no-reconnect"});
    // ocpp-rpc reports `close` before `connect_error`; wait for the connect outcome itself.
    return peer_->wait(event_in({"open", "connect_error"}), "connection outcome");
  }

  void expect_no_client_reached_us() {
    io_barrier();
    EXPECT_EQ(record_.client_count(), 0u) << "on_client ran for a connection without a common subprotocol";
    EXPECT_EQ(server_->client_count(), 0u);
    EXPECT_EQ(server_->get_client(kIdentity), nullptr);
  }
};

TEST_P(SubprotocolMismatch, OurServerClosesAfterUpgrade) {
  auto ev = their_client_offers_16(ocpp::ProtocolMismatch::close_after_upgrade);
  // Both clients refuse a 101 without Sec-WebSocket-Protocol ("Server sent no subprotocol").
  ASSERT_EQ(str(ev, "event"), "connect_error") << ev;
  EXPECT_NE(str(ev, "message").find("subprotocol"), std::string::npos) << ev;
  expect_no_client_reached_us();
}

TEST_P(SubprotocolMismatch, OurServerAnswersHttp400) {
  auto ev = their_client_offers_16(ocpp::ProtocolMismatch::http_400);
  ASSERT_EQ(str(ev, "event"), "connect_error") << ev;
  EXPECT_EQ(at(ev, "status"), json::value(400)) << ev;
  expect_no_client_reached_us();
}

TEST_P(SubprotocolMismatch, TheirServerRefusesOurOffer) {
  peer_ = std::make_unique<Peer>(std::vector<std::string>{"server", "--lib", GetParam(), "--protocols", "ocpp2.0.1"});
  auto listening = peer_->wait(event_is("listening"), "listening");
  ocpp::ClientOptions co;
  co.endpoint = "ws://127.0.0.1:" + str(listening, "port");
  co.identity = kIdentity;
  co.protocols = {"ocpp1.6"};
  co.reconnect = false;
  client_ = ocpp::Client::create(io_.get_executor(), co);
  start_io();
  auto f = client_->connect(asio::use_future);
  ASSERT_EQ(f.wait_for(kEventTimeout), std::future_status::ready) << "connect did not complete";
  try {
    f.get();
    ADD_FAILURE() << "connected although the server accepts only ocpp2.0.1; protocol "
                  << on_io([&] { return client_->protocol(); });
  } catch (const ocpp::ConnectError& e) {
    if (GetParam() == kWsIo) {
      EXPECT_EQ(e.http_status(), 400u) << e.what();  // ocpp-ws-io refuses the upgrade
    } else {
      // ocpp-rpc completes the upgrade without a subprotocol; we must refuse it for good.
      EXPECT_EQ(e.http_status(), 0u) << e.what();
      EXPECT_FALSE(e.retryable()) << e.what();
      auto ev = peer_->wait(event_is("client"), "client");
      EXPECT_EQ(str(ev, "protocol"), "") << ev;
      auto closed = peer_->wait(event_is("client_close"), "client_close (we must drop the connection)");
      EXPECT_EQ(at(closed, "code"), json::value(1002)) << closed;  // protocol error
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ConnectError, got " << typeid(e).name() << ": " << e.what();
  }
}

// Handshake details with their servers (ocpp2.0.1): Basic Auth through ClientOptions::headers
// (security profile 1) and a percent-encoded identity.
class OurClientHandshake : public PerLibTest {
 protected:
  std::string start_server(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"server", "--lib", GetParam(), "--protocols", "ocpp2.0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    peer_ = std::make_unique<Peer>(args);
    return "ws://127.0.0.1:" + str(peer_->wait(event_is("listening"), "listening"), "port");
  }
  std::shared_ptr<ocpp::Client> make_client(const std::string& endpoint, const std::string& identity,
                                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    ocpp::ClientOptions co;
    co.endpoint = endpoint;
    co.identity = identity;
    co.protocols = {"ocpp2.0.1"};
    co.reconnect = false;
    co.headers = std::move(headers);
    auto c = ocpp::Client::create(io_.get_executor(), co);
    add_handlers(*c);
    return c;
  }
};

TEST_P(OurClientHandshake, BasicAuthHeader) {
  const std::string endpoint = start_server({"--require-password", "s3cret"});
  start_io();
  {
    SCOPED_TRACE("wrong password");
    auto bad = make_client(endpoint, kIdentity, {{"Authorization", "Basic Q1AtMTp3cm9uZw=="}});  // CP-1:wrong
    auto f = bad->connect(asio::use_future);
    ASSERT_EQ(f.wait_for(kEventTimeout), std::future_status::ready);
    try {
      f.get();
      ADD_FAILURE() << "connected with a wrong password";
    } catch (const ocpp::ConnectError& e) {
      EXPECT_EQ(e.http_status(), 401u) << e.what();
    }
  }
  {
    SCOPED_TRACE("right password");
    client_ = make_client(endpoint, kIdentity, {{"Authorization", "Basic Q1AtMTpzM2NyZXQ="}});  // CP-1:s3cret
    auto f = client_->connect(asio::use_future);
    get(f, "connect with the right password");
    auto ev = peer_->wait(event_is("client"), "client");
    EXPECT_EQ(str(ev, "password"), "s3cret") << ev;
    auto hb = client_->call("Heartbeat", json::object{}, asio::use_future);
    EXPECT_TRUE(get(hb, "Heartbeat").is_object());
  }
}

TEST_P(OurClientHandshake, IdentityIsPercentEncoded) {
  const std::string endpoint = start_server();
  start_io();
  client_ = make_client(endpoint + "/ocpp", "CP #1/ä");
  auto f = client_->connect(asio::use_future);
  get(f, "connect");
  auto ev = peer_->wait(event_is("client"), "client");
  EXPECT_EQ(str(ev, "identity"), "CP #1/ä") << ev;
  EXPECT_EQ(str(ev, "url"), "/ocpp/CP%20%231%2F%C3%A4") << ev;
  auto r = peer_->call("Reset", json::object{{"type", "Immediate"}}, "CP #1/ä");
  EXPECT_EQ(str(r, "event"), "result") << r;
}

INSTANTIATE_TEST_SUITE_P(Interop, OurClientHandshake, testing::Values(kWsIo, kRpc), lib_name);

INSTANTIATE_TEST_SUITE_P(Interop, SubprotocolMismatch, testing::Values(kWsIo, kRpc), lib_name);

}  // namespace

// ------------------------------------------------------------------ strict mode against ocpp-ws-io

namespace {

// One payload the schemas refuse, and the code (2.x spelling) our strict side must answer with.
struct BadPayload {
  std::string what;
  std::string action;
  json::object payload;
  ocpp::ErrorCode code;
  std::string path;
};

std::vector<BadPayload> bad_payloads(const std::string& protocol) {
  using E = ocpp::ErrorCode;
  if (protocol == "ocpp1.6") {
    return {
        {"type", "BootNotification", {{"chargePointVendor", "V"}, {"chargePointModel", 5}}, E::TypeConstraintViolation,
         "/chargePointModel"},
        {"required", "BootNotification", {{"chargePointVendor", "V"}}, E::OccurrenceConstraintViolation,
         "/chargePointModel"},
        {"enum", "StatusNotification", {{"connectorId", 1}, {"errorCode", "Error"}, {"status", "Available"}},
         E::PropertyConstraintViolation, "/errorCode"},
        {"maxLength", "BootNotification", {{"chargePointVendor", "V"}, {"chargePointModel", std::string(21, 'm')}},
         E::FormatViolation, "/chargePointModel"},
        {"additionalProperties", "BootNotification",
         {{"chargePointVendor", "V"}, {"chargePointModel", "M"}, {"colour", "red"}}, E::PropertyConstraintViolation,
         "/colour"},
    };
  }
  const json::object station{{"model", "M"}, {"vendorName", "V"}};
  return {
      {"type", "BootNotification", {{"reason", "PowerUp"}, {"chargingStation", {{"model", 5}, {"vendorName", "V"}}}},
       E::TypeConstraintViolation, "/chargingStation/model"},
      {"required", "BootNotification", {{"reason", "PowerUp"}}, E::OccurrenceConstraintViolation, "/chargingStation"},
      {"enum", "BootNotification", {{"reason", "Lunch"}, {"chargingStation", station}}, E::PropertyConstraintViolation,
       "/reason"},
      {"maxLength", "BootNotification",
       {{"reason", "PowerUp"}, {"chargingStation", {{"model", std::string(21, 'm')}, {"vendorName", "V"}}}},
       E::FormatViolation, "/chargingStation/model"},
      {"additionalProperties", "BootNotification", {{"reason", "PowerUp"}, {"chargingStation", station}, {"x", 1}},
       E::PropertyConstraintViolation, "/x"},
      {"format date-time", "StatusNotification",
       {{"timestamp", "2026-02-30T00:00:00Z"}, {"connectorStatus", "Available"}, {"evseId", 1}, {"connectorId", 1}},
       E::FormatViolation, "/timestamp"},
  };
}

}  // namespace

// Our strict server, their (non-validating) client: every bad payload is answered with the mapped
// code in the version's spelling, and the typed handler never sees it.
class StrictOurServer : public TheirClientOurServer {
 protected:
  void configure(ocpp::ServerOptions& o) override { o.strict_mode.enabled = true; }
  void add_more_handlers(ocpp::Server& s) override {
    namespace v16 = ocpp::v16;
    namespace v201 = ocpp::v201;
    namespace v21 = ocpp::v21;
    s.handle([this](const v16::BootNotificationRequest&, auto&) {
      ++handled_;
      return v16::BootNotificationResponse{
          .status = v16::BootNotificationStatus::Accepted, .currentTime = kCurrentTime, .interval = 300};
    });
    s.handle([this](const v201::BootNotificationRequest&, auto&) {
      ++handled_;
      return v201::BootNotificationResponse{
          .currentTime = kCurrentTime, .interval = 300, .status = v201::RegistrationStatusEnumType::Accepted};
    });
    s.handle([this](const v21::BootNotificationRequest&, auto&) {
      ++handled_;
      return v21::BootNotificationResponse{
          .currentTime = kCurrentTime, .interval = 300, .status = v21::RegistrationStatusEnumType::Accepted};
    });
    s.handle([this](const v16::StatusNotificationRequest&, auto&) {
      ++handled_;
      return v16::StatusNotificationResponse{};
    });
    s.handle([this](const v201::StatusNotificationRequest&, auto&) {
      ++handled_;
      return v201::StatusNotificationResponse{};
    });
    s.handle([this](const v21::StatusNotificationRequest&, auto&) {
      ++handled_;
      return v21::StatusNotificationResponse{};
    });
  }
  std::atomic<int> handled_{0};
};

TEST_P(StrictOurServer, BadPayloadsGetTheMappedCodes) {
  const std::string& protocol = GetParam().protocol;
  const json::object valid = protocol == "ocpp1.6"
                                 ? json::object{{"chargePointVendor", "V"}, {"chargePointModel", "M"}}
                                 : json::object{{"reason", "PowerUp"}, {"chargingStation", {{"model", "M"}, {"vendorName", "V"}}}};
  auto ok = peer_->call("BootNotification", valid, kIdentity);
  ASSERT_EQ(str(ok, "event"), "result") << ok;
  EXPECT_EQ(str(obj(at(ok, "payload")), "status"), "Accepted") << ok;
  EXPECT_EQ(handled_, 1);

  for (const auto& c : bad_payloads(protocol)) {
    SCOPED_TRACE(c.what);
    auto r = peer_->call(c.action, c.payload, kIdentity);
    ASSERT_EQ(str(r, "event"), "call_error") << r;
    const json::object wire = obj(at(r, "wire"));
    EXPECT_EQ(str(wire, "code"), our_wire_code(c.code, protocol)) << r;
    EXPECT_EQ(str(obj(at(wire, "details")), "path"), c.path) << r;
  }
  EXPECT_EQ(handled_, 1);
}

INSTANTIATE_TEST_SUITE_P(Interop, StrictOurServer,
                         testing::Values(Combo{kWsIo, "ocpp1.6"}, Combo{kWsIo, "ocpp2.0.1"}, Combo{kWsIo, "ocpp2.1"}),
                         combo_name);

// Our strict client, their server answering with payloads the schemas refuse: our call fails
// with the mapped code, and only on ocpp2.1 does the peer hear about it (CALLRESULTERROR).
class StrictOurClient : public OurClientTheirServer {
 protected:
  void configure(ocpp::ClientOptions& o) override { o.strict_mode.enabled = true; }
};

TEST_P(StrictOurClient, BadCallResultsAreRejected) {
  using E = ocpp::ErrorCode;
  const std::string& protocol = GetParam().protocol;
  struct Case {
    std::string what;
    json::object reply;
    E code;
  };
  const std::vector<Case> cases = {
      {"type", {{"currentTime", 42}}, E::TypeConstraintViolation},
      {"required", json::object{}, E::OccurrenceConstraintViolation},
      {"format date-time", {{"currentTime", "2026-01-01 10:00"}}, E::FormatViolation},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    peer_->handle("Heartbeat", {{"reply", c.reply}});
    auto f = client_->call("Heartbeat", json::object{}, asio::use_future);
    ASSERT_EQ(f.wait_for(kEventTimeout), std::future_status::ready);
    try {
      f.get();
      ADD_FAILURE() << "the invalid CALLRESULT was accepted";
    } catch (const ocpp::ValidationFailure& e) {
      EXPECT_EQ(e.code(), c.code) << e.what();
      EXPECT_EQ(e.error().path, "/currentTime");
    }
    auto call = peer_->wait(event_is("inbound"), "the peer's inbound Heartbeat");
    const std::string id = str(call, "message_id");
    // Frames arrive in order: a CALLRESULTERROR is in the peer's hands before the next CALL.
    peer_->handle("Heartbeat", {{"reply", {{"currentTime", kCurrentTime}}}});
    auto next = client_->call("Heartbeat", json::object{}, asio::use_future);
    get(next, "a valid Heartbeat afterwards");
    peer_->wait(event_is("inbound"), "the peer's next inbound Heartbeat");
    ASSERT_FALSE(id.empty()) << call;
    std::vector<json::array> result_errors;
    for (const auto& ev : peer_->backlog_copy())
      if (frame_in_with_id(id)(ev)) {
        json::value v = json::parse(str(ev, "data"));
        if (v.get_array().at(0) == 5) result_errors.push_back(v.get_array());
      }
    if (protocol == "ocpp2.1") {
      ASSERT_EQ(result_errors.size(), 1u);
      EXPECT_EQ(result_errors[0].at(2), json::value(our_wire_code(c.code, protocol)));
      EXPECT_EQ(str(obj(result_errors[0].at(4)), "path"), "/currentTime");
    } else {
      EXPECT_TRUE(result_errors.empty()) << "no frame answers a CALLRESULT before ocpp2.1";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Interop, StrictOurClient,
                         testing::Values(Combo{kWsIo, "ocpp1.6"}, Combo{kWsIo, "ocpp2.0.1"}, Combo{kWsIo, "ocpp2.1"}),
                         combo_name);

// The typed API against the real library, strict on our side.
TEST_P(StrictOurClient, TypedCallsCrossTheWire) {
  auto heartbeat = [&](auto request) {
    auto f = client_->call(request, asio::use_future);
    return get(f, "typed Heartbeat").currentTime;
  };
  const std::string& protocol = GetParam().protocol;
  const std::string time = protocol == "ocpp1.6"     ? heartbeat(ocpp::v16::HeartbeatRequest{})
                           : protocol == "ocpp2.0.1" ? heartbeat(ocpp::v201::HeartbeatRequest{})
                                                     : heartbeat(ocpp::v21::HeartbeatRequest{});
  EXPECT_TRUE(ocpp::schema::is_date_time(time)) << time;
}

// ------------------------------------------------------------------ security profile 1 (Basic Auth)

TEST_P(OurClientHandshake, PasswordOptionIsProfileOne) {
  const std::string endpoint = start_server({"--require-password", "pa:ss-with-colon"});
  start_io();
  ocpp::ClientOptions co;
  co.endpoint = endpoint;
  co.identity = kIdentity;
  co.protocols = {"ocpp2.0.1"};
  co.reconnect = false;
  co.password = "pa:ss-with-colon";
  client_ = ocpp::Client::create(io_.get_executor(), co);
  auto f = client_->connect(asio::use_future);
  get(f, "connect with the password option");
  auto ev = peer_->wait(event_is("client"), "client");
  EXPECT_EQ(str(ev, "password"), "pa:ss-with-colon") << ev;
}

class TheirClientProfileOne : public PerLibTest {
 protected:
  // Their client with `password` against our server that knows kIdentity's password; the peer's
  // first connection outcome.
  json::object connect_with(const std::string& password) {
    server_.emplace(io_.get_executor(), ocpp::ServerOptions{});
    server_->auth(ocpp::basic_auth([](std::string_view identity) -> std::optional<std::string> {
      if (identity == kIdentity) return std::string("right:password-16");
      return std::nullopt;
    }));
    add_handlers(*server_);
    const std::uint16_t port = server_->listen(0, "127.0.0.1");
    start_io();
    peer_ = std::make_unique<Peer>(std::vector<std::string>{
        "client", "--lib", GetParam(), "--url", "ws://127.0.0.1:" + std::to_string(port), "--identity", kIdentity,
        "--protocols", "ocpp1.6", "--no-reconnect", "--password", password});
    return peer_->wait(event_in({"open", "connect_error"}), "connection outcome");
  }
};

TEST_P(TheirClientProfileOne, RightPasswordOpens) {
  auto ev = connect_with("right:password-16");
  ASSERT_EQ(str(ev, "event"), "open") << ev;
  auto r = peer_->call("Heartbeat", json::object{}, kIdentity);
  EXPECT_EQ(str(r, "event"), "result") << r;
}

TEST_P(TheirClientProfileOne, WrongPasswordIsRefused) {
  auto ev = connect_with("wrong-password-16");
  EXPECT_EQ(str(ev, "event"), "connect_error") << ev;
  EXPECT_EQ(server_->client_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Interop, TheirClientProfileOne, testing::Values(kWsIo, kRpc), lib_name);

// ------------------------------------------------------------------ permessage-deflate

// ocpp-ws-io's `compression: true` (node ws, zlib) against ours (Beast) both ways, with a 40 KB
// compressible payload each way: above both libraries' thresholds, so it crosses compressed.
class CompressionInterop : public PerLibTest {
 protected:
  static json::object big_data_transfer() {
    std::string data;
    for (int i = 0; data.size() < 40000; ++i) data += "Energy.Active.Import.Register " + std::to_string(i % 89) + "; ";
    return json::object{{"vendorId", "interop"}, {"data", data}};
  }
  static ocpp::HandlerResult echo(ocpp::CallContext& ctx) {
    json::object out = obj(ctx.params);
    out["status"] = "Accepted";
    return out;
  }
};

TEST_P(CompressionInterop, TheirCompressingClientWithOurServer) {
  server_.emplace(io_.get_executor(), ocpp::ServerOptions{});
  server_->handle("DataTransfer", echo);
  const std::uint16_t port = server_->listen(0, "127.0.0.1");
  start_io();
  peer_ = std::make_unique<Peer>(std::vector<std::string>{
      "client", "--lib", GetParam(), "--url", "ws://127.0.0.1:" + std::to_string(port), "--identity", kIdentity,
      "--protocols", "ocpp2.0.1", "--no-reconnect", "--compression"});
  auto open = peer_->wait(event_in({"open", "connect_error"}), "connection outcome");
  ASSERT_EQ(str(open, "event"), "open") << open;
  auto station = server_->get_client(kIdentity);
  ASSERT_NE(station, nullptr);
  EXPECT_TRUE(on_io([&] { return station->handshake().compression; }));

  const auto payload = big_data_transfer();
  auto up = peer_->call("DataTransfer", payload);
  ASSERT_EQ(str(up, "event"), "result") << str(up, "event");
  EXPECT_EQ(at(at(up, "payload").as_object(), "data"), payload.at("data"));

  peer_->handle("DataTransfer", json::object{{"reply", json::object{{"status", "Accepted"}, {"data", payload.at("data")}}}});
  auto down_f = station->call("DataTransfer", payload, asio::use_future);
  auto down = get(down_f, "DataTransfer to their client");
  EXPECT_EQ(at(obj(down), "data"), payload.at("data"));
}

TEST_P(CompressionInterop, OurCompressingClientWithTheirServer) {
  peer_ = std::make_unique<Peer>(
      std::vector<std::string>{"server", "--lib", GetParam(), "--protocols", "ocpp2.0.1", "--compression"});
  auto listening = peer_->wait(event_in({"listening", "listen_error", "fatal"}), "listening");
  ASSERT_EQ(str(listening, "event"), "listening") << listening;
  ocpp::ClientOptions co;
  co.endpoint = "ws://127.0.0.1:" + str(listening, "port");
  co.identity = kIdentity;
  co.protocols = {"ocpp2.0.1"};
  co.reconnect = false;
  co.compression.enabled = true;
  client_ = ocpp::Client::create(io_.get_executor(), co);
  client_->handle("DataTransfer", echo);
  start_io();
  auto connected = client_->connect(asio::use_future);
  get(connected, "connect");
  peer_->wait(event_is("client"), "client");
  EXPECT_TRUE(on_io([&] { return client_->compressed(); }));

  const auto payload = big_data_transfer();
  peer_->handle("DataTransfer", json::object{{"reply", json::object{{"status", "Accepted"}, {"data", payload.at("data")}}}});
  auto up_f = client_->call("DataTransfer", payload, asio::use_future);
  auto up = get(up_f, "DataTransfer to their server");
  EXPECT_EQ(at(obj(up), "data"), payload.at("data"));

  auto down = peer_->call("DataTransfer", payload, kIdentity);
  ASSERT_EQ(str(down, "event"), "result") << str(down, "event");
  EXPECT_EQ(at(at(down, "payload").as_object(), "data"), payload.at("data"));
}

INSTANTIATE_TEST_SUITE_P(Interop, CompressionInterop, testing::Values(kWsIo), lib_name);
