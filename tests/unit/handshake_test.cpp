#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "ocpp/client/backoff.hpp"
#include "ocpp/client/url.hpp"
#include "server/handshake.hpp"

using namespace ocpp;
using namespace ocpp::detail;
using std::chrono::milliseconds;

TEST(Url, ParsesWsUrls) {
  auto u = parse_ws_url("ws://example.com:8080/ocpp?tenant=a");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->path, "/ocpp");
  EXPECT_EQ(u->query, "tenant=a");
  EXPECT_EQ(parse_ws_url("wss://h")->port, "443");
  EXPECT_EQ(parse_ws_url("ws://[::1]:9000/")->host, "::1");
  EXPECT_FALSE(parse_ws_url("http://h"));
  EXPECT_FALSE(parse_ws_url("ws://"));
  EXPECT_FALSE(parse_ws_url("ws://h:port/"));
}

TEST(Url, TargetEncodesIdentityAndKeepsQuery) {
  auto u = *parse_ws_url("ws://h:1/ocpp?tenant=a");
  EXPECT_EQ(build_target(u, "RDAM|123 /x"), "/ocpp/RDAM%7C123%20%2Fx?tenant=a");
  EXPECT_EQ(build_target(u, "CP1", {{"k", "v w"}}), "/ocpp/CP1?tenant=a&k=v%20w");
  EXPECT_EQ(build_target(*parse_ws_url("ws://h:1"), "CP1"), "/CP1");
}

TEST(Backoff, DoublesWithJitterAndIsBounded) {
  EXPECT_EQ(backoff_delay(1, milliseconds(1000), milliseconds(30000), 0.0), milliseconds(500));
  EXPECT_EQ(backoff_delay(1, milliseconds(1000), milliseconds(30000), 1.0), milliseconds(1000));
  EXPECT_EQ(backoff_delay(3, milliseconds(1000), milliseconds(30000), 1.0), milliseconds(4000));
  EXPECT_EQ(backoff_delay(10, milliseconds(1000), milliseconds(30000), 1.0), milliseconds(30000));
  EXPECT_EQ(backoff_delay(1000, milliseconds(1000), milliseconds(30000), 0.5), milliseconds(30000));
}

namespace {
// The delays of attempts 1..n under the OCPP rule, each with the random value `r`.
std::vector<long long> retry_back_off_delays(const OcppRetryBackOff& rule, unsigned n, double r) {
  std::vector<long long> out;
  milliseconds previous{0};
  for (unsigned attempt = 1; attempt <= n; ++attempt) {
    previous = retry_back_off_delay(rule, attempt, previous, r);
    out.push_back(previous.count());
  }
  return out;
}
}  // namespace

TEST(Backoff, OcppRuleStartsAtTheMinimumPlusRandomDoublesRepeatTimesThenStays) {
  const OcppRetryBackOff rule{milliseconds(10000), milliseconds(4000), 3};
  // 10 s + 2 s, then doubled with a new 2 s three times, then the last wait again and again.
  EXPECT_EQ(retry_back_off_delays(rule, 7, 0.5), (std::vector<long long>{12000, 26000, 54000, 110000, 110000, 110000, 110000}));
  EXPECT_EQ(retry_back_off_delays(rule, 5, 0.0), (std::vector<long long>{10000, 20000, 40000, 80000, 80000}));
  EXPECT_EQ(retry_back_off_delays(rule, 2, 1.0), (std::vector<long long>{14000, 32000}));
  // The random part is drawn for each doubling: a later draw does not change earlier waits.
  EXPECT_EQ(retry_back_off_delay(rule, 2, milliseconds(12000), 1.0), milliseconds(28000));
  EXPECT_EQ(retry_back_off_delay(rule, 5, milliseconds(54000), 1.0), milliseconds(54000)) << "no new random part";
}

TEST(Backoff, OcppRuleWithoutRepeatsOrRandomIsConstant) {
  EXPECT_EQ(retry_back_off_delays({milliseconds(30000), milliseconds(0), 0}, 4, 0.9),
            (std::vector<long long>{30000, 30000, 30000, 30000}));
}

TEST(Backoff, OcppRuleIsBoundedForHugeRepeatTimes) {
  const auto delays = retry_back_off_delays({milliseconds(1000), milliseconds(0), 1000}, 200, 0.0);
  EXPECT_EQ(delays.back(), max_retry_back_off.count());
  EXPECT_TRUE(std::is_sorted(delays.begin(), delays.end()));
}

TEST(Handshake, IdentityIsTheLastSegmentDecoded) {
  EXPECT_EQ(parse_request_target("/ocpp/CP001").identity, "CP001");
  EXPECT_EQ(parse_request_target("/ocpp/RDAM%7C123").identity, "RDAM|123");
  EXPECT_EQ(parse_request_target("/ocpp/CP001/").identity, "") << "a trailing slash leaves the last segment empty";
  EXPECT_EQ(parse_request_target("/ocpp/").identity, "") << "not \"ocpp\"";
  EXPECT_EQ(parse_request_target("/ocpp//CP001").identity, "CP001");
  EXPECT_EQ(parse_request_target("/CP%2F1?x=1").identity, "CP/1");
  EXPECT_EQ(parse_request_target("/CP%2F1?x=1").query, "x=1");
  EXPECT_EQ(parse_request_target("/").identity, "");
  EXPECT_EQ(parse_request_target("/a/%zz%4").identity, "%zz%4") << "malformed escapes are kept";
  EXPECT_EQ(percent_decode("%"), "%");
  EXPECT_EQ(percent_decode("a%4"), "a%4");
}

TEST(Handshake, SubprotocolHeader) {
  EXPECT_EQ(parse_subprotocols("ocpp2.0.1, ocpp1.6")->size(), 2u);
  EXPECT_EQ(parse_subprotocols("")->size(), 0u);
  EXPECT_FALSE(parse_subprotocols("ocpp1.6,,ocpp2.0.1"));
  EXPECT_FALSE(parse_subprotocols("ocpp1.6,ocpp1.6"));
  EXPECT_FALSE(parse_subprotocols("ocpp 1.6"));
  EXPECT_FALSE(parse_subprotocols("ocpp1.6,"));
}

TEST(Handshake, ServerPreferenceWins) {
  std::vector<std::string> server{"ocpp2.1", "ocpp2.0.1", "ocpp1.6"};
  EXPECT_EQ(negotiate_subprotocol(server, {"ocpp1.6", "ocpp2.0.1"}), "ocpp2.0.1");
  EXPECT_EQ(negotiate_subprotocol(server, {"ocpp1.5"}), "");
  EXPECT_EQ(negotiate_subprotocol(server, {}), "");
}
