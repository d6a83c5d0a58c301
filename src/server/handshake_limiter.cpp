#include "server/handshake_limiter.hpp"

namespace ocpp::detail {

HandshakeLimiter::HandshakeLimiter(std::size_t max_total, std::size_t max_per_address)
    : max_total_(max_total), max_per_address_(max_per_address) {}

HandshakeLimiter::Outcome HandshakeLimiter::acquire(std::string_view address, bool per_address) {
  std::lock_guard lock(mutex_);
  if (max_total_ != 0 && total_ >= max_total_) return Outcome::server_full;
  if (per_address && max_per_address_ != 0) {
    auto it = per_address_.find(address);
    if (it == per_address_.end()) {
      per_address_.emplace(std::string(address), 1);
    } else if (it->second >= max_per_address_) {
      return Outcome::address_full;
    } else {
      ++it->second;
    }
  }
  ++total_;
  return Outcome::admitted;
}

void HandshakeLimiter::release(std::string_view address, bool per_address) noexcept {
  std::lock_guard lock(mutex_);
  if (total_ > 0) --total_;
  if (!per_address || max_per_address_ == 0) return;
  // Entries live only while their address has handshakes in flight: the table is bounded by them.
  if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

std::size_t HandshakeLimiter::in_flight() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t HandshakeLimiter::tracked_addresses() const {
  std::lock_guard lock(mutex_);
  return per_address_.size();
}

}  // namespace ocpp::detail
