// The server's bound on connections still in their handshake: per server, per TCP peer address,
// trusted proxies exempt from the latter, and a table that holds only addresses in flight.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ocpp/server/server.hpp"
#include "server/handshake_limiter.hpp"

using ocpp::detail::HandshakeLimiter;
using Outcome = HandshakeLimiter::Outcome;

TEST(HandshakeLimiter, AnAddressOverItsBoundIsRefusedWhileOthersGetIn) {
  HandshakeLimiter limiter(100, 2);
  EXPECT_EQ(limiter.acquire("10.0.0.1", true), Outcome::admitted);
  EXPECT_EQ(limiter.acquire("10.0.0.1", true), Outcome::admitted);
  EXPECT_EQ(limiter.acquire("10.0.0.1", true), Outcome::address_full);
  EXPECT_EQ(limiter.acquire("10.0.0.2", true), Outcome::admitted);
  EXPECT_EQ(limiter.in_flight(), 3u) << "a refusal holds nothing";
  limiter.release("10.0.0.1", true);
  EXPECT_EQ(limiter.acquire("10.0.0.1", true), Outcome::admitted) << "a finished handshake frees its place";
}

TEST(HandshakeLimiter, TheServerBoundCountsEveryAddressAndTrustedProxies) {
  HandshakeLimiter limiter(3, 2);
  EXPECT_EQ(limiter.acquire("10.0.0.1", true), Outcome::admitted);
  EXPECT_EQ(limiter.acquire("10.0.0.2", true), Outcome::admitted);
  EXPECT_EQ(limiter.acquire("10.0.0.9", false), Outcome::admitted);
  EXPECT_EQ(limiter.acquire("10.0.0.3", true), Outcome::server_full);
  EXPECT_EQ(limiter.acquire("10.0.0.9", false), Outcome::server_full);
  limiter.release("10.0.0.9", false);
  EXPECT_EQ(limiter.acquire("10.0.0.3", true), Outcome::admitted);
}

TEST(HandshakeLimiter, TrustedProxiesAreExemptFromThePerAddressBound) {
  HandshakeLimiter limiter(0, 2);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(limiter.acquire("10.0.0.9", false), Outcome::admitted) << i;
  EXPECT_EQ(limiter.in_flight(), 50u);
  EXPECT_EQ(limiter.tracked_addresses(), 0u);
  EXPECT_EQ(limiter.acquire("10.0.0.9", true), Outcome::admitted) << "the same address as a station is counted";
  EXPECT_EQ(limiter.acquire("10.0.0.9", true), Outcome::admitted);
  EXPECT_EQ(limiter.acquire("10.0.0.9", true), Outcome::address_full);
}

TEST(HandshakeLimiter, ZeroMeansNoBound) {
  HandshakeLimiter limiter(0, 0);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.acquire("10.0.0.1", true), Outcome::admitted);
  EXPECT_EQ(limiter.tracked_addresses(), 0u) << "no table without a per-address bound";
  for (int i = 0; i < 1000; ++i) limiter.release("10.0.0.1", true);
  EXPECT_EQ(limiter.in_flight(), 0u);
}

TEST(HandshakeLimiter, AddressesAreForgottenWhenTheirLastHandshakeEnds) {
  HandshakeLimiter limiter(0, 4);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(limiter.acquire("10.1." + std::to_string(i), true), Outcome::admitted);
  EXPECT_EQ(limiter.tracked_addresses(), 500u);
  for (int i = 0; i < 500; ++i) limiter.release("10.1." + std::to_string(i), true);
  EXPECT_EQ(limiter.tracked_addresses(), 0u);
  EXPECT_EQ(limiter.in_flight(), 0u);
}

TEST(HandshakeLimiter, ConcurrentAcquiresNeverOvershoot) {
  HandshakeLimiter limiter(64, 8);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i)
        if (limiter.acquire("10.0.0." + std::to_string((t * 200 + i) % 16), true) == Outcome::admitted) ++admitted;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 64) << "16 addresses x 8 fill the server's 64 exactly";
  EXPECT_EQ(limiter.in_flight(), 64u);
}

// A reconnect storm of a thousand TLS stations fits; one host (or the stations behind one NAT)
// gets a quarter of it.
TEST(HandshakeLimiter, ByDefaultTheServerAdmits1000HandshakesAndOneAddress256) {
  const ocpp::ServerOptions o;
  HandshakeLimiter limiter(o.max_handshakes, o.max_handshakes_per_address);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(limiter.acquire("10.0.0.1", true), Outcome::admitted) << i;
  EXPECT_EQ(limiter.acquire("10.0.0.1", true), Outcome::address_full);
  for (int i = 0; i < 744; ++i)
    ASSERT_EQ(limiter.acquire("10.0.1." + std::to_string(i % 250), true), Outcome::admitted) << i;
  EXPECT_EQ(limiter.acquire("10.0.2.1", true), Outcome::server_full);
}
