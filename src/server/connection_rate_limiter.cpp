#include "server/connection_rate_limiter.hpp"

#include <algorithm>
#include <utility>

namespace ocpp::detail {

ConnectionRateLimiter::ConnectionRateLimiter(RateLimit per_ip, std::size_t max_tracked, Clock clock)
    : per_ip_(per_ip),
      unlimited_(is_unlimited(per_ip)),
      max_tracked_(std::max<std::size_t>(max_tracked, 1)),
      clock_(or_steady(std::move(clock))) {}

bool ConnectionRateLimiter::allow(std::string_view ip) { return allow(ip, clock_()); }

bool ConnectionRateLimiter::allow(std::string_view ip, TokenBucket::TimePoint now) {
  if (unlimited_) return true;
  std::lock_guard lock(mutex_);
  drop_refilled(now);
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    if (entries_.size() >= max_tracked_) erase_first_in_index();
    it = entries_.emplace(std::string(ip), Entry{TokenBucket(per_ip_, now), {}}).first;
    it->second.position = by_refill_.emplace(it->second.bucket.refilled_at(), &it->first);
  }
  Entry& entry = it->second;
  const bool allowed = entry.bucket.try_take(now);
  if (entry.bucket.refilled_at() != entry.position->first) {
    auto node = by_refill_.extract(entry.position);
    node.key() = entry.bucket.refilled_at();
    // Inserted after equal keys, so among equals the index stays oldest first.
    entry.position = by_refill_.insert(std::move(node));
  }
  return allowed;
}

std::size_t ConnectionRateLimiter::tracked() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void ConnectionRateLimiter::drop_refilled(TokenBucket::TimePoint now) {
  while (!by_refill_.empty() && by_refill_.begin()->first <= now) erase_first_in_index();
}

void ConnectionRateLimiter::erase_first_in_index() {
  auto first = by_refill_.begin();
  // Find by key before erasing the index entry that points at it.
  auto it = entries_.find(*first->second);
  by_refill_.erase(first);
  entries_.erase(it);
}

}  // namespace ocpp::detail
