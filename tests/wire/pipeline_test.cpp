// The server's connection phase over real sockets: routes, middleware, auth, the gates and their
// HTTP statuses, handshake timeout and socket loss during auth.
#include <boost/beast/core/detail/base64.hpp>

#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>

#include "ocpp/messages/v16.hpp"
#include "ocpp/server/basic_auth.hpp"
#include "support/capturing_logger.hpp"
#include "wire_fixture.hpp"

using namespace ocpp_test;

namespace {

// Collects what the server reports, from its I/O thread.
struct Seen {
  std::mutex m;
  std::vector<std::string> steps;
  std::vector<SecurityEvent> security;
  void step(std::string s) {
    std::lock_guard lock(m);
    steps.push_back(std::move(s));
  }
  void watch(Server& server) {
    server.on_security_event([this](const SecurityEvent& e) {
      std::lock_guard lock(m);
      security.push_back(e);
    });
  }
  std::vector<std::string> security_types() {
    std::lock_guard lock(m);
    std::vector<std::string> out;
    for (const auto& e : security) out.emplace_back(to_string(e.type));
    return out;
  }
};

std::string basic(std::string_view user_pass) {
  std::string out(boost::beast::detail::base64::encoded_size(user_pass.size()), '\0');
  out.resize(boost::beast::detail::base64::encode(out.data(), user_pass.data(), user_pass.size()));
  return "Basic " + out;
}

}  // namespace

TEST_F(WireTest, UnmatchedRoutesGet404AndTheRouteParameterIsTheIdentity) {
  auto server = make_server();
  server->route("/cs/:identity/ws");
  std::promise<std::string> identity;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { identity.set_value(c->identity()); });
  const auto port = server->listen(0, "127.0.0.1");
  EXPECT_EQ(raw_http(port, upgrade_request("/other/CP1", "Sec-WebSocket-Protocol: ocpp1.6\r\n")),
            "HTTP/1.1 404 Not Found");
  EXPECT_EQ(raw_http(port, upgrade_request("/cs/CP%7C7/ws", "Sec-WebSocket-Protocol: ocpp1.6\r\n")),
            "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(get(identity.get_future()), "CP|7");
}

TEST_F(WireTest, MiddlewareRunsInOrderAndMergesStateIntoTheSession) {
  auto server = make_server();
  Seen seen;
  server->use([&](std::shared_ptr<ConnectionContext> ctx) {
    seen.step("server");
    ctx->next({{"tenant", "acme"}});
  });
  server->route("/ocpp/:identity").use([&](std::shared_ptr<ConnectionContext> ctx) {
    seen.step("route saw tenant=" + std::string(ctx->state().at("tenant").as_string()));
    ctx->next({{"plan", "gold"}});
  });
  server->auth([&](std::shared_ptr<AuthContext> ctx) {
    seen.step("auth " + ctx->handshake().identity + " " + std::to_string(ctx->state().size()));
    ctx->accept({.station = {{"authorized", true}}});
  });
  std::promise<json::object> state;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { state.set_value(c->station().data); });
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port);
  get(client->connect(asio::use_future));
  EXPECT_EQ(get(state.get_future()), (json::object{{"tenant", "acme"}, {"plan", "gold"}, {"authorized", true}}));
  EXPECT_EQ(seen.steps, (std::vector<std::string>{"server", "route saw tenant=acme", "auth CP001 2"}));
}

TEST_F(WireTest, RejectionsUndecidedContextsAndThrowsGetTheirStatuses) {
  auto server = make_server();
  Seen seen;
  seen.watch(*server);
  std::promise<std::string> upgrade_error;
  server->on_upgrade_error([&](const UpgradeErrorEvent& e) { upgrade_error.set_value(e.error); });
  server->route("/reject/:identity").use([](std::shared_ptr<ConnectionContext> ctx) { ctx->reject(403, "nope"); });
  server->route("/forget/:identity").use([](std::shared_ptr<ConnectionContext>) {});
  server->route("/throw/:identity").use([](std::shared_ptr<ConnectionContext>) { throw std::runtime_error("boom"); });
  server->route("/noauth/:identity").auth([](std::shared_ptr<AuthContext>) {});
  server->route("/deny/:identity").auth([](std::shared_ptr<AuthContext> ctx) { ctx->reject(); });
  server->route("/proto/:identity").auth([](std::shared_ptr<AuthContext> ctx) { ctx->accept({.protocol = "ocpp2.1"}); });
  const auto port = server->listen(0, "127.0.0.1");
  const std::string offer = "Sec-WebSocket-Protocol: ocpp1.6\r\n";
  EXPECT_EQ(raw_http(port, upgrade_request("/reject/CP1", offer)), "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(raw_http(port, upgrade_request("/forget/CP1", offer)), "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(raw_http(port, upgrade_request("/throw/CP1", offer)), "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(get(upgrade_error.get_future()), "boom");
  EXPECT_EQ(raw_http(port, upgrade_request("/noauth/CP1", offer)), "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(raw_http(port, upgrade_request("/deny/CP1", offer)), "HTTP/1.1 401 Unauthorized");
  // accept() may only pick a protocol the client offered.
  EXPECT_EQ(raw_http(port, upgrade_request("/proto/CP1", offer)), "HTTP/1.1 400 Bad Request");
  auto types = seen.security_types();
  EXPECT_EQ(std::count(types.begin(), types.end(), "AUTH_FAILED"), 4) << "reject, undecided middleware, undecided and explicit auth";
}

TEST_F(WireTest, AuthMayDecideLaterFromAnotherThreadAndSeesThePassword) {
  auto server = make_server();
  std::thread decider;
  std::promise<std::optional<std::string>> password;
  server->auth([&](std::shared_ptr<AuthContext> ctx) {
    password.set_value(ctx->handshake().password);
    EXPECT_TRUE(ctx->handshake().header("authorization").empty()) << "credentials never reach the headers";
    decider = std::thread([ctx] { ctx->accept(); });
  });
  const auto port = server->listen(0, "127.0.0.1");
  ClientOptions o;
  o.headers = {{"Authorization", basic("CP001:pa:ss")}};
  auto client = make_client(port, "CP001", {"ocpp1.6"}, o);
  get(client->connect(asio::use_future));
  EXPECT_EQ(get(password.get_future()), std::optional<std::string>("pa:ss"));
  decider.join();
}

TEST_F(WireTest, AnAuthThatNeverDecidesIsAbortedAtTheHandshakeTimeout) {
  ServerOptions so;
  so.handshake_timeout = milliseconds(100);
  auto server = make_server(so);
  std::shared_ptr<AuthContext> kept;
  server->auth([&](std::shared_ptr<AuthContext> ctx) { kept = ctx; });
  std::promise<UpgradeAbortedEvent> aborted;
  server->on_upgrade_aborted([&](const UpgradeAbortedEvent& e) { aborted.set_value(e); });
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port);
  auto connected = client->connect(asio::use_future);
  auto e = get(aborted.get_future());
  EXPECT_EQ(e.reason, "handshake timeout");
  EXPECT_EQ(e.identity, "CP001");
  EXPECT_THROW(get(connected), ConnectError);
  on_pool([&] {
    EXPECT_TRUE(kept->aborted());
    kept->accept();  // too late: ignored
  });
}

TEST_F(WireTest, SocketLossDuringAuthAbortsTheUpgradeAndSignalsTheCallback) {
  auto server = make_server();
  std::shared_ptr<AuthContext> kept;
  std::promise<void> auth_started, cancelled;
  server->auth([&](std::shared_ptr<AuthContext> ctx) {
    kept = ctx;
    ctx->cancellation_slot().assign([&](asio::cancellation_type) { cancelled.set_value(); });
    auth_started.set_value();
  });
  std::promise<UpgradeAbortedEvent> aborted;
  server->on_upgrade_aborted([&](const UpgradeAbortedEvent& e) { aborted.set_value(e); });
  const auto port = server->listen(0, "127.0.0.1");
  {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(upgrade_request("/ocpp/CP9", "Sec-WebSocket-Protocol: ocpp1.6\r\n")));
    get(auth_started.get_future());
  }  // the station hangs up while auth is thinking
  EXPECT_EQ(get(aborted.get_future()).reason, "socket closed");
  get(cancelled.get_future());
  on_pool([&] { kept.reset(); });
}

// Each setting is shown by what it does on a connection of its route, and by its absence on a
// connection of another route that keeps the server's settings.
TEST_F(WireTest, RouteSettingsApplyToItsConnections) {
  ServerOptions so;
  so.call_timeout = std::chrono::seconds(60);
  auto server = make_server(so);
  RateLimitOptions limits;
  limits.per_action["MeterValues"] = RateLimit{1, milliseconds(60000)};
  limits.on_exceeded = LimitAction::disconnect;
  server->route("/strict/:identity")
      .config({.protocols = std::vector<std::string>{"ocpp2.0.1"},
               .call_timeout = milliseconds(100),
               .strict_mode = StrictModeOptions{.enabled = true},
               .rate_limit = limits});
  server->route("/plain/:identity");
  std::atomic<int> boots{0};
  server->handle("BootNotification", [&](CallContext&) -> HandlerResult {
    ++boots;
    return json::object{{"currentTime", "2026-01-01T00:00:00Z"}, {"interval", 60}, {"status", "Accepted"}};
  });
  server->handle("MeterValues", [](CallContext&) -> HandlerResult { return json::object(); });
  std::mutex m;
  std::map<std::string, std::shared_ptr<ServerClient>> accepted;
  std::promise<void> both_accepted;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) {
    std::lock_guard lock(m);
    accepted[c->identity()] = c;
    if (accepted.size() == 2) both_accepted.set_value();
  });
  const auto port = server->listen(0, "127.0.0.1");
  auto station = [&](const std::string& path, const std::string& identity) {
    ClientOptions o;
    o.endpoint = "ws://127.0.0.1:" + std::to_string(port) + path;
    o.identity = identity;
    o.protocols = {"ocpp1.6", "ocpp2.0.1", "ocpp2.1"};
    o.reconnect = false;
    o.logger = null_logger();
    auto c = Client::create(pool.executor(), o);
    c->handle("GetVariables", [](CallContext&) -> HandlerResult { return no_reply; });
    get(c->connect(asio::use_future));
    return c;
  };
  auto routed = station("/strict", "CPR");
  auto plain = station("/plain", "CPP");
  get(both_accepted.get_future());
  std::shared_ptr<ServerClient> routed_sc, plain_sc;
  {
    std::lock_guard lock(m);
    routed_sc = accepted.at("CPR");
    plain_sc = accepted.at("CPP");
  }
  EXPECT_EQ(routed->protocol(), "ocpp2.0.1") << "the route's protocol list, not the server's";
  EXPECT_EQ(plain->protocol(), "ocpp2.1");

  // Strict mode: an invalid BootNotification is refused before the handler on the route only.
  EXPECT_THROW(get(routed->call("BootNotification", json::object(), asio::use_future)), RpcError);
  EXPECT_EQ(boots, 0);
  get(plain->call("BootNotification", json::object(), asio::use_future));
  EXPECT_EQ(boots, 1);

  // call_timeout: the route's 100 ms, not the server's 60 s. The other route's call starts first
  // and is still pending once the routed one has timed out.
  const json::object get_variables{
      {"getVariableData", json::array{json::object{{"component", json::object{{"name", "OCPPCommCtrlr"}}},
                                                   {"variable", json::object{{"name", "HeartbeatInterval"}}}}}}};
  auto plain_call = plain_sc->call("GetVariables", get_variables, asio::use_future);
  auto routed_call = routed_sc->call("GetVariables", get_variables, asio::use_future);
  EXPECT_THROW(get(std::move(routed_call)), TimeoutError);
  EXPECT_EQ(plain_call.wait_for(milliseconds(0)), std::future_status::timeout);

  // Rate limit: a second MeterValues within the minute closes the routed connection with 1008.
  const json::object meter{
      {"evseId", 1},
      {"meterValue", json::array{json::object{{"timestamp", "2026-01-01T00:00:00Z"},
                                              {"sampledValue", json::array{json::object{{"value", 1}}}}}}}};
  get(plain->call("MeterValues", meter, asio::use_future));
  get(plain->call("MeterValues", meter, asio::use_future));
  std::promise<CloseResult> routed_closed;
  routed->on_close([&](const CloseResult& r) { routed_closed.set_value(r); });
  get(routed->call("MeterValues", meter, asio::use_future));
  EXPECT_THROW(get(routed->call("MeterValues", meter, asio::use_future)), ConnectionError);
  EXPECT_EQ(get(routed_closed.get_future()).code, close_code::policy_violation);
  EXPECT_EQ(plain->state(), ConnectionState::open);

  get(plain->close(CloseOptions{}, asio::use_future));
  EXPECT_THROW(get(std::move(plain_call)), ConnectionError) << "ended by the close, never timed out";
}

// Gates run in the documented order: the connection cap comes before routing, routing before
// the subprotocol check.
TEST_F(WireTest, GatesRunInOrderWithTheirStatuses) {
  ServerOptions so;
  so.max_connections = 1;
  so.protocols = {"ocpp2.0.1"};
  so.protocol_mismatch = ProtocolMismatch::http_400;
  auto server = make_server(so);
  Seen seen;
  seen.watch(*server);
  server->route("/ocpp/:identity");
  std::promise<void> first_closed;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) {
    if (c->identity() == "CP1") c->on_close([&](const CloseResult&) { first_closed.set_value(); });
  });
  const auto port = server->listen(0, "127.0.0.1");
  EXPECT_EQ(raw_http(port, upgrade_request("/nowhere/CP1", "Sec-WebSocket-Protocol: ocpp1.6\r\n")),
            "HTTP/1.1 404 Not Found");
  EXPECT_EQ(raw_http(port, upgrade_request("/ocpp/CP1", "Sec-WebSocket-Protocol: ocpp1.6\r\n")),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw_http(port, "GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");

  auto first = make_client(port, "CP1", {"ocpp2.0.1"});
  get(first->connect(asio::use_future));
  EXPECT_EQ(raw_http(port, upgrade_request("/nowhere/CP2", "Sec-WebSocket-Protocol: ocpp1.6\r\n")),
            "HTTP/1.1 503 Service Unavailable");
  EXPECT_EQ(seen.security_types(), std::vector<std::string>{"CONNECTION_LIMIT"});

  // A closed connection frees its place.
  get(first->close(CloseOptions{}, asio::use_future));
  get(first_closed.get_future());
  auto second = make_client(port, "CP2", {"ocpp2.0.1"});
  get(second->connect(asio::use_future));
}

TEST_F(WireTest, SendToClientAndBroadcast) {
  auto server = make_server();
  std::atomic<int> connected{0};
  std::promise<void> both;
  server->on_client([&](const std::shared_ptr<ServerClient>&) {
    if (++connected == 2) both.set_value();
  });
  const auto port = server->listen(0, "127.0.0.1");
  auto cp1 = make_client(port, "CP1");
  auto cp2 = make_client(port, "CP2");
  cp1->handle([](const v16::GetConfigurationRequest& req, auto&) {
    v16::GetConfigurationResponse r;
    r.unknownKey = req.key;
    return r;
  });
  cp1->handle("Reset", [](CallContext&) -> HandlerResult { return json::object{{"status", "Accepted"}}; });
  cp2->handle("Reset", [](CallContext&) -> HandlerResult { throw RpcError(ErrorCode::NotSupported, "no"); });
  get(cp1->connect(asio::use_future));
  get(cp2->connect(asio::use_future));
  get(both.get_future());

  v16::GetConfigurationRequest ask;
  ask.key = std::vector<std::string>{"HeartbeatInterval"};
  auto typed = get(server->send_to_client("CP1", ask, CallOptions{}, asio::use_future));
  EXPECT_EQ(typed.unknownKey, ask.key);
  EXPECT_THROW(get(server->send_to_client("CP9", "Reset", json::object{{"type", "Soft"}}, CallOptions{}, asio::use_future)),
               ConnectionError);
  EXPECT_FALSE(get(server->safe_send_to_client("CP9", "Reset", json::object{}, CallOptions{}, asio::use_future)));
  EXPECT_TRUE(get(server->safe_send_to_client("CP1", "Reset", json::object{{"type", "Soft"}}, CallOptions{},
                                              asio::use_future)));

  auto all = get(server->broadcast("Reset", json::object{{"type", "Soft"}}, CallOptions{}, asio::use_future));
  EXPECT_EQ(all.delivered, std::vector<std::string>{"CP1"});
  ASSERT_EQ(all.failed.size(), 1u);
  EXPECT_EQ(all.failed[0].first, "CP2");
  auto some = get(server->broadcast_batch({"CP1", "CP9"}, "Reset", json::object{{"type", "Soft"}}, CallOptions{},
                                          asio::use_future));
  EXPECT_EQ(some.delivered, std::vector<std::string>{"CP1"});
  ASSERT_EQ(some.failed.size(), 1u);
  EXPECT_EQ(some.failed[0], (std::pair<std::string, std::string>{"CP9", "not connected"}));
}

TEST_F(WireTest, PerAddressConnectionRateGets429UntilItRefills) {
  ManualClock clock(std::chrono::steady_clock::time_point{} + std::chrono::hours(1));
  ServerOptions so;
  so.clock = clock.clock();
  so.connection_rate_limit = RateLimit{1, milliseconds(60000)};
  auto server = make_server(so);
  Seen seen;
  seen.watch(*server);
  const auto port = server->listen(0, "127.0.0.1");
  const std::string offer = "Sec-WebSocket-Protocol: ocpp1.6\r\n";
  EXPECT_EQ(raw_http(port, upgrade_request("/ocpp/CP1", offer)), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(raw_http(port, upgrade_request("/ocpp/CP2", offer)), "HTTP/1.1 429 Too Many Requests");
  clock.advance(milliseconds(60000));
  EXPECT_EQ(raw_http(port, upgrade_request("/ocpp/CP3", offer)), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(seen.security_types(), std::vector<std::string>{"CONNECTION_RATE_LIMIT"});
  std::lock_guard lock(seen.m);
  EXPECT_EQ(seen.security[0].ip, "127.0.0.1");
  EXPECT_EQ(seen.security[0].identity, "");  // refused before the path was read
}

TEST_F(WireTest, OverRateCallsAreDroppedAndReportedAsSecurityEvents) {
  ServerOptions so;
  so.rate_limit.global = RateLimit{1, milliseconds(60000)};
  auto server = make_server(so);
  server->handle("Heartbeat", heartbeat);
  Seen seen;
  seen.watch(*server);
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port);
  get(client->connect(asio::use_future));
  get(client->call("Heartbeat", json::object(), asio::use_future));
  CallOptions short_wait;
  short_wait.timeout = milliseconds(200);
  EXPECT_THROW(get(client->call("Heartbeat", json::object(), short_wait, asio::use_future)), TimeoutError);
  EXPECT_EQ(seen.security_types(), std::vector<std::string>{"RATE_LIMIT_EXCEEDED"});
}

TEST_F(WireTest, StationStateSurvivesReconnectsWithinItsTtl) {
  ManualClock clock(std::chrono::steady_clock::time_point{} + std::chrono::hours(10));
  ServerOptions so;
  so.clock = clock.clock();
  auto server = make_server(so);
  std::atomic<int> visits{0};
  std::promise<void>* closed = nullptr;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) {
    auto& data = c->station().data;
    data["visits"] = (data.contains("visits") ? data["visits"].as_int64() : 0) + 1;
    visits = static_cast<int>(data["visits"].as_int64());
    c->on_close([&closed](const CloseResult&) { closed->set_value(); });
  });
  const auto port = server->listen(0, "127.0.0.1");
  auto visit = [&] {
    std::promise<void> done;
    closed = &done;
    auto client = make_client(port);
    get(client->connect(asio::use_future));
    get(client->close(CloseOptions{}, asio::use_future));
    get(done.get_future());
    return visits.load();
  };
  EXPECT_EQ(visit(), 1);
  clock.advance(std::chrono::minutes(119));
  EXPECT_EQ(visit(), 2) << "within the TTL the station state and its data come back";
  clock.advance(std::chrono::hours(2));
  EXPECT_EQ(visit(), 1) << "after the TTL it is a new station state";
}

TEST_F(WireTest, AnEvictedConnectionsLateCloseLeavesItsSuccessorsStationAlone) {
  auto server = make_server();
  std::promise<void> old_closed;
  std::atomic<int> n{0};
  server->on_client([&](const std::shared_ptr<ServerClient>& c) {
    if (++n == 1) c->on_close([&](const CloseResult&) { old_closed.set_value(); });
  });
  const auto port = server->listen(0, "127.0.0.1");
  auto first = make_client(port, "CP1");
  get(first->connect(asio::use_future));
  auto second = make_client(port, "CP1");
  get(second->connect(asio::use_future));
  get(old_closed.get_future());
  auto current = server->get_client("CP1");
  ASSERT_NE(current, nullptr);
  EXPECT_TRUE(current->station().connected.load());
  EXPECT_EQ(server->client_count(), 1u);
}

namespace {
// GET `path`; the whole response (the server closes after it).
std::string http_get(std::uint16_t port, const std::string& path) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string response;
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(response), ec);
  return response;
}
}  // namespace

TEST_F(WireTest, HealthAndMetricsAreServedOverHttp) {
  ServerOptions so;
  so.health_endpoint = true;
  auto server = make_server(so);
  server->handle("Heartbeat", heartbeat);
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port);
  get(client->connect(asio::use_future));
  get(client->call("Heartbeat", json::object(), asio::use_future));
  EXPECT_THROW(get(client->call("Nope", json::object(), asio::use_future)), RpcError);

  const auto health = http_get(port, "/health");
  ASSERT_EQ(health.substr(0, health.find("\r\n")), "HTTP/1.1 200 OK");
  auto body = json::parse(health.substr(health.find("\r\n\r\n") + 4)).as_object();
  EXPECT_EQ(body.at("status"), "ok");
  EXPECT_EQ(body.at("connections"), 1);

  const auto metrics = http_get(port, "/metrics");
  ASSERT_EQ(metrics.substr(0, metrics.find("\r\n")), "HTTP/1.1 200 OK");
  EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  for (const char* line : {"ocpp_connections 1", R"(ocpp_calls_total{direction="in",action="Heartbeat"} 1)",
                           R"(ocpp_errors_total{action="Nope",code="NotImplemented"} 1)"})
    EXPECT_NE(metrics.find(line), std::string::npos) << line << "\n" << metrics;
  EXPECT_NE(metrics.find("ocpp_bytes_total{direction=\"in\"}"), std::string::npos);
  EXPECT_EQ(http_get(port, "/other").substr(0, 22), "HTTP/1.1 404 Not Found");
}

TEST_F(WireTest, ThrowingServerCallbacksAreLoggedCountedInMetricsAndTheServerGoesOn) {
  auto logger = std::make_shared<CapturingLogger>();
  ServerOptions so;
  so.health_endpoint = true;
  so.logger = logger;
  Server server(pool.executor(), so);  // not make_server: it would silence the logger
  server.handle("Heartbeat", heartbeat);
  server.on_client([](const std::shared_ptr<ServerClient>& c) {
    c->on_message([](const MessageEvent&) { throw std::runtime_error("observer down"); });
    throw std::runtime_error("registry down");
  });
  server.on_security_event([](const SecurityEvent&) { throw std::runtime_error("siem down"); });
  server.on_upgrade_error([](const UpgradeErrorEvent&) { throw std::runtime_error("pager down"); });
  server.route("/ocpp/:identity");
  server.route("/throw/:identity").use([](std::shared_ptr<ConnectionContext>) { throw std::runtime_error("boom"); });
  server.route("/deny/:identity").auth([](std::shared_ptr<AuthContext> ctx) { ctx->reject(401, "no"); });
  const auto port = server.listen(0, "127.0.0.1");
  const std::string offer = "Sec-WebSocket-Protocol: ocpp1.6\r\n";
  EXPECT_EQ(raw_http(port, upgrade_request("/throw/CP1", offer)), "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(raw_http(port, upgrade_request("/deny/CP1", offer)), "HTTP/1.1 401 Unauthorized");
  auto client = make_client(port);
  get(client->connect(asio::use_future));
  get(client->call("Heartbeat", json::object(), asio::use_future));
  get(client->call("Heartbeat", json::object(), asio::use_future));
  EXPECT_EQ(server.client_count(), 1u);

  const auto metrics = http_get(port, "/metrics");
  // on_message: each CALL in and each CALLRESULT out.
  for (const char* line : {R"(ocpp_callback_errors_total{event="on_client"} 1)",
                           R"(ocpp_callback_errors_total{event="on_message"} 4)",
                           R"(ocpp_callback_errors_total{event="on_security_event"} 1)",
                           R"(ocpp_callback_errors_total{event="on_upgrade_error"} 1)"})
    EXPECT_NE(metrics.find(line), std::string::npos) << line << "\n" << metrics;
  for (const char* line : {"on_client callback threw: registry down", "on_message callback threw: observer down",
                           "on_security_event callback threw: siem down", "on_upgrade_error callback threw: pager down"})
    EXPECT_GE(logger->count(LogLevel::error, line), 1u) << line;
}

TEST_F(WireTest, AThrowingUpgradeAbortedCallbackIsLoggedCountedInMetricsAndTheServerGoesOn) {
  auto logger = std::make_shared<CapturingLogger>();
  ServerOptions so;
  so.health_endpoint = true;
  so.logger = logger;
  Server server(pool.executor(), so);  // not make_server: it would silence the logger
  server.handle("Heartbeat", heartbeat);
  std::shared_ptr<AuthContext> kept;
  std::promise<void> auth_started, aborted;
  server.auth([&](std::shared_ptr<AuthContext> ctx) {
    if (ctx->handshake().identity != "CP9") return ctx->accept();
    kept = ctx;  // never decided
    auth_started.set_value();
  });
  server.on_upgrade_aborted([&](const UpgradeAbortedEvent&) {
    aborted.set_value();
    throw std::runtime_error("pager down");
  });
  const auto port = server.listen(0, "127.0.0.1");
  {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(upgrade_request("/ocpp/CP9", "Sec-WebSocket-Protocol: ocpp1.6\r\n")));
    get(auth_started.get_future());
  }  // the station hangs up while auth is thinking
  get(aborted.get_future());
  // The pool's one thread finished the callback before it serves anything below.
  auto client = make_client(port);
  get(client->connect(asio::use_future));
  get(client->call("Heartbeat", json::object(), asio::use_future));
  const auto metrics = http_get(port, "/metrics");
  EXPECT_NE(metrics.find(R"(ocpp_callback_errors_total{event="on_upgrade_aborted"} 1)"), std::string::npos) << metrics;
  EXPECT_GE(logger->count(LogLevel::error, "on_upgrade_aborted callback threw: pager down"), 1u);
  on_pool([&] { kept.reset(); });
}

// A message the rate-limit callback lets through is not a drop; one it disconnects for is.
TEST_F(WireTest, RateLimitCallbackAllowCountsNoDropInMetrics) {
  ServerOptions so;
  so.health_endpoint = true;
  so.rate_limit.global = RateLimit{1, milliseconds(60000)};
  so.rate_limit.on_exceeded = LimitAction::callback;
  auto server = make_server(so);
  server->handle("Heartbeat", heartbeat);
  server->on_client([](const std::shared_ptr<ServerClient>& c) {
    const auto decision = c->identity() == "ALLOW" ? RateLimitDecision::allow : RateLimitDecision::disconnect;
    c->on_rate_limit_exceeded([decision](RateLimitEvent& e) { e.decision = decision; });
  });
  const auto port = server->listen(0, "127.0.0.1");
  const auto dropped = R"(ocpp_dropped_messages_total{reason="rate_limit"})";
  auto allowed = make_client(port, "ALLOW");
  get(allowed->connect(asio::use_future));
  get(allowed->call("Heartbeat", json::object(), asio::use_future));
  get(allowed->call("Heartbeat", json::object(), asio::use_future));  // over the limit, let through
  auto metrics = http_get(port, "/metrics");
  EXPECT_NE(metrics.find(R"(ocpp_security_events_total{type="RATE_LIMIT_EXCEEDED"} 1)"), std::string::npos)
      << "the limit was exceeded\n" << metrics;
  EXPECT_EQ(metrics.find(std::string(dropped) + " 1"), std::string::npos) << metrics;

  auto refused = make_client(port, "DISCONNECT");
  get(refused->connect(asio::use_future));
  get(refused->call("Heartbeat", json::object(), asio::use_future));
  EXPECT_THROW(get(refused->call("Heartbeat", json::object(), asio::use_future)), ConnectionError);
  metrics = http_get(port, "/metrics");
  EXPECT_NE(metrics.find(std::string(dropped) + " 1"), std::string::npos) << "only the disconnect\n" << metrics;
}

TEST_F(WireTest, LogLinesAreJsonAndCarryNoSecrets) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ServerOptions so;
  so.logger = make_json_logger(LogLevel::debug, file);
  so.exchange_log = true;
  Server server(pool.executor(), so);  // not make_server: it would silence the logger
  server.handle("Heartbeat", heartbeat);
  std::atomic<int> attempts{0};
  server.auth([&](std::shared_ptr<AuthContext> ctx) {
    if (++attempts == 1) return ctx->reject(401, "try again");
    ctx->accept();
  });
  const auto port = server.listen(0, "127.0.0.1");
  ClientOptions o;
  o.headers = {{"Authorization", basic("CP001:s3cr3t-pass")}};
  auto refused = make_client(port, "CP001", {"ocpp1.6"}, o);
  EXPECT_THROW(get(refused->connect(asio::use_future)), ConnectError);
  auto client = make_client(port, "CP001", {"ocpp1.6"}, o);
  get(client->connect(asio::use_future));
  get(client->call("Heartbeat", json::object(), asio::use_future));
  get(client->close(CloseOptions{}, asio::use_future));
  get(server.close(CloseOptions{}, asio::use_future));

  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file)) > 0;) text.append(buf, n);
  std::fclose(file);
  EXPECT_EQ(text.find("s3cr3t-pass"), std::string::npos) << text;
  EXPECT_EQ(text.find("CP001:"), std::string::npos) << text;
  bool exchange_in = false, exchange_out = false, auth_failed = false;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    const auto& o = v.as_object();
    for (auto key : {"level", "time", "msg", "component"}) EXPECT_TRUE(o.contains(key)) << key << " in " << line;
    if (o.contains("direction") && o.at("action") == "Heartbeat") {
      EXPECT_EQ(o.at("identity"), "CP001");
      (o.at("direction") == "IN" ? exchange_in : exchange_out) = true;
    }
    if (o.contains("security_event") && o.at("security_event") == "AUTH_FAILED") {
      auth_failed = true;
      EXPECT_EQ(o.at("address"), "127.0.0.1");
      EXPECT_TRUE(ocpp::schema::is_date_time(std::string(o.at("event_time").as_string()))) << line;
    }
  }
  EXPECT_TRUE(exchange_in && exchange_out && auth_failed) << text;
}

TEST_F(WireTest, AuthMayPickAnotherOfferedProtocolAndBothSidesSeeIt) {
  auto server = make_server();  // prefers ocpp2.1, ocpp2.0.1, ocpp1.6
  server->auth([](std::shared_ptr<AuthContext> ctx) { ctx->accept({.protocol = "ocpp1.6"}); });
  std::promise<std::string> server_side;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { server_side.set_value(c->protocol()); });
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port, "CP1", {"ocpp2.0.1", "ocpp1.6"});
  get(client->connect(asio::use_future));
  EXPECT_EQ(client->protocol(), "ocpp1.6") << "the Sec-WebSocket-Protocol response header";
  EXPECT_EQ(get(server_side.get_future()), "ocpp1.6");
}

TEST_F(WireTest, RejectNewAnswers409OnlyAfterAuth) {
  ServerOptions so;
  so.duplicate_identity = DuplicateIdentity::reject_new;
  auto server = make_server(so);
  server->auth(basic_auth([](std::string_view) -> std::optional<std::string> { return std::string("right-password-16"); }));
  const auto port = server->listen(0, "127.0.0.1");
  ClientOptions o;
  o.password = "right-password-16";
  auto first = make_client(port, "CP001", {"ocpp1.6"}, o);
  get(first->connect(asio::use_future));
  const std::string offer = "Sec-WebSocket-Protocol: ocpp1.6\r\n";
  EXPECT_EQ(raw_http(port, upgrade_request("/ocpp/CP001", offer)), "HTTP/1.1 401 Unauthorized")
      << "no password: nothing about who is connected";
  EXPECT_EQ(raw_http(port, upgrade_request("/ocpp/CP001", offer + "Authorization: " +
                                                             basic_auth_header("CP001", "right-password-16") + "\r\n")),
            "HTTP/1.1 409 Conflict");
  EXPECT_EQ(server->client_count(), 1u);
  EXPECT_EQ(first->state(), ConnectionState::open) << "the first connection stays";
}

TEST_F(WireTest, BasicAuthProfileOne) {
  auto server = make_server();
  server->auth(basic_auth([](std::string_view identity) -> std::optional<std::string> {
    if (identity == "CP:1") return std::string("pass:word-16bytes");
    return std::nullopt;
  }));
  std::promise<std::string> accepted;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { accepted.set_value(c->identity()); });
  const auto port = server->listen(0, "127.0.0.1");
  const std::string offer = "Sec-WebSocket-Protocol: ocpp1.6\r\n";
  auto status = [&](const std::string& target, const std::string& authorization) {
    return raw_http(port, upgrade_request(target, offer + (authorization.empty() ? "" : "Authorization: " + authorization + "\r\n")));
  };
  EXPECT_EQ(status("/ocpp/CP%3A1", ""), "HTTP/1.1 401 Unauthorized") << "no header";
  EXPECT_EQ(status("/ocpp/CP%3A1", basic_auth_header("CP:1", "wrong")), "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(status("/ocpp/CP%3A1", basic_auth_header("CP:2", "pass:word-16bytes")), "HTTP/1.1 401 Unauthorized")
      << "another username";
  EXPECT_EQ(status("/ocpp/CP%3A1", "Basic %%%"), "HTTP/1.1 401 Unauthorized") << "malformed";
  EXPECT_EQ(status("/ocpp/CP9", basic_auth_header("CP9", "anything")), "HTTP/1.1 401 Unauthorized")
      << "unknown station";

  // The 401 asks for Basic credentials.
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(upgrade_request("/ocpp/CP%3A1", offer)));
  std::string response;
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(response), ec);
  EXPECT_NE(response.find("WWW-Authenticate: Basic realm=\"OCPP\""), std::string::npos) << response;

  ClientOptions o;
  o.password = "pass:word-16bytes";
  auto client = make_client(port, "CP:1", {"ocpp1.6"}, o);
  get(client->connect(asio::use_future));
  EXPECT_EQ(get(accepted.get_future()), "CP:1");
}

// Upgrades in flight when close() begins are dropped without an answer, and their callbacks learn
// nothing more (no on_client). B connects first, so the server has accepted it by the time A's
// middleware runs (one acceptor, in order).
TEST_F(WireTest, UpgradesInFlightWhenCloseBeginsAreDroppedWithoutAnAnswer) {
  auto server = make_server();
  std::promise<void> a_in_middleware;
  std::shared_ptr<ConnectionContext> held;
  server->use([&](std::shared_ptr<ConnectionContext> ctx) {
    held = std::move(ctx);
    a_in_middleware.set_value();
  });
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  asio::ip::tcp::socket b(io);
  b.connect({asio::ip::make_address("127.0.0.1"), port});
  const std::string request = upgrade_request("/ocpp/CPB", "Sec-WebSocket-Protocol: ocpp1.6\r\n");
  asio::write(b, asio::buffer(request.substr(0, 20)));
  auto a = make_client(port, "CPA");
  auto a_connected = a->connect(asio::use_future);
  get(a_in_middleware.get_future());
  auto closed = server->close(CloseOptions{}, asio::use_future);
  asio::write(b, asio::buffer(request.substr(20)));
  std::string response;
  boost::system::error_code ec;
  asio::read(b, asio::dynamic_buffer(response), ec);
  EXPECT_EQ(response, "") << "B's request was still being read";
  get(closed);  // after the upgrades were ended: one executor, in order
  EXPECT_TRUE(held->aborted()) << "A's middleware was pending";
  on_pool([&] { held->reject(503, "bye"); });
  EXPECT_THROW(get(a_connected), ConnectError);
}
