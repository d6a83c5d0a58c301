#include "ocpp/engine/rate_limit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

namespace ocpp {
namespace {
using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;

// About 146 years: every span is capped here, so a span plus any time point that is not itself near
// the end of the range cannot overflow, and double -> integer conversions stay in range.
constexpr Duration kMaxSpan{std::int64_t{1} << 62};

// A non-negative count of clock ticks, rounded to the nearest tick and capped at kMaxSpan.
Duration ticks(double count) {
  if (!(count > 0)) return Duration::zero();
  if (count >= static_cast<double>(kMaxSpan.count())) return kMaxSpan;
  return Duration(std::llround(count));
}

TimePoint saturating_add(TimePoint t, Duration d) {  // d >= 0
  return t > TimePoint::max() - d ? TimePoint::max() : t + d;
}

}  // namespace

bool is_unlimited(const RateLimit& limit) noexcept {
  return !(limit.limit > 0) || std::isinf(limit.limit) || limit.window <= std::chrono::milliseconds::zero();
}

TokenBucket::TokenBucket(RateLimit limit, TimePoint now) : full_at_(now), last_(now) {
  if (is_unlimited(limit)) return;
  unlimited_ = false;
  limit_ = limit.limit;
  capacity_ = std::max(limit_, 1.0);
  const auto max_window = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxSpan);
  window_ = std::chrono::duration_cast<Duration>(std::min(limit.window, max_window));
  // With a limit of at least one token the span is exactly the window, with no rounding.
  span_ = limit_ >= 1 ? window_ : ticks(static_cast<double>(window_.count()) / limit_);
}

double TokenBucket::capacity() const noexcept {
  return unlimited_ ? std::numeric_limits<double>::infinity() : capacity_;
}

Duration TokenBucket::debt(TimePoint now) const {
  now = std::max(now, last_);
  // full_at_ <= last_ + span_ holds, so the difference fits.
  return full_at_ > now ? full_at_ - now : Duration::zero();
}

Duration TokenBucket::cost(double tokens) const {
  // Multiply before dividing: a whole number of tokens whose refill time is a whole number of ticks
  // then comes out exact.
  return std::min(ticks(tokens * static_cast<double>(window_.count()) / limit_), span_);
}

bool TokenBucket::can_take(TimePoint now, double tokens) const {
  if (unlimited_) return true;
  if (std::isnan(tokens)) return false;
  if (tokens <= 0) return true;
  if (tokens > capacity_) return false;
  return debt(now) <= span_ - cost(tokens);
}

bool TokenBucket::try_take(TimePoint now, double tokens) {
  if (!can_take(now, tokens)) return false;
  if (unlimited_ || tokens <= 0) return true;
  last_ = std::max(now, last_);
  full_at_ = saturating_add(std::max(full_at_, last_), cost(tokens));
  return true;
}

double TokenBucket::available(TimePoint now) const {
  if (unlimited_) return std::numeric_limits<double>::infinity();
  const Duration owed = debt(now);
  if (owed == Duration::zero()) return capacity_;
  const double tokens =
      static_cast<double>((span_ - owed).count()) * limit_ / static_cast<double>(window_.count());
  return std::clamp(tokens, 0.0, capacity_);
}

bool TokenBucket::full(TimePoint now) const { return unlimited_ || debt(now) == Duration::zero(); }

MessageRateLimiter::MessageRateLimiter(RateLimitOptions options, Clock clock)
    : clock_(or_steady(std::move(clock))), on_exceeded_(options.on_exceeded) {
  if (options.global && !is_unlimited(*options.global)) global_ = TokenBucket(*options.global, clock_());
  for (auto& [action, limit] : options.per_action) {
    if (!is_unlimited(limit)) actions_.emplace(action, ActionLimit{limit, std::nullopt});
  }
}

RateLimitResult MessageRateLimiter::check(std::string_view action) { return check(action, clock_()); }

RateLimitResult MessageRateLimiter::check(std::string_view action, TimePoint now) {
  TokenBucket* per_action = nullptr;
  if (auto it = actions_.find(action); it != actions_.end()) {
    if (!it->second.bucket) {
      it->second.bucket.emplace(it->second.limit, now);
      ++action_buckets_;
    }
    per_action = &*it->second.bucket;
  }
  // Check both before charging either, so a refusal costs nothing.
  if (!global_.can_take(now)) return RateLimitResult::global_exceeded;
  if (per_action && !per_action->can_take(now)) return RateLimitResult::action_exceeded;
  global_.try_take(now);
  if (per_action) per_action->try_take(now);
  return RateLimitResult::allowed;
}

LogThrottle::LogThrottle(LogLimit limit, TokenBucket::TimePoint now)
    : bucket_(RateLimit{static_cast<double>(std::max<std::size_t>(limit.burst, 1)),
                        limit.interval * static_cast<std::chrono::milliseconds::rep>(std::max<std::size_t>(limit.burst, 1))},
              now) {}

std::optional<std::size_t> LogThrottle::admit(TokenBucket::TimePoint now) {
  if (!bucket_.try_take(now)) {
    ++suppressed_;
    return std::nullopt;
  }
  return take_suppressed();
}

std::size_t LogThrottle::take_suppressed() noexcept { return std::exchange(suppressed_, 0); }

}  // namespace ocpp
