#include "server/proxy_protocol.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include "server/trusted_proxies.hpp"

namespace ocpp::detail {
namespace {
namespace ip = boost::asio::ip;
using Status = ProxyParse::Status;

constexpr std::string_view kV1Signature = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t kV2Fixed = 16;  // signature, version and command, family, length

ProxyParse invalid(std::string why) { return {Status::invalid, {}, std::move(why)}; }
ProxyParse done(std::size_t size, std::optional<ip::address> source = std::nullopt,
                std::optional<bool> secure = std::nullopt) {
  return {Status::done, {size, std::move(source), secure}, {}};
}

// The TLVs are skipped but for PP2_TYPE_SSL (0x20), whose first byte's bit 0 (PP2_CLIENT_SSL) says
// that the client used TLS. A TLV that overruns the header ends the scan: it carries nothing we need.
std::optional<bool> client_ssl(std::string_view tlvs) {
  while (tlvs.size() >= 3) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(tlvs[i]); };
    const auto type = byte(0);
    const std::size_t length = (std::size_t{byte(1)} << 8) | byte(2);
    if (tlvs.size() - 3 < length) break;
    if (type == 0x20 && length >= 1) return (byte(3) & 0x01) != 0;
    tlvs.remove_prefix(3 + length);
  }
  return std::nullopt;
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s.front() == '0')) return false;
  unsigned port = 0;
  auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), port);
  return err == std::errc() && end == s.data() + s.size() && port <= 65535;
}

ProxyParse parse_v1(std::string_view bytes) {
  const auto lf = bytes.substr(0, kProxyV1MaxBytes).find('\n');
  if (lf == std::string_view::npos)
    return bytes.size() >= kProxyV1MaxBytes ? invalid("PROXY v1 line longer than 107 bytes") : ProxyParse{};
  if (lf == 0 || bytes[lf - 1] != '\r') return invalid("PROXY v1 line not ended by CRLF");
  const auto line = bytes.substr(kV1Signature.size(), lf - 1 - kV1Signature.size());
  if (line.find('\r') != std::string_view::npos) return invalid("PROXY v1 line not ended by CRLF");
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const auto space = line.find(' ', start);
    fields.push_back(line.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  // UNKNOWN: the balancer could not tell (the rest of the line is to be ignored).
  if (fields.front() == "UNKNOWN") return done(lf + 1);
  const bool v4 = fields.front() == "TCP4";
  if (!v4 && fields.front() != "TCP6") return invalid("PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
  if (fields.size() != 5) return invalid("PROXY v1 line needs source, destination and both ports");
  // The family must be the one announced: TCP4 carries dotted quads, TCP6 IPv6 text.
  const auto source = parse_ip(fields[1]), destination = parse_ip(fields[2]);
  const auto fits = [&](std::string_view text, const std::optional<ip::address>& a) {
    const bool is_v6_text = text.find(':') != std::string_view::npos;
    return a && v4 != is_v6_text;
  };
  if (!fits(fields[1], source) || !fits(fields[2], destination)) return invalid("PROXY v1 address does not parse");
  if (!is_port(fields[3]) || !is_port(fields[4])) return invalid("PROXY v1 port does not parse");
  return done(lf + 1, source);
}

ProxyParse parse_v2(std::string_view bytes) {
  if (bytes.size() < kV2Fixed) return {};
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  if ((byte(12) >> 4) != 2) return invalid("PROXY v2 header with version " + std::to_string(byte(12) >> 4));
  const unsigned command = byte(12) & 0x0F;
  if (command > 1) return invalid("PROXY v2 command is neither LOCAL nor PROXY");
  const unsigned family = byte(13) >> 4, transport = byte(13) & 0x0F;
  if (family > 3 || transport > 2) return invalid("PROXY v2 address family or transport unknown");
  const std::size_t size = kV2Fixed + ((std::size_t{byte(14)} << 8) | byte(15));
  if (size > kProxyV2MaxBytes) return invalid("PROXY v2 header of " + std::to_string(size) + " bytes is too large");
  if (bytes.size() < size) return {};
  // LOCAL: the balancer speaks for itself (a health check); the addresses, if any, are to be ignored.
  if (command == 0 || transport != 1) return done(size);
  const auto addresses = bytes.substr(kV2Fixed, size - kV2Fixed);  // TLVs follow them
  if (family == 1) {
    if (addresses.size() < 12) return invalid("PROXY v2 TCP4 header too short for its addresses");
    ip::address_v4::bytes_type b;
    std::copy_n(addresses.begin(), b.size(), reinterpret_cast<char*>(b.data()));
    return done(size, ip::address(ip::address_v4(b)), client_ssl(addresses.substr(12)));
  }
  if (family == 2) {
    if (addresses.size() < 36) return invalid("PROXY v2 TCP6 header too short for its addresses");
    ip::address_v6::bytes_type b;
    std::copy_n(addresses.begin(), b.size(), reinterpret_cast<char*>(b.data()));
    return done(size, unmap(ip::address(ip::address_v6(b))), client_ssl(addresses.substr(36)));
  }
  return done(size);  // UNSPEC or UNIX: no IP address to take
}

}  // namespace

ProxyParse parse_proxy_header(std::string_view bytes) {
  if (bytes.empty()) return {};
  const bool v1 = bytes.front() == 'P';
  const auto signature = v1 ? kV1Signature : kV2Signature;
  const auto n = std::min(bytes.size(), signature.size());
  if (bytes.substr(0, n) != signature.substr(0, n)) return invalid("connection does not start with a PROXY header");
  if (bytes.size() < signature.size()) return {};
  return v1 ? parse_v1(bytes) : parse_v2(bytes);
}

}  // namespace ocpp::detail
