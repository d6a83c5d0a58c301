#pragma once
/// @file
/// Per-connection message limits: a global bucket plus per-action buckets, as in ocpp-ws-io. IO-free:
/// time comes from an injectable clock or an explicit `now`, so nothing here sleeps or owns a timer.
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ocpp/engine/clock.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// `limit` tokens per `window`, bursts of up to `limit` (at least one token, so a limit below one per
/// window still admits one message every window / limit). Unlimited when limit <= 0, limit is NaN or
/// infinite, or window <= 0.
struct RateLimit {
  double limit = 0;  ///< tokens per window; <= 0: unlimited
  std::chrono::milliseconds window{1000};  ///< the refill period
};
/// Whether `limit` admits everything (see RateLimit).
bool is_unlimited(const RateLimit& limit) noexcept;

/// A token bucket with continuous refill. It starts full. Time never runs backwards for a bucket: an
/// earlier `now` than one already seen counts as that one. Arithmetic saturates, so huge gaps (up to
/// time_point::max()) neither overflow nor produce NaN. Not thread-safe.
class TokenBucket {
 public:
  /// The bucket's time.
  using TimePoint = std::chrono::steady_clock::time_point;

  TokenBucket() = default;  ///< unlimited
  /// A full bucket of `limit` at `now`.
  TokenBucket(RateLimit limit, TimePoint now);

  /// Takes `tokens` if that many are available, else takes nothing. Taking <= 0 tokens always succeeds;
  /// taking more than the capacity never does.
  bool try_take(TimePoint now, double tokens = 1);
  /// Whether try_take(now, tokens) would succeed.
  bool can_take(TimePoint now, double tokens = 1) const;
  /// Tokens available at `now`, in [0, capacity()]; +infinity when unlimited.
  double available(TimePoint now) const;
  /// Full again: forgetting the bucket would change nothing.
  bool full(TimePoint now) const;
  /// When the bucket will be full again if nothing is taken meanwhile.
  TimePoint refilled_at() const noexcept { return full_at_; }
  /// The most tokens the bucket holds.
  double capacity() const noexcept;
  /// Whether the bucket admits everything.
  bool unlimited() const noexcept { return unlimited_; }

 private:
  using Duration = std::chrono::steady_clock::duration;
  Duration debt(TimePoint now) const;  ///< time until full, as seen from `now`
  Duration cost(double tokens) const;  ///< refill time for `tokens`

  bool unlimited_ = true;
  double limit_ = 0;
  double capacity_ = 0;
  Duration window_{};
  Duration span_{};  ///< refill time from empty to full: the capacity expressed as time
  /// The state is the time the bucket is full again, so refill needs no floating-point accumulation and
  /// refill times that are whole nanoseconds are exact.
  TimePoint full_at_{};
  TimePoint last_{};  ///< the latest `now` seen
};

/// A bound on log lines a peer can cause at will: the first `burst` (at least one), then one per
/// `interval`, which says how many were suppressed before it. `interval` zero: no bound.
struct LogLimit {
  std::size_t burst = 10;  ///< lines written before the bound applies
  std::chrono::milliseconds interval{10000};  ///< then one line per interval
};

/// Which of a stream of similar log lines are written, within a LogLimit: a token bucket of `burst`
/// lines refilled one per `interval`, and a count of the lines it suppressed. Not thread-safe.
class LogThrottle {
 public:
  /// A throttle of `limit`, full at `now`.
  LogThrottle(LogLimit limit, TokenBucket::TimePoint now);
  /// The line at `now` is written: the number of lines suppressed before it (and the count starts
  /// again). nullopt: suppressed, and counted.
  std::optional<std::size_t> admit(TokenBucket::TimePoint now);
  /// The lines suppressed since the last written one; the count starts again.
  std::size_t take_suppressed() noexcept;

 private:
  TokenBucket bucket_;
  std::size_t suppressed_ = 0;
};

/// What a connection does with a peer's message over the rate limit: drop it, close (1008), or let the event decide.
enum class LimitAction { ignore, disconnect, callback };

/// What happens to a message over the limit: with LimitAction::callback the rate-limit event decides
/// (RateLimitEvent::decision); ignore drops, disconnect closes with 1008.
enum class RateLimitDecision { allow, drop, disconnect };

/// Rate limits of a peer's CALLs and SENDs (SessionOptions::rate_limit).
struct RateLimitOptions {
  std::optional<RateLimit> global;                         ///< all messages of a connection
  std::unordered_map<std::string, RateLimit> per_action;  ///< CALLs of these actions, in addition
  LimitAction on_exceeded = LimitAction::ignore;           ///< what the server does with a refusal
};

/// Which bucket refused a message.
enum class RateLimitResult { allowed, global_exceeded, action_exceeded };

/// The rate limits of one peer's messages: a global bucket and per-action ones.
/// One per connection; not thread-safe. A message passes when both the global bucket and the bucket
/// of its action (if the action is listed) have a token, and only then is anything charged: a message
/// refused by either bucket consumes from neither. (ocpp-ws-io charges the global bucket before it
/// checks the action's, so a flood of one throttled action also eats the budget of every other
/// action; here it does not.) Buckets exist only for actions listed in per_action, so arbitrary
/// action names from the peer never allocate.
class MessageRateLimiter {
 public:
  /// A limiter of `options`, reading time from `clock` (default steady_clock).
  explicit MessageRateLimiter(RateLimitOptions options = {}, Clock clock = {});

  /// Whether a message passes (it is charged only then). `action` is the CALL's action; pass "" for frames that only count against the global limit.
  bool allow(std::string_view action) { return check(action) == RateLimitResult::allowed; }
  /// allow() at `now`.
  bool allow(std::string_view action, TokenBucket::TimePoint now) {
    return check(action, now) == RateLimitResult::allowed;
  }
  /// As allow, and says which bucket refused (the global one when both would).
  RateLimitResult check(std::string_view action);
  /// check() at `now`.
  RateLimitResult check(std::string_view action, TokenBucket::TimePoint now);

  /// The configured LimitAction.
  LimitAction on_exceeded() const noexcept { return on_exceeded_; }
  /// Per-action buckets created so far (at most the number of limited actions in per_action).
  std::size_t action_buckets() const noexcept { return action_buckets_; }

 private:
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct ActionLimit {
    RateLimit limit;
    std::optional<TokenBucket> bucket;  ///< created on the action's first message
  };

  Clock clock_;
  LimitAction on_exceeded_;
  TokenBucket global_;
  std::unordered_map<std::string, ActionLimit, KeyHash, std::equal_to<>> actions_;
  std::size_t action_buckets_ = 0;
};

}  // namespace ocpp
OCPP_API_END
