// The server's limit on new connections per remote address: bounded memory, and a refused address
// stays refused while floods of others come and go.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "server/connection_rate_limiter.hpp"

using ocpp::detail::ConnectionRateLimiter;
using namespace std::chrono_literals;
using TimePoint = ocpp::TokenBucket::TimePoint;

namespace {
const TimePoint t0 = TimePoint{} + 1000h;
}  // namespace

TEST(ConnectionRateLimiter, AddressesAreLimitedIndependently) {
  TimePoint now = t0;
  ConnectionRateLimiter limiter({2, 1000ms}, 100, [&] { return now; });
  EXPECT_TRUE(limiter.allow("10.0.0.1"));
  EXPECT_TRUE(limiter.allow("10.0.0.1"));
  EXPECT_FALSE(limiter.allow("10.0.0.1"));
  EXPECT_TRUE(limiter.allow("10.0.0.2"));
  EXPECT_TRUE(limiter.allow("10.0.0.2"));
  EXPECT_FALSE(limiter.allow("10.0.0.2"));
  EXPECT_EQ(limiter.tracked(), 2u);
  now += 500ms;
  EXPECT_TRUE(limiter.allow("10.0.0.1"));
  EXPECT_FALSE(limiter.allow("10.0.0.1"));
}

TEST(ConnectionRateLimiter, UnlimitedTracksNothing) {
  ConnectionRateLimiter limiter({0, 1000ms}, 10, [] { return t0; });
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.allow("10.0.0." + std::to_string(i)));
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(ConnectionRateLimiter, AddressesWhoseBucketIsFullAgainAreForgotten) {
  TimePoint now = t0;
  ConnectionRateLimiter limiter({1, 1000ms}, 100, [&] { return now; });
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(limiter.allow("10.0.0." + std::to_string(i)));
  EXPECT_EQ(limiter.tracked(), 50u);
  now += 1s;
  EXPECT_TRUE(limiter.allow("10.0.1.1"));
  EXPECT_EQ(limiter.tracked(), 1u);
}

TEST(ConnectionRateLimiter, BoundedWhileARefusedAddressStaysRefused) {
  constexpr std::size_t max = 100;
  TimePoint now = t0;
  ConnectionRateLimiter limiter({5, 60000ms}, max, [&] { return now; });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.allow("attacker"));
  ASSERT_FALSE(limiter.allow("attacker"));
  // 3 x max addresses that connect once each, within the 12 s the attacker needs for its next token:
  // the table stays bounded by forgetting those that owe least, and the attacker, who owes nearly a
  // whole window and never tries meanwhile, is never among them.
  for (std::size_t i = 0; i < 3 * max; ++i) {
    now += 30ms;
    ASSERT_TRUE(limiter.allow("10.1." + std::to_string(i)));
    ASSERT_LE(limiter.tracked(), max);
  }
  EXPECT_EQ(limiter.tracked(), max);
  EXPECT_FALSE(limiter.allow("attacker"));
  // Its refill is due a window after its fifth connection, like any tracked address's.
  now = t0 + 12s - 1ns;
  EXPECT_FALSE(limiter.allow("attacker"));
  now = t0 + 12s;
  EXPECT_TRUE(limiter.allow("attacker"));
  EXPECT_FALSE(limiter.allow("attacker"));
}

TEST(ConnectionRateLimiter, WhenAllOweTheSameTheOldestIsForgotten) {
  TimePoint now = t0;
  ConnectionRateLimiter limiter({1, 1000ms}, 3, [&] { return now; });
  EXPECT_TRUE(limiter.allow("a"));
  EXPECT_TRUE(limiter.allow("b"));
  EXPECT_TRUE(limiter.allow("c"));
  EXPECT_TRUE(limiter.allow("d"));  // forgets a
  EXPECT_EQ(limiter.tracked(), 3u);
  EXPECT_FALSE(limiter.allow("b"));
  EXPECT_FALSE(limiter.allow("c"));
  EXPECT_FALSE(limiter.allow("d"));
  EXPECT_TRUE(limiter.allow("a"));  // forgotten, so allowed again; forgets b
  EXPECT_TRUE(limiter.allow("b"));
}

TEST(ConnectionRateLimiter, ZeroMaxTrackedStillTracksOne) {
  TimePoint now = t0;
  ConnectionRateLimiter limiter({1, 1000ms}, 0, [&] { return now; });
  EXPECT_TRUE(limiter.allow("a"));
  EXPECT_FALSE(limiter.allow("a"));
  EXPECT_EQ(limiter.tracked(), 1u);
}

TEST(ConnectionRateLimiter, ConcurrentCallersKeepTheBound) {
  ConnectionRateLimiter limiter({3, 1000ms}, 64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&limiter, t] {
      for (int i = 0; i < 5000; ++i) {
        limiter.allow("10.2." + std::to_string((i * 13 + t) % 500));
        if (i % 50 == 0) {
          EXPECT_LE(limiter.tracked(), 64u);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(limiter.tracked(), 64u);
}
