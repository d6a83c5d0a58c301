#pragma once
/// @file
/// redis://[[user]:password@]host[:port][/db] and rediss://... (TLS);
/// redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/master-name[/db] and
/// rediss-sentinel://... : the sentinels to ask where the master called master-name is;
/// redis-cluster://[[user]:password@]host[:port][,host[:port]...] and rediss-cluster://... : seed
/// nodes of a Redis Cluster, to learn its slot map from (see ClusterClient).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::redis {

/// A host and port (a sentinel's).
struct Endpoint {
  std::string host{};  ///< without brackets for IPv6
  std::uint16_t port = 6379;  ///< the TCP port

  /// Same host and port.
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// A parsed redis://, rediss://, redis-sentinel:// or redis-cluster:// URL.
struct Url {
  bool tls = false;    ///< rediss:// (with Sentinel: to the sentinels and to the master)
  std::string host{};  ///< without brackets for IPv6; with Sentinel, empty until a sentinel names the master
  std::uint16_t port = 6379;  ///< the master's TCP port
  std::string user{};      ///< empty: `AUTH <password>` (the default user)
  std::string password{};  ///< empty: no AUTH; with Sentinel, the master's (the sentinels' is an option)
  int db = 0;              ///< SELECT after connecting when not 0
  std::vector<Endpoint> sentinels{};  ///< in the URL's order; port 26379 when none is given
  std::string master_name{};          ///< the name the sentinels monitor the master under
  std::vector<Endpoint> seeds{};      ///< redis-cluster://: in the URL's order; port 6379 when none is given

  /// Whether the URL names sentinels rather than the master.
  bool sentinel() const noexcept { return !sentinels.empty(); }
  /// Whether the URL names the seed nodes of a Redis Cluster.
  bool cluster() const noexcept { return !seeds.empty(); }
  /// Same fields.
  friend bool operator==(const Url&, const Url&) = default;
};

/// A URL parse_url cannot use; what() says what is wrong with it (never the password).
class UrlError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// User, password and master name are percent-decoded. Throws UrlError for another scheme, an empty
/// host, a bad port, a db that is not a number, a Sentinel URL without a master name, or a query or
/// fragment (no options are defined). A cluster URL takes no database (Redis Cluster has only db 0).
Url parse_url(std::string_view url);

/// host[:port] or [IPv6][:port], `default_port` when none is given. Throws UrlError for an empty
/// host or a bad port.
Endpoint parse_endpoint(std::string_view host_port, std::uint16_t default_port);
/// host:port, [host]:port for IPv6.
std::string to_string(const Endpoint& endpoint);
/// A redis:// (rediss:// when url.tls) URL for one server, with `url`'s credentials and db.
std::string server_url(const Url& url, const Endpoint& server);

}  // namespace ocpp::redis
OCPP_API_END
