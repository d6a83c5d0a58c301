#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "ocpp/engine/rate_limit.hpp"
#include "server/connection_rate_limiter.hpp"

using namespace ocpp;
using namespace std::chrono_literals;
using TimePoint = TokenBucket::TimePoint;

namespace {
// An arbitrary origin well inside the clock's range.
const TimePoint t0 = TimePoint{} + 1000h;

RateLimit per_second(double limit) { return {limit, 1000ms}; }

RateLimitOptions options(std::optional<RateLimit> global, std::unordered_map<std::string, RateLimit> per_action = {},
                         LimitAction on_exceeded = LimitAction::ignore) {
  RateLimitOptions o;
  o.global = global;
  o.per_action = std::move(per_action);
  o.on_exceeded = on_exceeded;
  return o;
}

int take_all(TokenBucket& bucket, TimePoint now) {
  int n = 0;
  while (bucket.try_take(now) && n < 1000) ++n;
  return n;
}
}  // namespace

TEST(TokenBucket, StartsFullAndAllowsABurstOfLimit) {
  TokenBucket bucket(per_second(10), t0);
  EXPECT_EQ(bucket.available(t0), 10.0);
  EXPECT_EQ(bucket.capacity(), 10.0);
  EXPECT_EQ(take_all(bucket, t0), 10);
  EXPECT_EQ(bucket.available(t0), 0.0);
  EXPECT_FALSE(bucket.try_take(t0));
}

TEST(TokenBucket, RefillIsExactAtTokenAndWindowBoundaries) {
  TokenBucket bucket(per_second(10), t0);
  ASSERT_EQ(take_all(bucket, t0), 10);
  // One token every 100 ms, not a nanosecond earlier.
  EXPECT_FALSE(bucket.try_take(t0 + 100ms - 1ns));
  EXPECT_EQ(bucket.available(t0 + 100ms), 1.0);
  EXPECT_TRUE(bucket.try_take(t0 + 100ms));
  EXPECT_FALSE(bucket.try_take(t0 + 100ms));
  // Exactly full again one window after the last take.
  EXPECT_FALSE(bucket.full(t0 + 1100ms - 1ns));
  EXPECT_TRUE(bucket.full(t0 + 1100ms));
  EXPECT_EQ(bucket.available(t0 + 1100ms), 10.0);
  EXPECT_EQ(bucket.refilled_at(), t0 + 1100ms);
  EXPECT_EQ(take_all(bucket, t0 + 1100ms), 10);
}

TEST(TokenBucket, PartialRefillAndFractionalTokens) {
  TokenBucket bucket(per_second(10), t0);
  ASSERT_EQ(take_all(bucket, t0), 10);
  EXPECT_EQ(bucket.available(t0 + 50ms), 0.5);
  EXPECT_FALSE(bucket.try_take(t0 + 50ms));
  EXPECT_TRUE(bucket.try_take(t0 + 50ms, 0.5));
  EXPECT_EQ(bucket.available(t0 + 50ms), 0.0);
  EXPECT_EQ(bucket.available(t0 + 375ms), 3.25);
  EXPECT_TRUE(bucket.try_take(t0 + 375ms, 3.25));
  EXPECT_FALSE(bucket.try_take(t0 + 375ms, 0.01));
}

TEST(TokenBucket, AFailedTakeTakesNothing) {
  TokenBucket bucket(per_second(4), t0);
  EXPECT_FALSE(bucket.try_take(t0, 5));  // more than the capacity, never
  EXPECT_TRUE(bucket.try_take(t0, 3));
  EXPECT_FALSE(bucket.try_take(t0, 2));
  EXPECT_EQ(bucket.available(t0), 1.0);
  EXPECT_TRUE(bucket.try_take(t0, 0));
  EXPECT_TRUE(bucket.try_take(t0, -1));
  EXPECT_FALSE(bucket.try_take(t0, std::nan("")));
  EXPECT_EQ(bucket.available(t0), 1.0);
}

TEST(TokenBucket, LongRunRateMatchesTheLimitWhenRefillTimesAreNotWholeTicks) {
  TokenBucket bucket(per_second(3), t0);  // a token every 333.33 ms
  int allowed = 0;
  for (auto t = t0; t < t0 + 100s; t += 1ms) allowed += bucket.try_take(t) ? 1 : 0;
  EXPECT_EQ(allowed, 3 + 300 - 1);  // the burst, then one per 333.33 ms; the 300th is due at 100 s
}

TEST(TokenBucket, LimitsBelowOneTokenStillAdmitOneMessagePerPeriod) {
  TokenBucket bucket({0.5, 1000ms}, t0);  // one every two seconds
  EXPECT_EQ(bucket.capacity(), 1.0);
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0 + 2s - 1ns));
  EXPECT_EQ(bucket.available(t0 + 1s), 0.5);
  EXPECT_TRUE(bucket.try_take(t0 + 2s));
}

TEST(TokenBucket, UnlimitedForNonPositiveNonFiniteLimitsOrEmptyWindows) {
  for (RateLimit limit : {RateLimit{0, 1000ms}, RateLimit{-5, 1000ms}, RateLimit{std::nan(""), 1000ms},
                          RateLimit{INFINITY, 1000ms}, RateLimit{10, 0ms}, RateLimit{10, -1ms}}) {
    TokenBucket bucket(limit, t0);
    EXPECT_TRUE(bucket.unlimited());
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.try_take(t0));
    EXPECT_TRUE(std::isinf(bucket.available(t0)));
    EXPECT_TRUE(bucket.full(t0));
  }
  EXPECT_TRUE(TokenBucket().unlimited());
}

TEST(TokenBucket, ClockGoingBackwardsNeitherRefillsNorOverdraws) {
  TokenBucket bucket(per_second(10), t0);
  ASSERT_EQ(take_all(bucket, t0 + 10s), 10);
  // Earlier times count as the latest one seen: no negative tokens, no refill, no extra debt.
  EXPECT_EQ(bucket.available(t0), 0.0);
  EXPECT_FALSE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(TimePoint::min()));
  EXPECT_EQ(bucket.available(TimePoint::min()), 0.0);
  EXPECT_TRUE(bucket.try_take(t0 + 10s + 100ms));
  EXPECT_FALSE(bucket.try_take(t0 + 10s + 100ms));
}

TEST(TokenBucket, HugeGapsAndExtremeLimitsStayFinite) {
  TokenBucket bucket(per_second(10), TimePoint::min());
  ASSERT_EQ(take_all(bucket, TimePoint::min()), 10);
  const TimePoint late = TimePoint::max() - 1h;
  EXPECT_EQ(bucket.available(late), 10.0);
  EXPECT_EQ(take_all(bucket, late), 10);
  EXPECT_EQ(bucket.available(late + 100ms), 1.0);
  // At the very end of the clock's range the refill time saturates instead of overflowing (UBSan
  // would report it).
  EXPECT_TRUE(bucket.try_take(TimePoint::max()));
  EXPECT_EQ(bucket.refilled_at(), TimePoint::max());
  EXPECT_TRUE(std::isfinite(bucket.available(TimePoint::max())));

  TokenBucket tiny({1e-300, std::chrono::milliseconds::max()}, t0);
  EXPECT_TRUE(tiny.try_take(t0));
  EXPECT_FALSE(tiny.try_take(t0 + 100000h));
  const double left = tiny.available(t0 + 100000h);
  EXPECT_TRUE(std::isfinite(left));
  EXPECT_GE(left, 0.0);

  TokenBucket huge({1e300, 1000ms}, t0);
  EXPECT_EQ(take_all(huge, t0), 1000);
  EXPECT_TRUE(std::isfinite(huge.available(t0)));
}

TEST(MessageRateLimiter, GlobalAndPerActionMustBothPass) {
  TimePoint now = t0;
  MessageRateLimiter limiter(options(per_second(5), {{"MeterValues", per_second(2)}}),
                             [&] { return now; });
  EXPECT_TRUE(limiter.allow("MeterValues"));
  EXPECT_TRUE(limiter.allow("MeterValues"));
  EXPECT_EQ(limiter.check("MeterValues"), RateLimitResult::action_exceeded);
  EXPECT_TRUE(limiter.allow("Heartbeat"));
  EXPECT_TRUE(limiter.allow("Heartbeat"));
  EXPECT_TRUE(limiter.allow("StatusNotification"));
  // Five taken from the global bucket: every action is refused now, reported as the global limit.
  EXPECT_EQ(limiter.check("Heartbeat"), RateLimitResult::global_exceeded);
  EXPECT_EQ(limiter.check("MeterValues"), RateLimitResult::global_exceeded);
  now += 1s;
  EXPECT_TRUE(limiter.allow("MeterValues"));
}

TEST(MessageRateLimiter, ARefusalByTheActionDoesNotChargeTheGlobalBucket) {
  TimePoint now = t0;
  MessageRateLimiter limiter(options(per_second(3), {{"MeterValues", per_second(1)}}),
                             [&] { return now; });
  EXPECT_TRUE(limiter.allow("MeterValues"));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.check("MeterValues"), RateLimitResult::action_exceeded);
  EXPECT_TRUE(limiter.allow("Heartbeat"));
  EXPECT_TRUE(limiter.allow("Heartbeat"));
  EXPECT_FALSE(limiter.allow("Heartbeat"));
}

TEST(MessageRateLimiter, ARefusalByTheGlobalBucketDoesNotChargeTheAction) {
  TimePoint now = t0;
  MessageRateLimiter limiter(options(per_second(2), {{"MeterValues", per_second(2)}}),
                             [&] { return now; });
  EXPECT_TRUE(limiter.allow("Heartbeat"));
  EXPECT_TRUE(limiter.allow("Heartbeat"));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.check("MeterValues"), RateLimitResult::global_exceeded);
  now += 1s;  // the global bucket is full again; the action's must still hold both tokens
  EXPECT_TRUE(limiter.allow("MeterValues"));
  EXPECT_TRUE(limiter.allow("MeterValues"));
}

TEST(MessageRateLimiter, OnlyListedActionsGetBuckets) {
  TimePoint now = t0;
  MessageRateLimiter limiter(
      options(std::nullopt, {{"MeterValues", per_second(1)}, {"Heartbeat", per_second(1)}, {"Free", per_second(0)}}),
      [&] { return now; });
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limiter.allow("Peer" + std::to_string(i)));
  EXPECT_TRUE(limiter.allow("Free"));
  EXPECT_TRUE(limiter.allow(""));
  EXPECT_EQ(limiter.action_buckets(), 0u);
  EXPECT_TRUE(limiter.allow("MeterValues"));
  EXPECT_FALSE(limiter.allow("MeterValues"));
  EXPECT_EQ(limiter.action_buckets(), 1u);
  EXPECT_TRUE(limiter.allow("Heartbeat"));
  EXPECT_EQ(limiter.action_buckets(), 2u);
}

TEST(MessageRateLimiter, NoLimitsAllowsEverythingAndKeepsTheConfiguredAction) {
  MessageRateLimiter limiter(options(std::nullopt, {}, LimitAction::disconnect));
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.allow("Heartbeat"));
  EXPECT_EQ(limiter.on_exceeded(), LimitAction::disconnect);
}

TEST(MessageRateLimiter, ExplicitTimeOverridesTheClock) {
  MessageRateLimiter limiter(options(per_second(1)), [] { return t0; });
  EXPECT_TRUE(limiter.allow("Heartbeat", t0));
  EXPECT_FALSE(limiter.allow("Heartbeat", t0 + 999ms));
  EXPECT_TRUE(limiter.allow("Heartbeat", t0 + 1s));
}
