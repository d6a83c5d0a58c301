// Route patterns: matching, parameters, and the specificity order static > parameter > wildcard.
#include <gtest/gtest.h>

#include "server/router.hpp"

using namespace ocpp::detail;

TEST(RoutePattern, StaticSegmentsAreCaseInsensitiveAndEmptySegmentsIgnored) {
  RoutePattern p("/OCPP//v16/");
  EXPECT_TRUE(p.match("/ocpp/V16"));
  EXPECT_TRUE(p.match("ocpp/v16/"));
  EXPECT_FALSE(p.match("/ocpp/v16/CP1"));
  EXPECT_FALSE(p.match("/ocpp"));
}

TEST(RoutePattern, ParametersArePercentDecoded) {
  auto m = RoutePattern("/cs/:identity/ws").match("/cs/RDAM%7C1/ws");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("identity"), "RDAM|1");
  EXPECT_FALSE(RoutePattern("/cs/:identity").match("/cs"));
}

TEST(RoutePattern, WildcardTakesTheRestButNotNothing) {
  RoutePattern p("/ocpp/*");
  auto m = p.match("/ocpp/a/b%20c");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("*"), "a/b c");
  EXPECT_FALSE(p.match("/ocpp"));
}

TEST(RoutePattern, MalformedPatternsAreRefused) {
  EXPECT_THROW(RoutePattern("/a/*/b"), std::invalid_argument);
  EXPECT_THROW(RoutePattern("/a/:"), std::invalid_argument);
}

TEST(RoutePattern, MostSpecificWinsSegmentBySegment) {
  std::vector<RoutePattern> routes{RoutePattern("/ocpp/*"), RoutePattern("/ocpp/:identity"),
                                   RoutePattern("/ocpp/admin"), RoutePattern("/:tenant/:identity")};
  EXPECT_EQ(best_match(routes, "/ocpp/admin")->first, 2u);
  EXPECT_EQ(best_match(routes, "/ocpp/CP1")->first, 1u);
  EXPECT_EQ(best_match(routes, "/ocpp/CP1/x")->first, 0u);
  EXPECT_EQ(best_match(routes, "/acme/CP1")->first, 3u);
  EXPECT_FALSE(best_match(routes, "/acme/CP1/x"));
}
