#pragma once
// ServerOptions::trusted_proxies as a set of networks: which peers may tell us the client's address
// (Forwarded, X-Forwarded-*, the PROXY protocol). IO-free: addresses are parsed, not resolved.
#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocpp::detail {

// An IP address as text, IPv4-mapped IPv6 as the IPv4 address it maps: one station, one key for
// the per-address limiter and one spelling in logs. nullopt when the text is no address (a zone
// id such as fe80::1%eth0 is none: it means nothing beyond this host).
std::optional<boost::asio::ip::address> parse_ip(std::string_view text);
boost::asio::ip::address unmap(const boost::asio::ip::address& address);

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // Each entry is an address or a CIDR network ("10.0.0.0/8", "2001:db8::/32", "::ffff:10.0.0.0/104"
  // is 10.0.0.0/8); host bits below the prefix are ignored. Throws std::invalid_argument naming
  // the first unusable entry.
  explicit TrustedProxies(const std::vector<std::string>& entries);

  bool empty() const noexcept { return networks_.empty(); }
  bool contains(const boost::asio::ip::address& address) const noexcept;
  bool contains(std::string_view address) const;  // false for text that is no address

 private:
  struct Network {
    bool v4 = false;
    std::array<std::uint8_t, 16> bytes{};  // the first 4 for IPv4, masked to the prefix
    unsigned prefix = 0;
  };
  std::vector<Network> networks_;
};

}  // namespace ocpp::detail
