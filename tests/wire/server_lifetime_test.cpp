// What a Server leaves behind when it is closed or destroyed: no connection, no upgrade in flight,
// and no user callback that runs afterwards (meaningful under ASan: the callbacks below write into
// an object the test frees right after ~Server). And how many upgrades in flight it lets in.
#include <atomic>
#include <condition_variable>

#include "support/cert_dir.hpp"
#include "wire_fixture.hpp"

namespace ocpp_test {
namespace {

// Set once ~Server has returned; a callback that sees it counts itself late.
std::atomic<bool> server_gone{false};
std::atomic<int> late_callbacks{0};

// What the server's callbacks write into; the test frees it right after ~Server.
struct Probe {
  std::mutex m;
  std::condition_variable changed;
  int clients = 0, station_calls = 0, server_handlers = 0, auth_pending = 0, events = 0;
  std::vector<Responder> held;                         // inbound CALLs the server never answers
  std::vector<std::shared_ptr<AuthContext>> auth;      // upgrades whose auth never decides

  void note(int Probe::*counter) {
    if (server_gone) ++late_callbacks;
    std::lock_guard lock(m);
    ++(this->*counter);
    changed.notify_all();
  }
  template <class Pred>
  void wait(Pred pred) {
    std::unique_lock lock(m);
    if (!changed.wait_for(lock, std::chrono::seconds(10), [&] { return pred(*this); }))
      throw std::runtime_error("timed out waiting");
  }
};

struct Certs : CertDir {
  Certs() : CertDir("ocpp-lifetime-test") { issue("server", server(tls::KeyType::ecdsa_p256)); }
};

class ServerLifetimeTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto* p : {&server_pool, &station_pool}) {
      p->stop();
      p->join();
    }
  }
  IoPool server_pool{2};
  IoPool station_pool{1};
};

TEST_F(ServerLifetimeTest, DestroyingAServerClosesEverythingAndRunsNoCallbackAfterwards) {
  constexpr int kStations = 6;
  server_gone = false;
  late_callbacks = 0;
  Certs certs;
  auto probe = std::make_unique<Probe>();
  Probe* p = probe.get();
  server_pool.start();
  station_pool.start();

  ServerOptions o;
  o.logger = null_logger();
  o.protocols = {"ocpp1.6"};
  o.handshake_timeout = std::chrono::seconds(30);  // the upgrades below are still in flight at ~Server
  auto server = std::make_unique<Server>(server_pool.executors(), o);
  server->handle("Heartbeat", [p](CallContext&) -> HandlerResult {
    p->note(&Probe::server_handlers);
    return json::object{};
  });
  server->handle("Authorize", [p](CallContext&, Responder r) {  // never answered
    p->note(&Probe::server_handlers);
    std::lock_guard lock(p->m);
    p->held.push_back(std::move(r));
  });
  server->route("/slow/:identity").auth([p](std::shared_ptr<AuthContext> ctx) {  // never decides
    {
      std::lock_guard lock(p->m);
      p->auth.push_back(std::move(ctx));
    }
    p->note(&Probe::auth_pending);
  });
  server->route("/ocpp/:identity");
  server->on_security_event([p](const SecurityEvent&) { p->note(&Probe::events); });
  server->on_upgrade_aborted([p](const UpgradeAbortedEvent&) { p->note(&Probe::events); });
  server->on_upgrade_error([p](const UpgradeErrorEvent&) { p->note(&Probe::events); });
  server->on_client([p](const std::shared_ptr<ServerClient>& c) {
    c->on_message([p](const MessageEvent&) { p->note(&Probe::events); });
    c->on_close([p](const CloseResult&) { p->note(&Probe::events); });
    p->note(&Probe::clients);
  });
  const auto port = server->listen(0, "127.0.0.1");
  ListenOptions tls_listen;
  tls_listen.host = "127.0.0.1";
  tls_listen.profile = SecurityProfile::tls_basic_auth;
  tls_listen.tls.certificates = {{certs.cert("server"), certs.key("server"), ""}};
  const auto tls_port = server->listen(tls_listen);

  // Live stations, each with a pending call in both directions.
  std::vector<std::shared_ptr<Client>> stations;
  std::vector<std::future<CloseResult>> station_closed;
  std::atomic<int> station_handlers{0};
  std::mutex station_m;
  std::vector<Responder> station_kept;  // the CSMS's calls the stations never answer
  for (int i = 0; i < kStations; ++i) {
    ClientOptions co;
    co.endpoint = "ws://127.0.0.1:" + std::to_string(port) + "/ocpp";
    co.identity = "CP" + std::to_string(i);
    co.protocols = {"ocpp1.6"};
    co.logger = null_logger();
    co.reconnect = false;
    auto station = Client::create(station_pool.executor(), co);
    auto closed = std::make_shared<std::promise<CloseResult>>();
    station_closed.push_back(closed->get_future());
    station->on_close([closed](const CloseResult& r) { closed->set_value(r); });
    station->handle("GetConfiguration", [&](CallContext&, Responder r) {
      std::lock_guard lock(station_m);
      station_kept.push_back(std::move(r));
      ++station_handlers;
    });
    get(station->connect(asio::use_future));
    station->call("Heartbeat", json::object{}, [](std::exception_ptr, json::value) {});
    station->call("Authorize", json::object{{"idTag", "T"}}, [](std::exception_ptr, json::value) {});
    stations.push_back(std::move(station));
  }
  p->wait([](Probe& q) { return q.clients == kStations && q.server_handlers == 2 * kStations; });
  for (auto& c : server->clients())
    server->send_to_client(c->identity(), "GetConfiguration", json::object{}, CallOptions{},
                           [p](std::exception_ptr, json::value) { p->note(&Probe::station_calls); });
  while (station_handlers < kStations) std::this_thread::yield();

  // Upgrades in flight: a silent TCP connection, a request trickled halfway, an auth callback that
  // never decides, and a TLS handshake that never starts.
  asio::io_context raw;
  std::vector<asio::ip::tcp::socket> in_flight;
  auto open = [&](std::uint16_t to) -> asio::ip::tcp::socket& {
    auto& s = in_flight.emplace_back(raw);
    s.connect({asio::ip::make_address("127.0.0.1"), to});
    return s;
  };
  open(port);
  asio::write(open(port), asio::buffer(std::string("GET /ocpp/HALF HTTP/1.1\r\nHost: x\r\n")));
  asio::write(open(port), asio::buffer(upgrade_request("/slow/SLOW", "Sec-WebSocket-Protocol: ocpp1.6\r\n")));
  open(tls_port);
  p->wait([](Probe& q) { return q.auth_pending == 1; });

  server.reset();
  server_gone = true;
  probe.reset();  // a callback that still ran would write into freed memory

  for (auto& closed : station_closed)
    EXPECT_EQ(get(std::move(closed)).code, close_code::going_away) << "every station is closed";
  for (auto& s : in_flight) {
    char c;
    boost::system::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  }
  // Whatever the pools still run (closing handshakes, cancelled timers) must not reach the user.
  for (auto* pool : {&server_pool, &station_pool}) {
    pool->stop();
    pool->join();
  }
  EXPECT_EQ(late_callbacks, 0);
}

// 1,000 upgrades in flight at once (all held in the auth callback) against max_connections = 100:
// the cap counts upgrades admitted and not yet registered, so only 100 reach auth and the rest get
// 503 at once; none of the others is upgraded once auth accepts the held ones.
TEST_F(WireTest, ThousandSimultaneousUpgradesAgainstMaxConnectionsAdmitAtMostTheCap) {
  constexpr int kUpgrades = 1000;
  constexpr std::size_t kCap = 100;
  ServerOptions o;
  o.max_connections = kCap;
  o.protocols = {"ocpp1.6"};
  o.max_handshakes = 0;  // all from one address, all at once: only max_connections may refuse here
  o.max_handshakes_per_address = 0;
  auto server = make_server(o);
  std::mutex m;
  std::condition_variable changed;
  std::vector<std::shared_ptr<AuthContext>> held;
  int refused = 0;
  server->auth([&](std::shared_ptr<AuthContext> ctx) {
    std::lock_guard lock(m);
    held.push_back(std::move(ctx));
    changed.notify_all();
  });
  server->on_security_event([&](const SecurityEvent& e) {
    std::lock_guard lock(m);
    if (e.type == SecurityEventType::connection_limit) ++refused;
    changed.notify_all();
  });
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  std::vector<asio::ip::tcp::socket> sockets;
  sockets.reserve(kUpgrades);
  for (int i = 0; i < kUpgrades; ++i) {
    auto& s = sockets.emplace_back(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(upgrade_request("/ocpp/CP" + std::to_string(i), "Sec-WebSocket-Protocol: ocpp1.6\r\n")));
  }
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(20), [&] {
      return held.size() + static_cast<std::size_t>(refused) == kUpgrades;
    })) << held.size() << " held, " << refused << " refused";
    EXPECT_EQ(held.size(), kCap) << "upgrades in flight count against the cap";
  }
  on_pool([&] {
    for (auto& ctx : held) ctx->accept();
  });
  std::size_t upgraded = 0, unavailable = 0;
  for (auto& s : sockets) {
    std::string response;
    boost::system::error_code ec;
    asio::read_until(s, asio::dynamic_buffer(response), "\r\n", ec);
    const auto status = response.substr(0, response.find("\r\n"));
    if (status == "HTTP/1.1 101 Switching Protocols") ++upgraded;
    if (status == "HTTP/1.1 503 Service Unavailable") ++unavailable;
  }
  EXPECT_EQ(upgraded, kCap);
  EXPECT_EQ(unavailable, kUpgrades - kCap);
}

}  // namespace
}  // namespace ocpp_test
