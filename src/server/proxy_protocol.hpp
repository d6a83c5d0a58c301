#pragma once
// The PROXY protocol (HAProxy's proxy-protocol.txt, v1 text and v2 binary) that load balancers send
// before the client's bytes: the client's address. IO-free: bytes in, a decision out.
#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ocpp::detail {

inline constexpr std::size_t kProxyV1MaxBytes = 107;  // the specification's bound for a v1 line
// v2 carries TLVs after the addresses; cloud balancers send tens of bytes of them. Larger headers
// are refused so that a connection that has not said who it is cannot make us buffer much.
inline constexpr std::size_t kProxyV2MaxBytes = 4096;

struct ProxyHeader {
  std::size_t size = 0;  // the header's bytes; the client's own bytes (TLS, HTTP) follow them
  // The client as the balancer saw it (IPv4-mapped IPv6 unmapped); none for LOCAL (the balancer's
  // own health check), v1 UNKNOWN, v2 UNSPEC, UDP and UNIX: the peer's address stands.
  std::optional<boost::asio::ip::address> source;
  // v2's PP2_TYPE_SSL TLV: whether the client spoke TLS to the balancer; unknown without it.
  std::optional<bool> secure;
};

struct ProxyParse {
  enum class Status { need_more, done, invalid };
  Status status = Status::need_more;
  ProxyHeader header{};  // with done
  std::string error{};   // with invalid: why
};

// The start of a connection's bytes; need_more while they are a consistent prefix of a header
// that fits its bound.
ProxyParse parse_proxy_header(std::string_view bytes);

}  // namespace ocpp::detail
