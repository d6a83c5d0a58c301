#pragma once
// redis://[[user]:password@]host[:port][/db] and rediss://... (TLS).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ocpp::redis {

struct Url {
  bool tls = false;    // rediss://
  std::string host{};  // without brackets for IPv6
  std::uint16_t port = 6379;
  std::string user{};      // empty: AUTH <password> (the default user)
  std::string password{};  // empty: no AUTH
  int db = 0;              // SELECT after connecting when not 0

  friend bool operator==(const Url&, const Url&) = default;
};

// A URL parse_url cannot use; what() says what is wrong with it (never the password).
class UrlError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// User and password are percent-decoded. Throws UrlError for another scheme, an empty host, a bad
// port, a db that is not a number, or a query or fragment (no options are defined).
Url parse_url(std::string_view url);

}  // namespace ocpp::redis
