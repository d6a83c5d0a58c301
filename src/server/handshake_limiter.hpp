#pragma once
// Connections still in their handshake (TCP accepted; PROXY header, TLS handshake or HTTP upgrade
// not finished), per server and per TCP peer address. A peer that connects and then stalls costs a
// descriptor and buffers until handshake_timeout; this bounds how many such peers the server holds
// at once, and how many one address may hold, so slow or silent peers cannot starve the stations.
// IO-free and thread-safe: the accept loops ask, the upgrades give back.
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ocpp::detail {

class HandshakeLimiter {
 public:
  enum class Outcome { admitted, server_full, address_full };

  // 0: no bound.
  HandshakeLimiter(std::size_t max_total, std::size_t max_per_address);

  // `address` is the TCP peer's, normalised by the caller. Without `per_address` (a trusted proxy,
  // which carries many stations) only the server's bound applies. Admitted: the caller owes one
  // release() with the same arguments.
  Outcome acquire(std::string_view address, bool per_address);
  void release(std::string_view address, bool per_address) noexcept;

  std::size_t in_flight() const;
  // Addresses with handshakes in flight: the table's size, never more than in_flight().
  std::size_t tracked_addresses() const;

 private:
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  const std::size_t max_total_;
  const std::size_t max_per_address_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t, KeyHash, std::equal_to<>> per_address_;
};

}  // namespace ocpp::detail
