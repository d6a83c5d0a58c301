#pragma once
// New connections per remote address, for the server's admission. Internal: the server is its only
// user, and the session's rate limits (ocpp/engine/rate_limit.hpp) do not depend on it.
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ocpp/engine/clock.hpp"
#include "ocpp/engine/rate_limit.hpp"

namespace ocpp::detail {

// Server-wide and thread-safe: a bucket of new connections per remote address. The key is opaque;
// the caller normalises it (IPv4-mapped IPv6, an IPv6 /64 prefix, ...).
//
// Memory is bounded by max_tracked addresses (at least 1). A bucket that is full again carries no
// information and is dropped. When the table is full of addresses that still owe tokens, the one that
// will be full again soonest (the smallest debt) is forgotten, oldest first among equals: forgetting
// it forgives the fewest tokens. So an address that was just refused (its debt is nearly a whole
// window) stays tracked, and refused, while floods of addresses that each connected a few times come
// and go; it is forgotten only once every other tracked address owes at least as much.
class ConnectionRateLimiter {
 public:
  explicit ConnectionRateLimiter(RateLimit per_ip, std::size_t max_tracked = 10000, Clock clock = {});

  bool allow(std::string_view ip);
  bool allow(std::string_view ip, TokenBucket::TimePoint now);
  std::size_t tracked() const;

 private:
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  // Addresses by the time their bucket is full again; the values point at the keys of entries_.
  using RefillIndex = std::multimap<TokenBucket::TimePoint, const std::string*>;
  struct Entry {
    TokenBucket bucket;
    RefillIndex::iterator position;
  };
  void drop_refilled(TokenBucket::TimePoint now);
  void erase_first_in_index();

  RateLimit per_ip_;
  bool unlimited_;
  std::size_t max_tracked_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> entries_;
  RefillIndex by_refill_;
};

}  // namespace ocpp::detail
