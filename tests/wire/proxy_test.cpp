// Behind a load balancer, over real loopback sockets: trusted proxies' Forwarded / X-Forwarded-For
// name the station (its address drives the per-address limit and the security events), untrusted
// peers cannot spoof it, and PROXY protocol listeners read v1 and v2 headers before HTTP.
#include <chrono>
#include <condition_variable>
#include <deque>

#include "wire_fixture.hpp"

namespace ocpp_test {
namespace {

const std::string kOffer = "Sec-WebSocket-Protocol: ocpp1.6\r\n";

// Bytes from a chosen loopback source (127.0.0.2 is a different peer than 127.0.0.1); the status
// line of the answer, empty when the server closed without one.
// Several pieces are written one by one, each as its own segment (no Nagle delay).
std::string talk(std::uint16_t port, const std::vector<std::string>& pieces, const std::string& source = "127.0.0.1") {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.open(asio::ip::tcp::v4());
  s.set_option(asio::ip::tcp::no_delay(true));
  s.bind({asio::ip::make_address(source), 0});
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  for (const auto& bytes : pieces) asio::write(s, asio::buffer(bytes));
  std::string response;
  boost::system::error_code ec;
  asio::read_until(s, asio::dynamic_buffer(response), "\r\n\r\n", ec);
  return response.substr(0, response.find("\r\n"));
}
std::string talk(std::uint16_t port, const std::string& bytes, const std::string& source = "127.0.0.1") {
  return talk(port, std::vector<std::string>{bytes}, source);
}

// With a NOOP TLV to be skipped, and with `client_ssl` a PP2_TYPE_SSL TLV saying the client used TLS.
std::string proxy_v2_tcp4(std::array<unsigned char, 4> source, bool client_ssl = false) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += "\x21\x11";  // version 2, PROXY; TCP over IPv4
  std::string tlv("\x04\x00\x02xy", 5);
  if (client_ssl) tlv += std::string("\x20\x00\x05\x01\0\0\0\0", 8);
  h += '\0';
  h += static_cast<char>(12 + tlv.size());
  for (auto b : source) h += static_cast<char>(b);
  h += std::string("\x7f\x00\x00\x01\x13\x88\x01\xbb", 8);  // destination, ports
  return h + tlv;
}

class ProxyTest : public WireTest {
 protected:
  std::unique_ptr<Server> server(ServerOptions so) {
    auto s = make_server(std::move(so));
    s->on_client([this](const std::shared_ptr<ServerClient>& c) {
      std::lock_guard lock(m_);
      handshakes_.push_back(c->handshake());
      cv_.notify_all();
    });
    s->on_security_event([this](const SecurityEvent& e) {
      std::lock_guard lock(m_);
      events_.push_back(e);
      cv_.notify_all();
    });
    return s;
  }
  HandshakeInfo next_handshake() { return next(handshakes_, "no connection"); }
  SecurityEvent next_event() { return next(events_, "no security event"); }
  template <class T>
  T next(std::deque<T>& queue, const char* missing) {
    std::unique_lock lock(m_);
    if (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return !queue.empty(); }))
      throw std::runtime_error(missing);
    auto item = std::move(queue.front());
    queue.pop_front();
    return item;
  }
  // One new connection per address per minute, on a clock that does not move.
  ServerOptions one_connection_per_address() {
    ServerOptions so;
    so.clock = clock_.clock();
    so.connection_rate_limit = RateLimit{1, milliseconds(60000)};
    return so;
  }
  std::uint16_t listen(Server& s, bool proxy_protocol = false) {
    ListenOptions lo;
    lo.host = "127.0.0.1";
    lo.proxy_protocol = proxy_protocol;
    return s.listen(lo);
  }

  ManualClock clock_{std::chrono::steady_clock::time_point{} + std::chrono::hours(1)};
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<HandshakeInfo> handshakes_;
  std::deque<SecurityEvent> events_;
};

TEST_F(ProxyTest, TrustedProxyXForwardedForIsTheRemoteAddressAndDrivesThePerAddressLimit) {
  auto so = one_connection_per_address();
  so.trusted_proxies = {"127.0.0.0/30"};
  auto s = server(so);
  const auto port = listen(*s);
  // The station prepended a lie; the balancer appended what it saw.
  const auto via_proxy = [](const std::string& who) {
    return kOffer + "X-Forwarded-For: 6.6.6.6, " + who + "\r\nX-Forwarded-Proto: https\r\n";
  };
  EXPECT_EQ(talk(port, upgrade_request("/ocpp/CP1", via_proxy("203.0.113.5"))), "HTTP/1.1 101 Switching Protocols");
  auto h = next_handshake();
  EXPECT_EQ(h.remote_address, "203.0.113.5");
  EXPECT_EQ(h.peer_address, "127.0.0.1");
  EXPECT_TRUE(h.secure);
  // The same station again through the same balancer: its own bucket is empty...
  EXPECT_EQ(talk(port, upgrade_request("/ocpp/CP2", via_proxy("203.0.113.5"))), "HTTP/1.1 429 Too Many Requests");
  auto e = next_event();
  EXPECT_EQ(e.type, SecurityEventType::connection_rate_limit);
  EXPECT_EQ(e.ip, "203.0.113.5");
  // ... while another station behind it is not limited by the first one's connections.
  EXPECT_EQ(talk(port, upgrade_request("/ocpp/CP3", via_proxy("203.0.113.6"))), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(next_handshake().remote_address, "203.0.113.6");
}

TEST_F(ProxyTest, TrustedProxyForwardedHeaderGivesIpv6AddressAndScheme) {
  ServerOptions so;
  so.trusted_proxies = {"127.0.0.1"};
  auto s = server(so);
  const auto port = listen(*s);
  const auto extra = kOffer + "Forwarded: for=\"[2001:db8:cafe::17]:4711\";proto=https, for=127.0.0.1;proto=http\r\n";
  EXPECT_EQ(talk(port, upgrade_request("/ocpp/CP1", extra)), "HTTP/1.1 101 Switching Protocols");
  auto h = next_handshake();
  EXPECT_EQ(h.remote_address, "2001:db8:cafe::17");
  EXPECT_TRUE(h.secure);
}

TEST_F(ProxyTest, UntrustedPeerCannotSpoofItsAddressWithForwardingHeaders) {
  auto so = one_connection_per_address();
  so.trusted_proxies = {"127.0.0.2"};  // the balancer; 127.0.0.1 is a station connecting directly
  auto s = server(so);
  const auto port = listen(*s);
  const auto spoof = [](const std::string& who) {
    return kOffer + "X-Forwarded-For: " + who + "\r\nForwarded: for=" + who + ";proto=https\r\n";
  };
  EXPECT_EQ(talk(port, upgrade_request("/ocpp/CP1", spoof("203.0.113.1"))), "HTTP/1.1 101 Switching Protocols");
  auto h = next_handshake();
  EXPECT_EQ(h.remote_address, "127.0.0.1");
  EXPECT_FALSE(h.secure);
  // A fresh made-up address per attempt does not get it a fresh bucket.
  EXPECT_EQ(talk(port, upgrade_request("/ocpp/CP2", spoof("203.0.113.2"))), "HTTP/1.1 429 Too Many Requests");
  EXPECT_EQ(next_event().ip, "127.0.0.1");
  // The same headers from the trusted balancer are believed.
  EXPECT_EQ(talk(port, upgrade_request("/ocpp/CP3", spoof("203.0.113.3")), "127.0.0.2"),
            "HTTP/1.1 101 Switching Protocols");
  h = next_handshake();
  EXPECT_EQ(h.remote_address, "203.0.113.3");
  EXPECT_EQ(h.peer_address, "127.0.0.2");
}

TEST_F(ProxyTest, AnUnusableTrustedProxyEntryFailsTheServerConstruction) {
  ServerOptions so;
  so.trusted_proxies = {"10.0.0.0/8", "10.0.0.0/33"};
  EXPECT_THROW(Server(pool.executor(), so), std::invalid_argument);
}

TEST_F(ProxyTest, WithoutTrustedProxiesForwardingHeadersAreIgnored) {
  auto s = server({});
  const auto port = listen(*s);
  EXPECT_EQ(talk(port, upgrade_request("/ocpp/CP1", kOffer + "X-Forwarded-For: 203.0.113.1\r\n")),
            "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(next_handshake().remote_address, "127.0.0.1");
}

TEST_F(ProxyTest, ProxyV1ListenerTakesTheStationAddressFromTheHeader) {
  auto s = server(one_connection_per_address());
  const auto port = listen(*s, true);
  const auto v1 = [&](const std::string& who) {
    return "PROXY TCP4 " + who + " 127.0.0.1 40000 " + std::to_string(port) + "\r\n";
  };
  EXPECT_EQ(talk(port, v1("192.0.2.10") + upgrade_request("/ocpp/CP1", kOffer)), "HTTP/1.1 101 Switching Protocols");
  auto h = next_handshake();
  EXPECT_EQ(h.remote_address, "192.0.2.10");
  EXPECT_EQ(h.peer_address, "127.0.0.1");
  EXPECT_EQ(talk(port, v1("192.0.2.10") + upgrade_request("/ocpp/CP2", kOffer)), "HTTP/1.1 429 Too Many Requests");
  EXPECT_EQ(next_event().ip, "192.0.2.10");
  EXPECT_EQ(talk(port, v1("192.0.2.11") + upgrade_request("/ocpp/CP3", kOffer)), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(next_handshake().remote_address, "192.0.2.11");
  // Trickled in pieces, the header is still read whole and the request after it intact.
  const auto header = v1("192.0.2.12");
  const std::vector<std::string> pieces{header.substr(0, 3), header.substr(3, 17), header.substr(20),
                                       upgrade_request("/ocpp/CP4", kOffer)};
  EXPECT_EQ(talk(port, pieces), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(next_handshake().remote_address, "192.0.2.12");
}

TEST_F(ProxyTest, ProxyV2ListenerTakesTheStationAddressAndSchemeAndSkipsOtherTlvs) {
  auto s = server({});
  const auto port = listen(*s, true);
  EXPECT_EQ(talk(port, proxy_v2_tcp4({198, 51, 100, 9}) + upgrade_request("/ocpp/CP1", kOffer)),
            "HTTP/1.1 101 Switching Protocols");
  auto h = next_handshake();
  EXPECT_EQ(h.remote_address, "198.51.100.9");
  EXPECT_FALSE(h.secure);
  EXPECT_EQ(talk(port, proxy_v2_tcp4({198, 51, 100, 10}, true) + upgrade_request("/ocpp/CP2", kOffer)),
            "HTTP/1.1 101 Switching Protocols");
  h = next_handshake();
  EXPECT_EQ(h.remote_address, "198.51.100.10");
  EXPECT_TRUE(h.secure) << "the balancer terminated the station's TLS";
}

TEST_F(ProxyTest, ProxyHeaderFromAPeerOutsideTrustedProxiesIsIgnored) {
  ServerOptions so;
  so.trusted_proxies = {"127.0.0.2"};
  auto s = server(so);
  const auto port = listen(*s, true);
  const std::string v1 = "PROXY TCP4 192.0.2.10 127.0.0.1 40000 443\r\n";
  EXPECT_EQ(talk(port, v1 + upgrade_request("/ocpp/CP1", kOffer)), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(next_handshake().remote_address, "127.0.0.1");
  EXPECT_EQ(talk(port, v1 + upgrade_request("/ocpp/CP2", kOffer), "127.0.0.2"), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(next_handshake().remote_address, "192.0.2.10");
}

TEST_F(ProxyTest, ProxyListenerClosesAConnectionThatDoesNotStartWithTheHeader) {
  auto s = server({});  // handshake_timeout 30 s: the close must not wait for it
  const auto port = listen(*s, true);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(talk(port, upgrade_request("/ocpp/CP1", kOffer)), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  std::lock_guard lock(m_);
  EXPECT_TRUE(handshakes_.empty());
}

TEST_F(ProxyTest, TruncatedProxyHeaderIsDroppedAtHandshakeTimeout) {
  ServerOptions so;
  so.handshake_timeout = milliseconds(300);
  auto s = server(so);
  const auto port = listen(*s, true);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(talk(port, "PROXY TCP4 192.0.2.10 127.0"), "");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(5));
  // The listener still serves the next balancer connection.
  EXPECT_EQ(talk(port, proxy_v2_tcp4({198, 51, 100, 9}) + upgrade_request("/ocpp/CP1", kOffer)),
            "HTTP/1.1 101 Switching Protocols");
}

}  // namespace
}  // namespace ocpp_test
