// Basic Auth as profiles 1 and 2 use it: binary-safe, colons anywhere, the identity as username.
#include <gtest/gtest.h>

#include "ocpp/server/basic_auth.hpp"

using namespace ocpp;

TEST(BasicAuth, RoundTripsColonsAndBinaryPasswords) {
  const std::string binary("\0pa:ss\xff\x01", 8);
  for (auto [identity, password] : {std::pair<std::string, std::string>{"CP001", "secret"},
                                    {"RDAM:1", "a:b:c"}, {"CP001", binary}, {"CP001", ""}}) {
    EXPECT_EQ(basic_auth_password(basic_auth_header(identity, password), identity), password) << identity;
  }
}

TEST(BasicAuth, AnythingElseIsNoPassword) {
  const auto header = basic_auth_header("CP001", "secret");
  EXPECT_EQ(basic_auth_password(header, "CP002"), std::nullopt) << "the username must be the identity";
  EXPECT_EQ(basic_auth_password(header, "CP00"), std::nullopt);
  EXPECT_EQ(basic_auth_password("Bearer abc", "CP001"), std::nullopt);
  EXPECT_EQ(basic_auth_password("Basic !!!", "CP001"), std::nullopt);
  EXPECT_EQ(basic_auth_password("Basic", "CP001"), std::nullopt);
  EXPECT_EQ(basic_auth_password("basic Q1AwMDE6c2VjcmV0", "CP001"), "secret") << "the scheme is case-insensitive";
  EXPECT_EQ(basic_auth_password("Basic Q1AwMDE=", "CP001"), std::nullopt) << "no colon after the identity";
}

TEST(BasicAuth, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abcd"));
  EXPECT_TRUE(constant_time_equals("", ""));
}

TEST(BasicAuth, PasswordRulesPerVersion) {
  using V = ProtocolVersion;
  EXPECT_FALSE(is_valid_ocpp_password(V::v16, std::string(15, 'a')));
  EXPECT_TRUE(is_valid_ocpp_password(V::v16, std::string(20, 'a')));
  EXPECT_FALSE(is_valid_ocpp_password(V::v16, std::string(21, 'a')));
  EXPECT_TRUE(is_valid_ocpp_password(V::v16, std::string(40, 'f'))) << "the hex form of 20 bytes";
  EXPECT_FALSE(is_valid_ocpp_password(V::v16, std::string(39, 'f')));
  EXPECT_TRUE(is_valid_ocpp_password(V::v201, std::string(40, 'a')));
  EXPECT_FALSE(is_valid_ocpp_password(V::v201, std::string(41, 'a')));
  EXPECT_FALSE(is_valid_ocpp_password(V::v201, "sixteen chars ok") ) << "no spaces in passwordString";
  EXPECT_TRUE(is_valid_ocpp_password(V::v21, std::string(64, 'a')));
  EXPECT_FALSE(is_valid_ocpp_password(V::v21, std::string(65, 'a')));
}
