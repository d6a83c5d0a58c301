// Behind a load balancer: trusted_proxies as networks, Forwarded / X-Forwarded-*, the PROXY
// protocol's header. IO-free.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "server/forwarded.hpp"
#include "server/proxy_protocol.hpp"
#include "server/trusted_proxies.hpp"

using namespace ocpp::detail;
using Status = ProxyParse::Status;

TEST(TrustedProxies, MatchesAddressesAndCidrNetworksOfBothFamilies) {
  TrustedProxies t({"10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"});
  EXPECT_TRUE(t.contains("10.255.1.2"));
  EXPECT_FALSE(t.contains("11.0.0.1"));
  EXPECT_TRUE(t.contains("192.168.1.7"));
  EXPECT_FALSE(t.contains("192.168.1.8"));
  EXPECT_TRUE(t.contains("2001:db8:ffff::1"));
  EXPECT_FALSE(t.contains("2001:db9::1"));
  EXPECT_TRUE(t.contains("::1"));
  EXPECT_FALSE(t.contains("not an address"));
  EXPECT_FALSE(t.contains(""));
}

TEST(TrustedProxies, PrefixesThatAreNotWholeBytesAndHostBits) {
  TrustedProxies t({"172.16.0.0/12", "10.1.2.3/24", "0.0.0.0/0"});
  EXPECT_TRUE(t.contains("172.31.255.255"));
  EXPECT_TRUE(t.contains("10.1.2.200"));  // host bits of the entry are ignored
  TrustedProxies narrow({"172.16.0.0/12"});
  EXPECT_FALSE(narrow.contains("172.32.0.0"));
  EXPECT_FALSE(narrow.contains("::1"));  // /0 of IPv4 is no IPv6 network either
  EXPECT_TRUE(TrustedProxies({"::/0"}).contains("fe80::1"));
  EXPECT_FALSE(TrustedProxies({"::/0"}).contains("1.2.3.4"));
}

TEST(TrustedProxies, Ipv4MappedIpv6IsTheIpv4Address) {
  TrustedProxies v4({"10.0.0.0/8"});
  EXPECT_TRUE(v4.contains("::ffff:10.0.0.1"));
  TrustedProxies mapped({"::ffff:10.0.0.0/104"});
  EXPECT_TRUE(mapped.contains("10.9.9.9"));
  EXPECT_TRUE(mapped.contains("::ffff:10.9.9.9"));
  EXPECT_FALSE(mapped.contains("11.0.0.1"));
  EXPECT_EQ(parse_ip("::ffff:127.0.0.2")->to_string(), "127.0.0.2");
}

TEST(TrustedProxies, RejectsEntriesThatAreNoAddressOrNetwork) {
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x", "proxy.local", "fe80::1%eth0",
                          "10.0.0.0/-1", "1.2.3"})
    EXPECT_THROW(TrustedProxies({bad}), std::invalid_argument) << bad;
  EXPECT_TRUE(TrustedProxies().empty());
}

TEST(Forwarded, ParsesRfc7239ElementsQuotedValuesAndIpv6WithPorts) {
  auto hops = parse_forwarded(
      R"(for=192.0.2.43;proto=https, for="[2001:db8:cafe::17]:4711";by=203.0.113.60,FOR="198.51.100.17:8080";PROTO=http)");
  ASSERT_TRUE(hops);
  ASSERT_EQ(hops->size(), 3u);
  EXPECT_EQ((*hops)[0].address, "192.0.2.43");
  EXPECT_EQ((*hops)[0].secure, true);
  EXPECT_EQ((*hops)[1].address, "2001:db8:cafe::17");
  EXPECT_FALSE((*hops)[1].secure);
  EXPECT_EQ((*hops)[2].address, "198.51.100.17");
  EXPECT_EQ((*hops)[2].secure, false);
}

TEST(Forwarded, UnknownObfuscatedAndMissingForAreHopsWithoutAddress) {
  auto hops = parse_forwarded(R"(for=unknown, for=_hidden, proto=https, for="[::ffff:10.0.0.1]", for="\"x")");
  ASSERT_TRUE(hops);
  ASSERT_EQ(hops->size(), 5u);
  EXPECT_EQ((*hops)[0].address, "");
  EXPECT_EQ((*hops)[1].address, "");
  EXPECT_EQ((*hops)[2].address, "");
  EXPECT_EQ((*hops)[3].address, "10.0.0.1");
  EXPECT_EQ((*hops)[4].address, "");
  ASSERT_TRUE(parse_forwarded(" , ,for=1.2.3.4;;"));
  EXPECT_EQ(parse_forwarded(" , ,for=1.2.3.4;;")->size(), 1u);
}

TEST(Forwarded, MalformedValuesAreRefusedWhole) {
  for (const char* bad : {R"(for="1.2.3.4)", "for", "=1.2.3.4", "for=1.2.3.4;FOR=5.6.7.8", "proto=http;proto=https",
                          R"(for="[2001:db8::1")", "for=", "f(r=1.2.3.4", "for=a b", R"(for="1.2.3.4"x)"})
    EXPECT_FALSE(parse_forwarded(bad)) << bad;
}

TEST(Forwarded, XForwardedForListAndProto) {
  auto hops = parse_x_forwarded("203.0.113.195, 2001:db8::1 ,[2001:db8::2]:443, 198.51.100.1:5000,,junk", "https");
  ASSERT_EQ(hops.size(), 5u);
  EXPECT_EQ(hops[0].address, "203.0.113.195");
  EXPECT_EQ(hops[1].address, "2001:db8::1");
  EXPECT_EQ(hops[2].address, "2001:db8::2");
  EXPECT_EQ(hops[3].address, "198.51.100.1");
  EXPECT_EQ(hops[4].address, "");
  EXPECT_EQ(hops[4].secure, true);  // the proxy next to us wrote the one proto
  EXPECT_FALSE(hops[0].secure);
  auto aligned = parse_x_forwarded("1.1.1.1, 2.2.2.2", "https, http");
  EXPECT_EQ(aligned[0].secure, true);
  EXPECT_EQ(aligned[1].secure, false);
}

TEST(Forwarded, TheRightMostUntrustedAddressIsTheClientSoPrependingCannotSpoof) {
  TrustedProxies trusted({"10.0.0.0/8"});
  // The station wrote "6.6.6.6" itself; the balancer appended what it saw.
  auto hops = parse_x_forwarded("6.6.6.6, 203.0.113.9, 10.0.0.2", "");
  auto o = resolve_origin(trusted, hops, {"10.0.0.1", false});
  EXPECT_EQ(o.address, "203.0.113.9");
  // Every hop trusted: the left-most.
  EXPECT_EQ(resolve_origin(trusted, parse_x_forwarded("10.1.1.1, 10.0.0.2", ""), {"10.0.0.1", false}).address,
            "10.1.1.1");
  // An untrusted peer's list is not read at all.
  EXPECT_EQ(resolve_origin(trusted, hops, {"198.51.100.1", false}).address, "198.51.100.1");
  // "unknown" ends the walk at the proxy that reported it.
  EXPECT_EQ(resolve_origin(trusted, parse_x_forwarded("1.2.3.4, unknown", ""), {"10.0.0.1", false}).address,
            "10.0.0.1");
}

TEST(Forwarded, SchemeComesWithTheChosenHop) {
  TrustedProxies trusted({"10.0.0.0/8"});
  auto hops = parse_forwarded("for=203.0.113.9;proto=https, for=10.0.0.2;proto=http");
  auto o = resolve_origin(trusted, *hops, {"10.0.0.1", false});
  EXPECT_EQ(o.address, "203.0.113.9");
  EXPECT_TRUE(o.secure);
}

TEST(Forwarded, ClientOriginPrefersForwardedAndIgnoresUntrustedPeers) {
  TrustedProxies trusted({"127.0.0.2"});
  std::vector<std::pair<std::string, std::string>> headers{
      {"X-Forwarded-For", "198.51.100.7"}, {"forwarded", "for=192.0.2.1"}, {"Forwarded", "for=192.0.2.5;proto=wss"}};
  auto o = client_origin(trusted, {"127.0.0.2", false}, headers);
  EXPECT_EQ(o.address, "192.0.2.5");  // two Forwarded lines are one list
  EXPECT_TRUE(o.secure);
  EXPECT_EQ(client_origin(trusted, {"127.0.0.1", false}, headers).address, "127.0.0.1");
  std::string problem;
  auto bad = client_origin(trusted, {"127.0.0.2", false}, {{"Forwarded", "for=\"1.2.3.4"}}, &problem);
  EXPECT_EQ(bad.address, "127.0.0.2");
  EXPECT_NE(problem.find("malformed Forwarded"), std::string::npos);
  auto proto_only = client_origin(trusted, {"127.0.0.2", false}, {{"X-Forwarded-Proto", "https"}});
  EXPECT_TRUE(proto_only.secure);
  EXPECT_EQ(proto_only.address, "127.0.0.2");
}

namespace {
std::string v2(unsigned char ver_cmd, unsigned char family, const std::string& body) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(family);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xFF);
  return h + body;
}
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += static_cast<char>(c);
  return s;
}
}  // namespace

TEST(ProxyProtocol, V1Tcp4Tcp6AndUnknown) {
  const std::string tcp4 = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
  auto p = parse_proxy_header(tcp4 + "GET / HTTP/1.1\r\n");
  ASSERT_EQ(p.status, Status::done) << p.error;
  EXPECT_EQ(p.header.size, tcp4.size());
  EXPECT_EQ(p.header.source->to_string(), "192.0.2.1");
  p = parse_proxy_header("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n\x16\x03");
  ASSERT_EQ(p.status, Status::done) << p.error;
  EXPECT_EQ(p.header.source->to_string(), "2001:db8::1");
  p = parse_proxy_header("PROXY TCP6 ::ffff:10.0.0.1 ::1 1 2\r\n");
  EXPECT_EQ(p.header.source->to_string(), "10.0.0.1");
  p = parse_proxy_header("PROXY UNKNOWN whatever follows\r\nGET");
  ASSERT_EQ(p.status, Status::done);
  EXPECT_EQ(p.header.size, 32u);
  EXPECT_FALSE(p.header.source);
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN\r\n").status, Status::done);
}

TEST(ProxyProtocol, V1TruncatedNeedsMoreAndEveryPrefixDoes) {
  const std::string line = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
  for (std::size_t n = 0; n < line.size(); ++n)
    EXPECT_EQ(parse_proxy_header(line.substr(0, n)).status, Status::need_more) << n;
}

TEST(ProxyProtocol, V1MalformedAndOversized) {
  for (const char* bad : {"PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n", "PROXY TCP4 2001:db8::1 ::1 1 2\r\n",
                          "PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 1 65536\r\n",
                          "PROXY TCP4 192.0.2.1 198.51.100.2 01 2\r\n", "PROXY TCP4  192.0.2.1 198.51.100.2 1 2\r\n",
                          "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n", "PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n",
                          "PROXY TCP4 999.0.2.1 198.51.100.2 1 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
                          "PROXy TCP4", "GET / HTTP/1.1\r\n", "\x16\x03\x01"})
    EXPECT_EQ(parse_proxy_header(bad).status, Status::invalid) << bad;
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN " + std::string(92, 'x')).status, Status::need_more);
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN " + std::string(93, 'x')).status, Status::invalid);  // 107, no CRLF
}

TEST(ProxyProtocol, V2Tcp4Tcp6WithTlvsSkipped) {
  const auto tcp4 = v2(0x21, 0x11, bytes({192, 0, 2, 1, 198, 51, 100, 2, 0xDC, 0x04, 0x01, 0xBB}) +
                                       bytes({0x04, 0x00, 0x03}) + "abc");  // a NOOP TLV
  auto p = parse_proxy_header(tcp4 + "GET");
  ASSERT_EQ(p.status, Status::done) << p.error;
  EXPECT_EQ(p.header.size, tcp4.size());
  EXPECT_EQ(p.header.source->to_string(), "192.0.2.1");
  std::string v6(36, '\0');
  v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = static_cast<char>(0xb8), v6[15] = 7;
  p = parse_proxy_header(v2(0x21, 0x21, v6));
  ASSERT_EQ(p.status, Status::done) << p.error;
  EXPECT_EQ(p.header.source->to_string(), "2001:db8::7");
  std::string mapped(36, '\0');
  mapped[10] = mapped[11] = static_cast<char>(0xFF), mapped[12] = 10, mapped[15] = 3;
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x21, mapped)).header.source->to_string(), "10.0.0.3");
}

TEST(ProxyProtocol, V2SslTlvTellsWhetherTheClientUsedTls) {
  const auto addresses = std::string(12, '\x01');
  const auto noop = bytes({0x04, 0x00, 0x01, 0x00});
  // PP2_TYPE_SSL: client flags (PP2_CLIENT_SSL), verify, no sub-TLVs.
  const auto ssl = [](int client) { return bytes({0x20, 0x00, 0x05, client, 0, 0, 0, 0}); };
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, addresses + noop + ssl(0x01))).header.secure, true);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, addresses + ssl(0x00))).header.secure, false);
  EXPECT_FALSE(parse_proxy_header(v2(0x21, 0x11, addresses + noop)).header.secure);
  // A TLV that overruns the header is skipped, not trusted.
  auto overrun = parse_proxy_header(v2(0x21, 0x11, addresses + bytes({0x20, 0x00, 0x09, 0x01})));
  ASSERT_EQ(overrun.status, Status::done);
  EXPECT_FALSE(overrun.header.secure);
}

TEST(ProxyProtocol, V2LocalUnspecUdpAndUnixCarryNoAddress) {
  for (auto [cmd, fam] : {std::pair{0x20, 0x11}, {0x21, 0x00}, {0x21, 0x12}, {0x21, 0x31}}) {
    const auto h = v2(cmd, fam, std::string(fam == 0x31 ? 216 : 12, '\x01'));
    auto p = parse_proxy_header(h);
    ASSERT_EQ(p.status, Status::done) << p.error;
    EXPECT_EQ(p.header.size, h.size());
    EXPECT_FALSE(p.header.source);
  }
  EXPECT_EQ(parse_proxy_header(v2(0x20, 0x00, "")).status, Status::done);
}

TEST(ProxyProtocol, V2TruncatedMalformedAndOversized) {
  const auto h = v2(0x21, 0x11, std::string(12, '\x01'));
  for (std::size_t n = 0; n < h.size(); ++n)
    EXPECT_EQ(parse_proxy_header(h.substr(0, n)).status, Status::need_more) << n;
  EXPECT_EQ(parse_proxy_header(v2(0x11, 0x11, std::string(12, '\1'))).status, Status::invalid);  // version 1
  EXPECT_EQ(parse_proxy_header(v2(0x22, 0x11, std::string(12, '\1'))).status, Status::invalid);  // command 2
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x41, std::string(12, '\1'))).status, Status::invalid);  // family 4
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, std::string(11, '\1'))).status, Status::invalid);  // short TCP4
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x21, std::string(35, '\1'))).status, Status::invalid);  // short TCP6
  // The length alone refuses a header beyond the bound, before its bytes arrive.
  auto big = v2(0x21, 0x11, std::string(kProxyV2MaxBytes - 15, '\1')).substr(0, 16);
  EXPECT_EQ(parse_proxy_header(big).status, Status::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, std::string(kProxyV2MaxBytes - 16, '\1'))).status, Status::done);
  EXPECT_EQ(parse_proxy_header(std::string("\r\n\r\n\0\r\nQUIX\n", 12)).status, Status::invalid);
}
