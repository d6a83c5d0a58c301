// Client and server over real sockets on loopback.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include <fcntl.h>

#include <filesystem>
#include <map>

#include "raw_station.hpp"
#include "support/capturing_logger.hpp"
#include "wire_fixture.hpp"

using namespace ocpp_test;
namespace beast = boost::beast;

TEST_F(WireTest, CallsInBothDirections) {
  auto server = make_server();
  server->handle("Heartbeat", heartbeat);
  std::promise<std::shared_ptr<ServerClient>> accepted;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { accepted.set_value(c); });
  const auto port = server->listen(0, "127.0.0.1");

  auto client = make_client(port, "RDAM|123", {"ocpp1.6", "ocpp2.0.1"});
  client->handle("GetConfiguration", [](CallContext& ctx) -> HandlerResult {
    return json::object{{"configurationKey", json::array()}, {"asked", ctx.params.at("key")}};
  });
  get(client->connect(asio::use_future));
  EXPECT_EQ(client->protocol(), "ocpp2.0.1") << "the server's preference among the offered protocols";

  auto sc = get(accepted.get_future());
  EXPECT_EQ(sc->identity(), "RDAM|123");
  EXPECT_EQ(sc->protocol(), "ocpp2.0.1");
  EXPECT_EQ(sc->handshake().path, "/ocpp/RDAM%7C123");
  EXPECT_EQ(server->get_client("RDAM|123"), sc);

  auto result = get(client->call("Heartbeat", json::object(), asio::use_future));
  EXPECT_EQ(result.at("currentTime"), "2026-01-01T00:00:00Z");
  auto back = get(sc->call("GetConfiguration", json::object{{"key", json::array{"X"}}}, asio::use_future));
  EXPECT_EQ(back.at("asked"), json::array{"X"});
  try {
    get(client->call("Unknown", json::object(), asio::use_future));
    FAIL() << "expected NotImplemented";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotImplemented);
  }
}

TEST_F(WireTest, ACoroutineConnectsCallsAndAwaitsItsCloseWithUseAwaitable) {
  auto server = make_server();
  server->handle("Heartbeat", heartbeat);
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port, "CORO");
  std::promise<CloseResult> closed;
  asio::co_spawn(
      pool.executor(),
      [&]() -> asio::awaitable<void> {
        co_await client->connect(asio::use_awaitable);
        co_await client->call("Heartbeat", json::object(), asio::use_awaitable);
        // Not close({}, ...): g++ 12 miscompiles a braced temporary argument inside a coroutine.
        CloseOptions options;
        closed.set_value(co_await client->close(std::move(options), asio::use_awaitable));
      },
      [&](std::exception_ptr e) {
        if (e) closed.set_exception(e);
      });
  EXPECT_EQ(get(closed.get_future()).code, 1000);
}

TEST_F(WireTest, NoCommonSubprotocolClosesAfterTheUpgradeAsTheSpecSays) {
  ServerOptions o;
  o.protocols = {"ocpp2.0.1"};
  auto server = make_server(o);
  int clients = 0;
  server->on_client([&](const std::shared_ptr<ServerClient>&) { ++clients; });
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port, "CP1", {"ocpp1.6"});
  try {
    get(client->connect(asio::use_future));
    FAIL() << "expected ConnectError";
  } catch (const ConnectError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_NE(std::string(e.what()).find("no subprotocol"), std::string::npos) << e.what();
  }
  EXPECT_EQ(clients, 0);
}

TEST_F(WireTest, AnUpgradeWithoutAnySubprotocolHeaderGets400OcppSubprotocolRequired) {
  auto server = make_server();
  int clients = 0;
  server->on_client([&](const std::shared_ptr<ServerClient>&) { ++clients; });
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(upgrade_request("/ocpp/CP1")));
  std::string response;
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(response), ec);
  EXPECT_EQ(response.substr(0, response.find("\r\n")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(response.substr(response.find("\r\n\r\n") + 4), "OCPP subprotocol required");
  EXPECT_EQ(clients, 0);
}

TEST_F(WireTest, NoCommonSubprotocolUpgradesWithoutNamingOneThenCloses1002) {
  ServerOptions o;
  o.protocols = {"ocpp2.0.1"};
  auto server = make_server(o);
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  boost::beast::websocket::response_type answer;
  auto ws = raw_station(io, port, "CP1", "ocpp1.6", [](RawStation&) {}, &answer);
  EXPECT_EQ(answer.result_int(), 101u);
  EXPECT_EQ(answer.count(boost::beast::http::field::sec_websocket_protocol), 0u);
  boost::beast::flat_buffer buffer;
  boost::system::error_code ec;
  ws->read(buffer, ec);
  EXPECT_EQ(ec, boost::beast::websocket::error::closed);
  EXPECT_EQ(ws->reason().code, boost::beast::websocket::close_code::protocol_error);
}

TEST_F(WireTest, LegacyStationsWithoutASubprotocolHeaderCanBeAdmittedUnderANamedProtocol) {
  ServerOptions o;
  o.protocol_when_absent = "ocpp1.6";
  auto server = make_server(o);
  server->handle("Heartbeat", heartbeat);
  std::promise<std::string> protocol;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { protocol.set_value(c->protocol()); });
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  RawStation ws(io);
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  boost::beast::websocket::response_type answer;
  ws.handshake(answer, "127.0.0.1", "/ocpp/LEGACY");  // no Sec-WebSocket-Protocol at all
  EXPECT_EQ(answer.count(boost::beast::http::field::sec_websocket_protocol), 0u)
      << "RFC 6455: the answer names no protocol the client did not offer";
  EXPECT_EQ(get(protocol.get_future()), "ocpp1.6");
  ws.write(asio::buffer(std::string(R"([2,"1","Heartbeat",{}])")));
  boost::beast::flat_buffer buffer;
  ws.read(buffer);
  EXPECT_EQ(boost::beast::buffers_to_string(buffer.data()).substr(0, 8), R"([3,"1",{)");
}

TEST_F(WireTest, NoCommonSubprotocolCanBeRefusedWith400) {
  ServerOptions o;
  o.protocols = {"ocpp2.0.1"};
  o.protocol_mismatch = ProtocolMismatch::http_400;
  auto server = make_server(o);
  const auto port = server->listen(0, "127.0.0.1");
  try {
    get(make_client(port, "CP1", {"ocpp1.6"})->connect(asio::use_future));
    FAIL();
  } catch (const ConnectError& e) {
    EXPECT_EQ(e.http_status(), 400u);
  }
}

TEST_F(WireTest, HandshakeGatesAnswerWithHttpStatuses) {
  auto server = make_server();
  const auto port = server->listen(0, "127.0.0.1");
  EXPECT_EQ(raw_http(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(raw_http(port, "GET /CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw_http(port, upgrade_request("/", "Sec-WebSocket-Protocol: ocpp1.6\r\n")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw_http(port, upgrade_request("/CP1", "Sec-WebSocket-Protocol: ocpp1.6,,ocpp2.0.1\r\n")),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw_http(port, upgrade_request("/CP1", "Sec-WebSocket-Protocol: ocpp1.6\r\n")),
            "HTTP/1.1 101 Switching Protocols");
}

TEST_F(WireTest, SocketsAreNotInheritedByChildProcesses) {
  auto server = make_server();
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port);
  get(client->connect(asio::use_future));
  int sockets = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(entry.path(), ec).string();
    if (ec || target.rfind("socket:", 0) != 0) continue;
    const int fd = std::stoi(entry.path().filename().string());
    ++sockets;
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC) << "fd " << fd;
  }
  EXPECT_GE(sockets, 3) << "listener, server side and client side";
}

TEST_F(WireTest, SlowHandshakeIsDropped) {
  ServerOptions o;
  o.handshake_timeout = milliseconds(100);
  auto server = make_server(o);
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(std::string("GET /CP1 HTTP/1.1\r\n")));  // and then nothing
  const auto t0 = std::chrono::steady_clock::now();
  char c;
  boost::system::error_code ec;
  s.read_some(asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec) << "the server closes the socket";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(WireTest, OversizedMessageClosesWith1009) {
  ServerOptions o;
  o.max_frame_bytes = 1024;
  auto server = make_server(o);
  server->handle("DataTransfer", [](CallContext&) -> HandlerResult { return json::object{{"status", "Accepted"}}; });
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port);
  std::promise<CloseResult> closed;
  client->on_close([&](const CloseResult& r) { closed.set_value(r); });
  get(client->connect(asio::use_future));
  // At the limit is fine, one byte over is not.
  std::string fits(1024 - std::string(R"([2,"","DataTransfer",{"data":""}])").size() - 36, 'x');
  CallOptions id;
  id.message_id = std::string(36, 'a');
  get(client->call("DataTransfer", json::object{{"data", fits}}, id, asio::use_future));
  auto big = client->call("DataTransfer", json::object{{"data", fits + "x"}}, asio::use_future);
  EXPECT_THROW(get(std::move(big)), ConnectionError);
  EXPECT_EQ(get(closed.get_future()).code, close_code::too_big);
}

namespace {
// The server side of the first `count` stations that connect, by identity.
class AcceptedStations {
 public:
  AcceptedStations(Server& server, std::size_t count) {
    server.on_client([this, count](const std::shared_ptr<ServerClient>& c) {
      std::lock_guard lock(m_);
      stations_[c->identity()] = c;
      if (stations_.size() == count) all_.set_value();
    });
  }
  void wait() { get(all_.get_future()); }
  std::shared_ptr<ServerClient> at(const std::string& identity) {
    std::lock_guard lock(m_);
    return stations_.at(identity);
  }

 private:
  std::mutex m_;
  std::map<std::string, std::shared_ptr<ServerClient>> stations_;
  std::promise<void> all_;
};
}  // namespace

// Stations that stop reading fill their sockets: writes then end partway through a frame and go
// on when the station reads again, while the other station's frames are joined in the same
// per-thread scratch. 8 MB per station is more than the kernel holds for a 4 KB receive buffer;
// every frame arrives whole, in order, on its own connection. The 8 MB are queued at once, so the
// send queue's bound is raised above them (the default, 4 MiB, would close both stations).
TEST_F(WireTest, FramesQueuedBehindStalledReadersArriveWholeAndInOrder) {
  ServerOptions o;
  o.max_send_queue_bytes = 16 * 1024 * 1024;
  auto server = make_server(o);
  AcceptedStations accepted(*server, 2);
  const auto port = server->listen(0, "127.0.0.1");

  asio::io_context io;
  std::vector<std::unique_ptr<RawStation>> stations;
  for (const char* identity : {"CP1", "CP2"}) {
    stations.push_back(raw_station(io, port, identity, "ocpp2.1", [](RawStation& ws) {
      ws.next_layer().set_option(asio::socket_base::receive_buffer_size(4096));
      ws.read_message_max(0);
    }));
  }
  accepted.wait();

  constexpr int kFrames = 2000;
  const std::string pads[] = {std::string(4000, 'a'), std::string(4000, 'b')};
  on_pool([&] {
    for (int i = 0; i < kFrames; ++i)
      for (int s = 0; s < 2; ++s)
        accepted.at(s == 0 ? "CP1" : "CP2")->send("NotifyPeriodicEventStream",
                                               json::object{{"seq", i}, {"pad", pads[s]}}, asio::detached);
  });
  for (int s = 0; s < 2; ++s) {
    for (int i = 0; i < kFrames; ++i) {
      beast::flat_buffer frame;
      stations[s]->read(frame);
      const auto v = json::parse(beast::buffers_to_string(frame.data())).as_array();
      ASSERT_EQ(v.at(0), 6);
      ASSERT_EQ(v.at(2), "NotifyPeriodicEventStream");
      ASSERT_EQ(v.at(3).at("seq"), i);
      ASSERT_EQ(v.at(3).at("pad").as_string(), pads[s]);
    }
  }
}

namespace {

// SENDs of 16 KB to a station that does not read, one at a time so that the writes go on between
// them, until one does not fit the send queue. Returns how many fitted, and the refusal.
std::pair<int, std::exception_ptr> send_until_refused(ServerClient& station) {
  const json::object payload{{"pad", std::string(16 * 1024, 'x')}};
  for (int sent = 0; sent < 10000; ++sent) {  // 160 MB: far above what any socket holds
    std::promise<std::exception_ptr> done;
    station.send("NotifyPeriodicEventStream", payload, [&](std::exception_ptr e) { done.set_value(e); });
    if (auto refused = get(done.get_future())) return {sent, refused};
  }
  return {10000, nullptr};
}

// A gauge or counter without labels from /metrics' text.
double metric(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

// A station whose receive buffer is small: it stops reading at once.
std::unique_ptr<RawStation> stalled_station(asio::io_context& io, std::uint16_t port, const std::string& identity) {
  return raw_station(io, port, identity, "ocpp2.1", [](RawStation& ws) {
    ws.next_layer().set_option(asio::socket_base::receive_buffer_size(4096));
    ws.read_message_max(0);
  });
}

}  // namespace

// A station that stops reading fills the kernel's buffers, then the server's send queue: the frame
// that does not fit max_send_queue_bytes fails with SendQueueFullError, the event fires once,
// /metrics shows the queued bytes and the overflow, and the connection is closed with the
// configured code once close_timeout has passed (the station never reads the close frame).
TEST_F(WireTest, AStationThatStopsReadingIsClosedWithTheConfiguredCodeWhenItsSendQueueIsFull) {
  ServerOptions o;
  o.max_send_queue_bytes = 256 * 1024;
  o.send_queue_overflow = SendQueueOverflow::policy_violation;
  o.close_timeout = milliseconds(1500);
  o.health_endpoint = true;
  auto server = make_server(o);
  std::promise<std::shared_ptr<ServerClient>> accepted;
  std::atomic<int> overflows{0};
  std::promise<CloseResult> closed;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) {
    c->on_send_queue_overflow([&](const SendQueueOverflowEvent& e) {
      EXPECT_EQ(e.close_code, close_code::policy_violation);
      EXPECT_EQ(e.limit, 256u * 1024);
      EXPECT_GT(e.queued_bytes + e.frame_bytes, e.limit);
      ++overflows;
    });
    c->on_close([&](const CloseResult& r) { closed.set_value(r); });
    accepted.set_value(c);
  });
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  auto ws = stalled_station(io, port, "CP1");
  auto station = get(accepted.get_future());

  const auto [fitted, refused] = send_until_refused(*station);
  ASSERT_TRUE(refused) << "the queue never filled";
  EXPECT_GT(fitted, 16) << "more than the bound alone holds: the kernel took its share first";
  try {
    std::rethrow_exception(refused);
  } catch (const SendQueueFullError& e) {
    EXPECT_EQ(e.close_code(), close_code::policy_violation);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not SendQueueFullError: " << e.what();
  }
  EXPECT_EQ(overflows, 1);
  const auto during = server->metrics()->prometheus();
  EXPECT_GT(metric(during, "ocpp_send_queue_bytes"), 0);
  EXPECT_LE(metric(during, "ocpp_send_queue_bytes"), 256 * 1024);
  EXPECT_EQ(metric(during, "ocpp_send_queue_overflows_total"), 1);

  EXPECT_EQ(get(closed.get_future()).code, close_code::policy_violation);
  EXPECT_EQ(overflows, 1) << "once per connection";
  const auto after = server->metrics()->prometheus();
  EXPECT_EQ(metric(after, "ocpp_send_queue_bytes"), 0) << "the closed connection's queue is gone";
  EXPECT_EQ(metric(after, "ocpp_send_queue_overflows_total"), 1);
}

// The same station reading again after the overflow gets every frame that fitted, then the close
// frame with the configured code (the default, 1013).
TEST_F(WireTest, AStationThatReadsAgainAfterTheOverflowGetsItsFramesAndThenClose1013) {
  ServerOptions o;
  o.max_send_queue_bytes = 256 * 1024;
  auto server = make_server(o);
  std::promise<std::shared_ptr<ServerClient>> accepted;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { accepted.set_value(c); });
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  auto ws = stalled_station(io, port, "CP1");
  auto station = get(accepted.get_future());

  const auto [fitted, refused] = send_until_refused(*station);
  ASSERT_TRUE(refused);
  int frames = 0;
  boost::system::error_code ec;
  for (;;) {
    beast::flat_buffer frame;
    ws->read(frame, ec);
    if (ec) break;
    ++frames;
  }
  EXPECT_EQ(ec, beast::websocket::error::closed) << ec.message();
  EXPECT_EQ(frames, fitted);
  EXPECT_EQ(ws->reason().code, close_code::try_again_later);
  EXPECT_EQ(std::string(ws->reason().reason.c_str()), "Send queue full");
}

// Fail fast: while the full station's close is under way, a call to it fails at once with
// SendQueueFullError instead of waiting for its timeout, and a broadcast reports it as failed
// while the other station answers.
TEST_F(WireTest, SendToClientAndBroadcastToAStationWithAFullSendQueueFailAtOnceWhileOthersStillReceive) {
  ServerOptions o;
  o.max_send_queue_bytes = 256 * 1024;
  o.close_timeout = milliseconds(5000);  // the full station stays registered meanwhile
  auto server = make_server(o);
  AcceptedStations accepted(*server, 2);
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  auto ws = stalled_station(io, port, "FULL");
  auto other = make_client(port, "OTHER", {"ocpp2.1"});
  other->handle("Reset", [](CallContext&) -> HandlerResult { return json::object{{"status", "Accepted"}}; });
  get(other->connect(asio::use_future));
  accepted.wait();
  ASSERT_TRUE(send_until_refused(*accepted.at("FULL")).second);

  const auto t0 = std::chrono::steady_clock::now();
  const json::object reset{{"type", "Immediate"}};
  EXPECT_THROW(get(server->send_to_client("FULL", "Reset", reset, {}, asio::use_future)), SendQueueFullError);
  auto result = get(server->broadcast("Reset", reset, {}, asio::use_future));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << "neither waited for a timeout";
  EXPECT_EQ(result.delivered, std::vector<std::string>{"OTHER"});
  ASSERT_EQ(result.failed.size(), 1u);
  EXPECT_EQ(result.failed[0].first, "FULL");
  EXPECT_EQ(result.failed[0].second.rfind("Send queue full", 0), 0u) << result.failed[0].second;
  EXPECT_EQ(get(server->send_to_client("OTHER", "Reset", reset, {}, asio::use_future)).at("status"), "Accepted");
}

// A station that ignores our close frame (and never closes TCP) is dropped after close_timeout;
// the close completes with our code, and the station still finds the close frame, then EOF.
TEST_F(WireTest, APeerThatNeverAnswersTheCloseIsDroppedAfterCloseTimeout) {
  ServerOptions so;
  so.close_timeout = milliseconds(200);
  auto server = make_server(so);
  std::promise<std::shared_ptr<ServerClient>> accepted;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { accepted.set_value(c); });
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  auto ws = raw_station(io, port);
  auto station = get(accepted.get_future());

  const auto result = get(station->close(CloseOptions{close_code::normal, "bye", false, false}, asio::use_future));
  EXPECT_EQ(result.code, close_code::normal);
  std::string received;
  boost::system::error_code ec;
  asio::read(ws->next_layer(), asio::dynamic_buffer(received), ec);  // the raw bytes, up to EOF
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
  ASSERT_GE(received.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(received[0]), 0x88) << "a close frame";
}

// The station closes first (a close frame) but then keeps its TCP side open: after answering, the
// server waits close_timeout for the station's FIN, then drops the socket and reports the close.
TEST_F(WireTest, APeerThatClosesButKeepsTcpOpenIsDroppedAfterCloseTimeout) {
  ServerOptions so;
  so.close_timeout = milliseconds(200);
  auto server = make_server(so);
  std::promise<CloseResult> closed;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) {
    c->on_close([&](const CloseResult& r) { closed.set_value(r); });
  });
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  auto ws = raw_station(io, port);
  // A masked close frame with status 1000 (mask 0: the payload goes as is), written raw so the
  // station's side of TCP stays open.
  const unsigned char close_frame[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
  asio::write(ws->next_layer(), asio::buffer(close_frame));
  EXPECT_EQ(get(closed.get_future()).code, close_code::normal);
  std::string received;
  boost::system::error_code ec;
  asio::read(ws->next_layer(), asio::dynamic_buffer(received), ec);
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
}

TEST_F(WireTest, ReconnectKeepsTheProtocolAndQueuesCalls) {
  auto server = make_server();
  std::atomic<int> connections{0};
  std::vector<std::string> protocols;
  std::vector<int> heartbeats_on;  // the connection number each Heartbeat arrived on
  std::mutex m;
  server->handle("Heartbeat", [&](CallContext& ctx) -> HandlerResult {
    {
      std::lock_guard lock(m);
      heartbeats_on.push_back(connections);
    }
    return heartbeat(ctx);
  });
  server->on_client([&](const std::shared_ptr<ServerClient>& c) {
    std::lock_guard lock(m);
    protocols.push_back(c->protocol());
    ++connections;
  });
  const auto port = server->listen(0, "127.0.0.1");
  ClientOptions o;
  o.reconnect = true;
  o.backoff_min = milliseconds(20);
  o.backoff_max = milliseconds(50);
  auto client = make_client(port, "CP9", {"ocpp2.1", "ocpp1.6"}, o);
  std::promise<void> reopened;
  std::atomic<int> opens{0};
  std::atomic<int> disconnects{0}, reconnects{0}, finals{0};
  std::future<json::value> queued;
  std::promise<void> queued_made;
  client->on_open([&] {
    if (++opens == 2) reopened.set_value();
  });
  client->on_disconnect([&](const CloseResult&) { ++disconnects; });
  client->on_reconnect([&](const ReconnectEvent& e) {
    EXPECT_LE(e.delay, milliseconds(50));
    if (++reconnects != 1) return;
    // Between the connections: the call has no transport to go out on.
    EXPECT_EQ(client->state(), ConnectionState::connecting);
    queued = client->call("Heartbeat", json::object(), asio::use_future);
    queued_made.set_value();
  });
  client->on_close([&](const CloseResult&) { ++finals; });
  get(client->connect(asio::use_future));
  EXPECT_EQ(client->protocol(), "ocpp2.1");

  server->get_client("CP9")->close(CloseOptions{1012, "restart", false, false});
  get(queued_made.get_future());
  get(reopened.get_future());
  EXPECT_EQ(get(std::move(queued)).at("currentTime"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(client->protocol(), "ocpp2.1");
  EXPECT_EQ(disconnects, 1);
  EXPECT_GE(reconnects, 1);
  EXPECT_EQ(finals, 0) << "close fires only when final";
  {
    std::lock_guard lock(m);
    EXPECT_EQ(protocols, (std::vector<std::string>{"ocpp2.1", "ocpp2.1"}));
    EXPECT_EQ(heartbeats_on, std::vector<int>{2}) << "the queued call went out on the new connection";
  }
  get(client->close(CloseOptions{}, asio::use_future));
  EXPECT_EQ(finals, 1);
  EXPECT_THROW(get(client->call("Heartbeat", json::object(), asio::use_future)), ConnectionError)
      << "calls made while closed fail at once";
}

namespace {
ClientOptions two_quick_reconnects() {
  ClientOptions o;
  o.reconnect = true;
  o.max_reconnects = 2;
  o.backoff_min = milliseconds(5);
  o.backoff_max = milliseconds(10);
  return o;
}
}  // namespace

TEST_F(WireTest, MaxReconnectsEndsWithAFinalClose) {
  auto server = make_server();
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port, "CP7", {"ocpp1.6"}, two_quick_reconnects());
  std::promise<CloseResult> final_close;
  std::atomic<int> reconnects{0};
  client->on_reconnect([&](const ReconnectEvent&) { ++reconnects; });
  client->on_close([&](const CloseResult& r) { final_close.set_value(r); });
  get(client->connect(asio::use_future));
  std::promise<void> closed;
  server->close(CloseOptions{1001, "bye", false, false}, [&] { closed.set_value(); });
  get(closed.get_future());
  auto r = get(final_close.get_future());
  EXPECT_EQ(reconnects, 2);
  EXPECT_EQ(r.code, close_code::going_away);
  EXPECT_NE(r.reason.find("exhausted"), std::string::npos);
}

namespace {

// A connect() and a call made from the first reconnect event, while the client is between
// connections: both must complete however the reconnecting ends.
struct MadeWhileReconnecting {
  std::future<void> connect;
  std::future<json::value> call;
  std::promise<void> made;
  void arm(const std::shared_ptr<Client>& client) {
    client->on_reconnect([this, weak = std::weak_ptr<Client>(client)](const ReconnectEvent& e) {
      auto c = weak.lock();
      if (e.attempt != 1 || !c) return;
      connect = c->connect(asio::use_future);
      call = c->call("Heartbeat", json::object(), asio::use_future);
      made.set_value();
    });
  }
};

template <class E, class F>
std::string fails_with(F&& future) {
  try {
    get(std::forward<F>(future));
  } catch (const E& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace

TEST_F(WireTest, WaitersMadeWhileReconnectingFailWhenTheReconnectsRunOut) {
  auto server = make_server();
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port, "CP7", {"ocpp1.6"}, two_quick_reconnects());
  MadeWhileReconnecting waiters;
  waiters.arm(client);
  std::promise<CloseResult> final_close;
  client->on_close([&](const CloseResult& r) { final_close.set_value(r); });
  get(client->connect(asio::use_future));
  std::promise<void> closed;
  server->close(CloseOptions{1001, "bye", false, false}, [&] { closed.set_value(); });  // and stops listening
  get(closed.get_future());
  get(waiters.made.get_future());
  EXPECT_NE(fails_with<ConnectError>(std::move(waiters.connect)).find("exhausted"), std::string::npos);
  EXPECT_NE(fails_with<ConnectionError>(std::move(waiters.call)), "<no exception>");
  EXPECT_NE(get(final_close.get_future()).reason.find("exhausted"), std::string::npos);
  EXPECT_EQ(client->state(), ConnectionState::closed);
}

TEST_F(WireTest, WaitersMadeWhileReconnectingFailOnANonRetryableRefusal) {
  // A CSMS that accepts ocpp1.6 once, then drops it: the second upgrade names no subprotocol,
  // which retrying cannot change.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::jthread csms([&] {  // joined however the test ends
    for (int i = 0; i < 2; ++i) {
      beast::websocket::stream<asio::ip::tcp::socket> ws(io);
      acceptor.accept(ws.next_layer());
      if (i == 0)
        ws.set_option(beast::websocket::stream_base::decorator(
            [](beast::websocket::response_type& r) { r.set(beast::http::field::sec_websocket_protocol, "ocpp1.6"); }));
      boost::system::error_code ec;
      ws.accept(ec);
      if (i == 0 && !ec) ws.close(beast::websocket::close_reason(1012), ec);
      beast::flat_buffer b;
      while (!ec) ws.read(b, ec);  // until the client has gone
    }
  });
  ClientOptions o;
  o.reconnect = true;
  o.backoff_min = milliseconds(5);
  o.backoff_max = milliseconds(10);
  auto client = make_client(acceptor.local_endpoint().port(), "CP8", {"ocpp1.6"}, o);
  MadeWhileReconnecting waiters;
  waiters.arm(client);
  std::promise<CloseResult> final_close;
  client->on_close([&](const CloseResult& r) { final_close.set_value(r); });
  get(client->connect(asio::use_future));
  get(waiters.made.get_future());
  EXPECT_NE(fails_with<ConnectError>(std::move(waiters.connect)).find("no subprotocol"), std::string::npos);
  EXPECT_NE(fails_with<ConnectionError>(std::move(waiters.call)), "<no exception>");
  EXPECT_NE(get(final_close.get_future()).reason.find("no subprotocol"), std::string::npos);
}

TEST_F(WireTest, WaitersMadeWhileReconnectingFailWhenCloseAborts) {
  auto server = make_server();
  const auto port = server->listen(0, "127.0.0.1");
  ClientOptions o;
  o.reconnect = true;
  o.backoff_min = milliseconds(60000);  // the reconnect timer never fires during the test
  o.backoff_max = milliseconds(60000);
  auto client = make_client(port, "CP6", {"ocpp1.6"}, o);
  MadeWhileReconnecting waiters;
  waiters.arm(client);
  get(client->connect(asio::use_future));
  server->get_client("CP6")->close(CloseOptions{1012, "restart", false, false});
  get(waiters.made.get_future());
  get(client->close(CloseOptions{}, asio::use_future));
  EXPECT_NE(fails_with<ConnectError>(std::move(waiters.connect)).find("aborted"), std::string::npos);
  EXPECT_NE(fails_with<ConnectionError>(std::move(waiters.call)), "<no exception>");
}

// Only reconnects after an unexpected close are retried: a later connect() is the caller's, as
// the first one is, and fails at once instead of retrying without end.
TEST_F(WireTest, ConnectAfterAFinalCloseIsNotRetried) {
  auto server = make_server();
  const auto port = server->listen(0, "127.0.0.1");
  ClientOptions o;
  o.reconnect = true;  // unlimited reconnects
  o.backoff_min = milliseconds(5);
  o.backoff_max = milliseconds(10);
  auto client = make_client(port, "CP5", {"ocpp1.6"}, o);
  std::atomic<int> reconnects{0};
  client->on_reconnect([&](const ReconnectEvent&) { ++reconnects; });
  get(client->connect(asio::use_future));
  get(client->close(CloseOptions{}, asio::use_future));
  std::promise<void> closed;
  server->close(CloseOptions{}, [&] { closed.set_value(); });
  get(closed.get_future());
  EXPECT_THROW(get(client->connect(asio::use_future)), ConnectError);
  EXPECT_EQ(reconnects, 0);
  EXPECT_EQ(client->state(), ConnectionState::closed);
}

TEST_F(WireTest, DuplicateIdentityEvictsTheOlderConnection) {
  auto server = make_server();
  const auto port = server->listen(0, "127.0.0.1");
  auto first = make_client(port, "DUP");
  std::promise<CloseResult> first_closed;
  first->on_close([&](const CloseResult& r) { first_closed.set_value(r); });
  get(first->connect(asio::use_future));
  auto second = make_client(port, "DUP");
  get(second->connect(asio::use_future));
  EXPECT_EQ(get(first_closed.get_future()).code, close_code::evicted);
  // The evicted socket's close must not unregister its successor.
  for (int i = 0; i < 50 && server->client_count() != 1; ++i) std::this_thread::yield();
  auto now = server->get_client("DUP");
  ASSERT_TRUE(now);
  EXPECT_EQ(now->state(), ConnectionState::open);
}

TEST_F(WireTest, ServerCloseClosesClientsAndRefusesNewOnes) {
  auto server = make_server();
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port);
  std::promise<CloseResult> closed;
  client->on_close([&](const CloseResult& r) { closed.set_value(r); });
  get(client->connect(asio::use_future));
  std::promise<void> done;
  server->close(CloseOptions{1001, "maintenance", true, false}, [&] { done.set_value(); });
  get(done.get_future());
  auto r = get(closed.get_future());
  EXPECT_EQ(r.code, 1001);
  EXPECT_EQ(r.reason, "maintenance");
  EXPECT_EQ(server->client_count(), 0u);
  EXPECT_THROW(get(make_client(port, "LATE")->connect(asio::use_future)), ConnectError);
  const auto again = server->listen(0, "127.0.0.1");
  get(make_client(again, "AGAIN")->connect(asio::use_future));
}

// Each side sends its next ping only after the pong to the last one, so a peer that sees several
// pings knows the pongs came back; the pong timeout (several intervals) never fires.
TEST_F(WireTest, PingsKeepAnIdleConnectionOpen) {
  constexpr int kPings = 5;
  // The client's pings, to a bare WebSocket peer that reads (answering pings) and counts them.
  asio::ip::tcp::acceptor acceptor(pool.executor(), {asio::ip::make_address("127.0.0.1"), 0});
  auto peer = std::make_shared<std::optional<beast::websocket::stream<beast::tcp_stream>>>();
  auto buffer = std::make_shared<beast::flat_buffer>();
  std::atomic<int> client_pings{0};
  std::promise<void> client_pinged;
  acceptor.async_accept([&, peer, buffer](boost::system::error_code ec, asio::ip::tcp::socket s) {
    if (ec) return;
    peer->emplace(std::move(s));
    (*peer)->set_option(beast::websocket::stream_base::decorator(
        [](beast::websocket::response_type& r) { r.set(beast::http::field::sec_websocket_protocol, "ocpp1.6"); }));
    (*peer)->control_callback([&](beast::websocket::frame_type kind, beast::string_view) {
      if (kind == beast::websocket::frame_type::ping && ++client_pings == kPings) client_pinged.set_value();
    });
    (*peer)->async_accept([peer, buffer](boost::system::error_code ec) {
      if (!ec) (*peer)->async_read(*buffer, [peer, buffer](boost::system::error_code, std::size_t) {});
    });
  });
  ClientOptions o;
  o.ping_interval = milliseconds(20);
  o.pong_timeout = milliseconds(1000);  // slack for a loaded machine; pings still go every 20 ms
  auto client = make_client(acceptor.local_endpoint().port(), "PING", {"ocpp1.6"}, o);
  std::atomic<bool> client_pong_timeout{false};
  client->on_pong_timeout([&] { client_pong_timeout = true; });
  get(client->connect(asio::use_future));
  get(client_pinged.get_future());
  EXPECT_FALSE(client_pong_timeout);
  EXPECT_EQ(client->state(), ConnectionState::open);
  on_pool([&] {
    boost::system::error_code ec;
    acceptor.close(ec);
    if (*peer) (*peer)->next_layer().socket().close(ec);
  });

  // The server's pings, to a bare station that reads and counts them.
  ServerOptions so;
  so.ping_interval = milliseconds(20);
  so.pong_timeout = milliseconds(1000);  // slack for a loaded machine; pings still go every 20 ms
  auto server = make_server(so);
  std::atomic<bool> server_pong_timeout{false};
  std::promise<std::shared_ptr<ServerClient>> accepted;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) {
    c->on_pong_timeout([&] { server_pong_timeout = true; });
    accepted.set_value(c);
  });
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  auto station = raw_station(io, port, "PING");
  int server_pings = 0;
  station->control_callback([&](beast::websocket::frame_type kind, beast::string_view) {
    if (kind == beast::websocket::frame_type::ping) ++server_pings;
  });
  beast::flat_buffer station_buffer;
  station->async_read(station_buffer, [](boost::system::error_code, std::size_t) {});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server_pings < kPings && std::chrono::steady_clock::now() < deadline) io.run_one_for(milliseconds(100));
  EXPECT_GE(server_pings, kPings);
  auto sc = get(accepted.get_future());
  EXPECT_FALSE(server_pong_timeout);
  EXPECT_EQ(sc->state(), ConnectionState::open);
  boost::system::error_code ec;
  station->next_layer().close(ec);
  io.run_for(milliseconds(1000));  // the cancelled read completes
}

TEST_F(WireTest, CallsMadeWhileConnectingAreQueued) {
  auto server = make_server();
  server->handle("Heartbeat", heartbeat);
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port);
  EXPECT_THROW(get(client->call("Heartbeat", json::object(), asio::use_future)), ConnectionError)
      << "not connected yet: fails at once";
  auto connected = client->connect(asio::use_future);
  auto queued = client->call("Heartbeat", json::object(), asio::use_future);  // while connecting
  get(std::move(connected));
  EXPECT_EQ(get(std::move(queued)).at("currentTime"), "2026-01-01T00:00:00Z");
}

TEST_F(WireTest, ConnectTimesOutWhenTheServerNeverAnswers) {
  asio::ip::tcp::acceptor mute(pool.executor(), {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket held(pool.executor());
  mute.async_accept(held, [](boost::system::error_code) {});  // accepts, never answers the upgrade
  ClientOptions o;
  o.connect_timeout = milliseconds(100);
  auto client = make_client(mute.local_endpoint().port(), "CP1", {"ocpp1.6"}, o);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    get(client->connect(asio::use_future));
    FAIL() << "expected a timeout";
  } catch (const ConnectError& e) {
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  on_pool([&] {
    boost::system::error_code ec;
    mute.close(ec);
    held.close(ec);
  });
}

TEST_F(WireTest, NoPongDropsTheConnectionEvenWhenItsCallbackThrows) {
  // A WebSocket peer that never reads, so it never answers pings.
  asio::ip::tcp::acceptor acceptor(pool.executor(), {asio::ip::make_address("127.0.0.1"), 0});
  auto ws = std::make_shared<std::optional<beast::websocket::stream<beast::tcp_stream>>>();
  acceptor.async_accept([ws](boost::system::error_code ec, asio::ip::tcp::socket s) {
    if (ec) return;
    ws->emplace(std::move(s));
    (*ws)->set_option(beast::websocket::stream_base::decorator(
        [](beast::websocket::response_type& r) { r.set(beast::http::field::sec_websocket_protocol, "ocpp1.6"); }));
    (*ws)->async_accept([ws](boost::system::error_code) {});
  });
  ClientOptions o;
  o.ping_interval = milliseconds(20);
  o.pong_timeout = milliseconds(60);
  auto logger = std::make_shared<CapturingLogger>();
  o.logger = logger;
  auto client = make_client(acceptor.local_endpoint().port(), "CP1", {"ocpp1.6"}, o);
  std::promise<void> pong_timeout;
  std::promise<CloseResult> closed;
  client->on_pong_timeout([&] {
    pong_timeout.set_value();
    throw std::runtime_error("pong observer down");  // logged; the connection is dropped all the same
  });
  client->on_close([&](const CloseResult& r) { closed.set_value(r); });
  get(client->connect(asio::use_future));
  get(pong_timeout.get_future());
  EXPECT_EQ(get(closed.get_future()).code, close_code::abnormal);
  EXPECT_EQ(logger->count(LogLevel::error, "on_pong_timeout callback threw: pong observer down"), 1u);
  on_pool([&acceptor, ws] {
    boost::system::error_code ec;
    acceptor.close(ec);
    ws->reset();
  });
}

TEST_F(WireTest, ThrowingDisconnectAndReconnectCallbacksLeaveTheClientReconnecting) {
  auto server = make_server();
  server->handle("Heartbeat", heartbeat);
  std::promise<std::shared_ptr<ServerClient>> first;
  std::atomic<int> connections{0};
  server->on_client([&](const std::shared_ptr<ServerClient>& c) {
    if (++connections == 1) first.set_value(c);
  });
  const auto port = server->listen(0, "127.0.0.1");
  auto logger = std::make_shared<CapturingLogger>();
  ClientOptions o;
  o.logger = logger;
  o.backoff_min = milliseconds(10);
  o.backoff_max = milliseconds(20);
  auto client = make_client(port, "CP1", {"ocpp1.6"}, o);
  std::promise<void> reopened;
  std::atomic<int> opens{0};
  client->on_disconnect([](const CloseResult&) { throw std::runtime_error("disconnect observer down"); });
  client->on_reconnect([](const ReconnectEvent&) { throw std::runtime_error("reconnect observer down"); });
  client->on_open([&] {
    if (++opens == 2) reopened.set_value();
  });
  get(client->connect(asio::use_future));
  get(first.get_future())->close();
  get(reopened.get_future());
  get(client->call("Heartbeat", json::object(), asio::use_future));
  EXPECT_EQ(logger->count(LogLevel::error, "on_disconnect callback threw: disconnect observer down"), 1u);
  EXPECT_GE(logger->count(LogLevel::error, "on_reconnect callback threw: reconnect observer down"), 1u);
  client->close();
}

TEST(WireThreads, ServerOnSeveralThreads) {
  IoPool server_pool(2), client_pool(1);
  ServerOptions so;
  so.logger = null_logger();
  Server server(server_pool.executors(), so);
  server.handle("Heartbeat", heartbeat);
  const auto port = server.listen(0, "127.0.0.1");
  server_pool.start();
  client_pool.start();
  std::vector<std::shared_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) {
    ClientOptions o;
    o.endpoint = "ws://127.0.0.1:" + std::to_string(port);
    o.identity = "T" + std::to_string(i);
    o.protocols = {"ocpp1.6"};
    o.reconnect = false;
    o.logger = null_logger();
    clients.push_back(Client::create(client_pool.executor(), o));
  }
  std::vector<std::future<void>> connects;
  for (auto& c : clients) connects.push_back(c->connect(asio::use_future));
  for (auto& f : connects) get(std::move(f));
  std::vector<std::future<json::value>> calls;
  for (int round = 0; round < 10; ++round)
    for (auto& c : clients) calls.push_back(c->call("Heartbeat", json::object(), asio::use_future));
  for (auto& f : calls) EXPECT_EQ(get(std::move(f)).at("currentTime"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(server.client_count(), 20u);
  std::promise<void> done;
  server.close(CloseOptions{}, [&] { done.set_value(); });
  get(done.get_future());
  client_pool.stop();
  server_pool.stop();
}
