// Half-open and slow peers: connections that never finish their handshake (silent TCP, a request
// header trickled byte by byte, a TLS handshake that stalls) hold only their bounded share of
// handshake slots, are dropped at handshake_timeout, and never keep live stations out.
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/beast/core/buffers_to_string.hpp>

#include "raw_station.hpp"
#include "support/capturing_logger.hpp"
#include "support/cert_dir.hpp"
#include "wire_fixture.hpp"

namespace ocpp_test {
namespace {
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Certs : CertDir {
  Certs() : CertDir("ocpp-half-open-test") { issue("server", server(tls::KeyType::ecdsa_p256)); }
};
const Certs& certs() {
  static Certs dir;
  return dir;
}

// The first bytes of a TLS 1.2 ClientHello record announcing 512 bytes, of which only these come.
const std::string kPartialClientHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);

// Polls `done` until it holds or `limit` passes: for counters without an event to wait on.
template <class F>
bool eventually(F done, milliseconds limit = milliseconds(10000)) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

tcp::socket connect_from(asio::io_context& io, const std::string& source, std::uint16_t port) {
  tcp::socket s(io);
  s.open(tcp::v4());
  s.bind({asio::ip::make_address(source), 0});
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  return s;
}

// True when the server closes `s` (EOF or reset) within `limit`, without having sent anything.
bool closed_within(tcp::socket& s, milliseconds limit) {
  pollfd p{s.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return false;
  char c;
  return ::recv(s.native_handle(), &c, 1, MSG_DONTWAIT) <= 0;
}

// Bad peers on their own I/O thread; each notes when the server closed it.
class BadPeers {
 public:
  enum class Kind { silent, slowloris, silent_tls, partial_tls };
  static constexpr Kind kKinds[] = {Kind::silent, Kind::slowloris, Kind::silent_tls, Kind::partial_tls};

  explicit BadPeers(milliseconds trickle_interval) : interval_(trickle_interval) {}
  ~BadPeers() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Connected from `source` before this returns; plain kinds to `plain`, TLS kinds to `tls`.
  void add(Kind kind, const std::string& source, std::uint16_t plain, std::uint16_t tls) {
    const bool to_tls = kind == Kind::silent_tls || kind == Kind::partial_tls;
    const auto before = Clock::now();  // the server accepts after it, however late we see the connect
    auto peer = std::make_shared<Peer>(connect_from(io_, source, to_tls ? tls : plain), io_);
    peer->kind = kind;
    peer->connected = before;
    {
      std::lock_guard lock(m_);
      peers_.push_back(peer);
    }
    asio::post(io_, [this, peer] { start(peer); });
  }
  void run() {
    thread_ = std::thread([this] {
      auto work = asio::make_work_guard(io_);
      io_.run();
    });
  }
  std::size_t size() const {
    std::lock_guard lock(m_);
    return peers_.size();
  }
  std::size_t closed() const {
    std::lock_guard lock(m_);
    return closed_;
  }
  bool wait_all_closed(milliseconds limit) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, limit, [&] { return closed_ == peers_.size(); });
  }
  // The shortest time from a connect to the server's close, and the fewest bytes a slowloris
  // peer trickled before it; once every peer is closed.
  milliseconds shortest_life() const {
    std::lock_guard lock(m_);
    auto shortest = Clock::duration::max();
    for (const auto& p : peers_) shortest = std::min(shortest, p->closed_at - p->connected);
    return std::chrono::duration_cast<milliseconds>(shortest);
  }
  std::size_t fewest_trickled() const {
    std::lock_guard lock(m_);
    std::size_t fewest = SIZE_MAX;
    for (const auto& p : peers_)
      if (p->kind == Kind::slowloris) fewest = std::min(fewest, p->trickled);
    return fewest;
  }
  // Every peer closes its own socket: their handshakes end.
  void hang_up(std::size_t n) {
    std::promise<void> done;
    asio::post(io_, [&] {
      std::lock_guard lock(m_);
      for (std::size_t i = 0; i < n && i < peers_.size(); ++i) {
        boost::system::error_code ignored;
        peers_[i]->socket.close(ignored);
      }
      done.set_value();
    });
    get(done.get_future());
  }

 private:
  struct Peer {
    Peer(tcp::socket s, asio::io_context& io) : socket(std::move(s)), timer(io) {}
    tcp::socket socket;
    asio::steady_timer timer;
    Kind kind = Kind::silent;
    Clock::time_point connected, closed_at;
    std::size_t trickled = 0;
    bool closed = false;
    char in[64];
  };

  void start(const std::shared_ptr<Peer>& peer) {
    if (peer->kind == Kind::partial_tls) asio::write(peer->socket, asio::buffer(kPartialClientHello));
    if (peer->kind == Kind::slowloris) {
      // A header that never ends: each byte is a valid one, and 8 KB take minutes at this pace.
      asio::write(peer->socket, asio::buffer(std::string("GET /ocpp/SLOW HTTP/1.1\r\nX-Slow: ")));
      trickle(peer);
    }
    read(peer);
  }
  void trickle(const std::shared_ptr<Peer>& peer) {
    peer->timer.expires_after(interval_);
    peer->timer.async_wait([this, peer](boost::system::error_code ec) {
      if (ec || peer->closed) return;
      boost::system::error_code write_ec;
      if (asio::write(peer->socket, asio::buffer("a", 1), write_ec) == 1) ++peer->trickled;
      trickle(peer);
    });
  }
  void read(const std::shared_ptr<Peer>& peer) {
    peer->socket.async_read_some(asio::buffer(peer->in), [this, peer](boost::system::error_code ec, std::size_t) {
      if (!ec) return read(peer);  // a TLS alert, say: not the close yet
      peer->closed = true;
      peer->timer.cancel();
      std::lock_guard lock(m_);
      peer->closed_at = Clock::now();
      ++closed_;
      cv_.notify_all();
    });
  }

  const milliseconds interval_;
  asio::io_context io_;
  std::thread thread_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Peer>> peers_;
  std::size_t closed_ = 0;
};

std::string source(int i) { return "127.0.1." + std::to_string(i + 1); }

class HalfOpenTest : public WireTest {
 protected:
  // A plain and a TLS (profile 2) listener, with /metrics.
  std::unique_ptr<Server> start(ServerOptions o) {
    o.health_endpoint = true;
    o.logger = logger_;
    auto server = std::make_unique<Server>(pool.executor(), o);
    server->handle("Heartbeat", heartbeat);
    ListenOptions lo;
    lo.host = "127.0.0.1";
    plain_ = server->listen(lo);
    lo.profile = SecurityProfile::tls_basic_auth;
    lo.tls.certificates.push_back({certs().cert("server"), certs().key("server"), ""});
    tls_ = server->listen(lo);
    return server;
  }
  // `count` stations from 127.0.0.1 connect and each completes a call.
  void live_stations_complete_calls(int count) {
    std::vector<std::shared_ptr<Client>> clients;
    for (int i = 0; i < count; ++i) clients.push_back(make_client(plain_, "LIVE" + std::to_string(i)));
    for (auto& c : clients) get(c->connect(asio::use_future));
    for (auto& c : clients)
      EXPECT_EQ(get(c->call("Heartbeat", json::object(), asio::use_future)).as_object().at("currentTime"),
                "2026-01-01T00:00:00Z");
    for (auto& c : clients) get(c->close(CloseOptions{}, asio::use_future));
  }
  // A raw station from `source` upgrades and completes a call.
  void station_from_completes_a_call(const std::string& from) {
    asio::io_context io;
    auto ws = raw_station(io, plain_, "FROM-" + from, "ocpp1.6",
                          [&](RawStation& s) { s.next_layer().bind({asio::ip::make_address(from), 0}); });
    ws->write(asio::buffer(std::string(R"([2,"1","Heartbeat",{}])")));
    boost::beast::flat_buffer answer;
    ws->read(answer);
    EXPECT_NE(boost::beast::buffers_to_string(answer.data()).find("currentTime"), std::string::npos);
  }
  std::string http_get_from(const std::string& from, const std::string& path) {
    asio::io_context io;
    auto s = connect_from(io, from, plain_);
    asio::write(s, asio::buffer("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string response;
    boost::system::error_code ec;
    asio::read(s, asio::dynamic_buffer(response), ec);
    return response;
  }
  static double refused(const Server& server, const std::string& reason) {
    const auto text = server.metrics()->prometheus();
    const std::string key = "ocpp_handshakes_refused_total{reason=\"" + reason + "\"} ";
    const auto at = text.find(key);
    return at == std::string::npos ? 0 : std::stod(text.substr(at + key.size()));
  }

  std::shared_ptr<CapturingLogger> logger_ = std::make_shared<CapturingLogger>();
  std::uint16_t plain_ = 0, tls_ = 0;
};

TEST_F(HalfOpenTest, BadPeersHoldOnlyTheirSlotsWhileLiveStationsConnectAndCall) {
  ServerOptions o;
  o.max_handshakes_per_address = 8;  // handshake_timeout stays 30 s: nothing is dropped meanwhile
  auto server = start(o);
  BadPeers bad(milliseconds(20));
  bad.run();
  for (int a = 0; a < 40; ++a)
    for (int i = 0; i < 8; ++i) bad.add(BadPeers::kKinds[a % 4], source(a), plain_, tls_);
  ASSERT_TRUE(eventually([&] { return server->metrics()->handshakes_in_flight() == 320; }))
      << server->metrics()->handshakes_in_flight();

  // Over the per-address bound: closed at once, on the plain and on the TLS listener.
  asio::io_context io;
  auto ninth = connect_from(io, source(0), plain_);
  EXPECT_TRUE(closed_within(ninth, milliseconds(3000))) << "the 9th connection of a full address";
  auto ninth_tls = connect_from(io, source(2), tls_);
  EXPECT_TRUE(closed_within(ninth_tls, milliseconds(3000)));
  EXPECT_TRUE(eventually([&] { return refused(*server, "max_handshakes_per_address") == 2; }));
  EXPECT_EQ(logger_->count(LogLevel::warn, "max_handshakes_per_address reached"), 1u)
      << "one line for refusals within a second";

  // Other addresses get in meanwhile.
  station_from_completes_a_call("127.0.0.2");
  live_stations_complete_calls(10);

  const auto scrape = http_get_from("127.0.0.3", "/metrics");
  EXPECT_NE(scrape.find("\nocpp_handshakes_in_flight 321\n"), std::string::npos) << "320 and the scrape itself";
  EXPECT_EQ(bad.closed(), 0u) << "no bad peer was dropped before handshake_timeout";
  // The scrape's own handshake ends just after its answer is written.
  EXPECT_TRUE(eventually([&] { return server->metrics()->handshakes_in_flight() == 320; }));
}

TEST_F(HalfOpenTest, OverMaxHandshakesEveryAddressIsRefusedUntilOneEnds) {
  ServerOptions o;
  o.max_handshakes = 20;
  auto server = start(o);
  BadPeers bad(milliseconds(20));
  bad.run();
  for (int i = 0; i < 20; ++i) bad.add(BadPeers::Kind::silent, source(i % 2), plain_, tls_);
  ASSERT_TRUE(eventually([&] { return server->metrics()->handshakes_in_flight() == 20; }));

  asio::io_context io;
  for (int i = 0; i < 5; ++i) {
    auto extra = connect_from(io, "127.0.0." + std::to_string(2 + i), plain_);
    EXPECT_TRUE(closed_within(extra, milliseconds(3000))) << i;
  }
  EXPECT_TRUE(eventually([&] { return refused(*server, "max_handshakes") == 5; }));
  EXPECT_EQ(logger_->count(LogLevel::warn, "max_handshakes reached"), 1u);

  bad.hang_up(3);  // their handshakes end, their places are free again
  ASSERT_TRUE(eventually([&] { return server->metrics()->handshakes_in_flight() == 17; }));
  live_stations_complete_calls(3);
}

TEST_F(HalfOpenTest, TrustedProxiesAreExemptFromThePerAddressBound) {
  ServerOptions o;
  o.max_handshakes_per_address = 4;
  o.trusted_proxies = {"127.0.0.3"};
  auto server = start(o);
  BadPeers bad(milliseconds(20));
  bad.run();
  for (int i = 0; i < 12; ++i) bad.add(BadPeers::Kind::silent, "127.0.0.3", plain_, tls_);
  for (int i = 0; i < 4; ++i) bad.add(BadPeers::Kind::silent, "127.0.0.4", plain_, tls_);
  ASSERT_TRUE(eventually([&] { return server->metrics()->handshakes_in_flight() == 16; }));
  asio::io_context io;
  auto fifth = connect_from(io, "127.0.0.4", plain_);
  EXPECT_TRUE(closed_within(fifth, milliseconds(3000))) << "an untrusted address has its bound";
  EXPECT_TRUE(eventually([&] { return refused(*server, "max_handshakes_per_address") == 1; }));
  EXPECT_EQ(bad.closed(), 0u);
}

TEST_F(HalfOpenTest, SilentSlowlorisAndStalledTlsPeersAreDroppedAtHandshakeTimeoutAndFreeTheirSlots) {
  ServerOptions o;
  o.handshake_timeout = milliseconds(500);
  o.max_handshakes_per_address = 16;
  auto server = start(o);
  BadPeers bad(milliseconds(10));  // far more often than the timeout: trickling must not extend it
  bad.run();
  for (int a = 0; a < 20; ++a)  // 16 each: every address full
    for (int i = 0; i < 16; ++i) bad.add(BadPeers::kKinds[(a + i) % 4], source(a), plain_, tls_);
  // The last address's peers connected just now; plain ones, so that its 17th connection is
  // accepted after them (two listeners accept in no particular order).
  for (int i = 0; i < 16; ++i) bad.add(BadPeers::kKinds[i % 2], source(20), plain_, tls_);
  asio::io_context io;
  auto seventeenth = connect_from(io, source(20), plain_);
  EXPECT_TRUE(eventually([&] { return refused(*server, "max_handshakes_per_address") == 1; }));
  live_stations_complete_calls(5);  // beside them

  ASSERT_TRUE(bad.wait_all_closed(milliseconds(15000))) << bad.closed() << " of " << bad.size() << " dropped";
  EXPECT_GE(bad.shortest_life(), o.handshake_timeout) << "dropped by the timeout, not before";
  EXPECT_GE(bad.fewest_trickled(), 5u) << "every slowloris peer kept sending until it was dropped";
  EXPECT_TRUE(eventually([&] { return server->metrics()->handshakes_in_flight() == 0; }))
      << server->metrics()->handshakes_in_flight();
  station_from_completes_a_call(source(20));  // its address has its places back
  EXPECT_EQ(refused(*server, "max_handshakes_per_address"), 1);
  EXPECT_EQ(refused(*server, "max_handshakes"), 0);
}

}  // namespace
}  // namespace ocpp_test
