#include "server/trusted_proxies.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace ocpp::detail {
namespace ip = boost::asio::ip;

std::optional<ip::address> parse_ip(std::string_view text) {
  if (text.empty() || text.find('%') != std::string_view::npos) return std::nullopt;
  boost::system::error_code ec;
  auto address = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return unmap(address);
}

ip::address unmap(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  return address;
}

namespace {
bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b, unsigned prefix) {
  const unsigned whole = prefix / 8, rest = prefix % 8;
  if (!std::equal(a, a + whole, b)) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}
}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    const auto fail = [&] { throw std::invalid_argument("trusted_proxies: not an address or CIDR network: " + entry); };
    const std::string_view text(entry);
    const auto slash = text.find('/');
    const bool has_prefix = slash != std::string_view::npos;
    const std::string_view raw = has_prefix ? text.substr(slash + 1) : std::string_view{};
    boost::system::error_code ec;
    const auto address = ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec || text.find('%') != std::string_view::npos) fail();
    unsigned prefix = address.is_v4() ? 32 : 128;
    if (has_prefix) {
      unsigned p = 0;
      auto [end, err] = std::from_chars(raw.data(), raw.data() + raw.size(), p);
      if (raw.empty() || err != std::errc() || end != raw.data() + raw.size() || p > prefix) fail();
      prefix = p;
    }
    Network n;
    if (address.is_v4()) {
      n.v4 = true;
      const auto b = address.to_v4().to_bytes();
      std::copy(b.begin(), b.end(), n.bytes.begin());
    } else if (address.to_v6().is_v4_mapped() && prefix >= 96) {
      // Peers are unmapped before they are compared, so a mapped network must be one too.
      n.v4 = true;
      const auto b = address.to_v6().to_bytes();
      std::copy(b.begin() + 12, b.end(), n.bytes.begin());
      prefix -= 96;
    } else {
      n.bytes = address.to_v6().to_bytes();
    }
    n.prefix = prefix;
    networks_.push_back(n);
  }
}

bool TrustedProxies::contains(const ip::address& address_in) const noexcept {
  const auto address = unmap(address_in);
  std::array<std::uint8_t, 16> bytes{};
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  } else {
    bytes = address.to_v6().to_bytes();
  }
  return std::any_of(networks_.begin(), networks_.end(), [&](const Network& n) {
    return n.v4 == address.is_v4() && prefix_equal(n.bytes.data(), bytes.data(), n.prefix);
  });
}

bool TrustedProxies::contains(std::string_view address) const {
  if (networks_.empty()) return false;
  auto parsed = parse_ip(address);
  return parsed && contains(*parsed);
}

}  // namespace ocpp::detail
