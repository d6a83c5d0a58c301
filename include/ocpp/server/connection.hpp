#pragma once
/// @file
/// The connection phase of the server: what middleware and the auth callback see of an HTTP
/// upgrade, how they decide, and the events around it. Contexts are shared pointers; they may be
/// kept and decided later, from any thread. The first decision wins; later ones are ignored.
#include <boost/asio/cancellation_signal.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ocpp/rpc/visibility.hpp"
#include "ocpp/tls/tls.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// The WebSocket upgrade request of a station, as the connection pipeline and handlers see it.
struct HandshakeInfo {
  std::string identity;  ///< the route's :identity parameter, else the last path segment (decoded)
  std::string path;      ///< the request path, undecoded, without the query
  std::string query;     ///< without '?'
  /// The station's address: the TCP peer's, or what trusted proxies report (ServerOptions::
  /// trusted_proxies, ListenOptions::proxy_protocol). IPv4-mapped IPv6 is written as IPv4.
  std::string remote_address;
  std::string peer_address;  ///< the TCP peer's (the proxy's, behind one)
  /// TLS from the station: to this listener, or to the first trusted proxy (its proto= /
  /// X-Forwarded-Proto), i.e. the station used wss://.
  bool secure = false;
  std::vector<std::string> offered_protocols;  ///< Sec-WebSocket-Protocol values, in the station's order
  std::vector<std::pair<std::string, std::string>> headers;  ///< as received; Authorization removed
  std::map<std::string, std::string, std::less<>> params;    ///< route parameters
  /// Basic Auth password bytes (binary-safe) when the Authorization header names this identity.
  std::optional<std::string> password;
  SecurityProfile security_profile = SecurityProfile::none;  ///< of the listener
  std::optional<PeerCertificate> client_certificate;        ///< profile 3, verified
  bool compression = false;  ///< permessage-deflate negotiated (known once the upgrade is answered)
  /// The first value of a header (case-insensitive name), empty when absent.
  std::string_view header(std::string_view name) const noexcept;
};

namespace detail {
class UpgradeChain;  ///< defined inside the server; contexts only hold it
}

/// A step of the upgrade pipeline (middleware or auth callback); thread-safe, the first decision wins.
class UpgradeContext {
 public:
  UpgradeContext(const UpgradeContext&) = delete;
  UpgradeContext& operator=(const UpgradeContext&) = delete;
  virtual ~UpgradeContext();

  /// The upgrade request.
  const HandshakeInfo& handshake() const noexcept { return *handshake_; }
  /// What the middleware before this one passed to next().
  const boost::json::object& state() const noexcept { return state_; }
  /// Ends the upgrade with this HTTP status and body.
  void reject(unsigned status = 401, std::string message = "Unauthorized");
  /// The socket was lost or handshake_timeout passed: decisions are ignored from now on.
  bool aborted() const noexcept;
  /// Emits (on the connection's executor) when the upgrade is aborted.
  boost::asio::cancellation_slot cancellation_slot() const noexcept;

  /// Made by the server.
  UpgradeContext(std::shared_ptr<detail::UpgradeChain> chain, std::size_t step,
                 std::shared_ptr<const HandshakeInfo> handshake, boost::json::object state);

 protected:
  bool decide() noexcept;  ///< true for the first decision only
  std::shared_ptr<detail::UpgradeChain> chain_;  ///< the pipeline this step belongs to
  std::size_t step_;  ///< this step's index in the pipeline
  boost::json::object state_;  ///< see state()

 private:
  std::shared_ptr<const HandshakeInfo> handshake_;
  std::atomic<bool> decided_{false};
};

/// Koa-style connection middleware: call next() to go on, or reject(). A context released without
/// either ends the upgrade with 500.
class ConnectionContext : public UpgradeContext {
 public:
  using UpgradeContext::UpgradeContext;
  ~ConnectionContext() override;
  /// Goes on to the next middleware (or the auth callback); `state` is merged into ctx.state().
  void next(boost::json::object state = {});
};

/// What AuthContext::accept() adds to the accepted connection.
struct AcceptOptions {
  boost::json::object station{};  ///< merged over the state into the station's data
  std::string protocol{};         ///< overrides the negotiated subprotocol; must be one the client offered
};

/// The auth callback, last in the chain: accept() or reject(). A context released without either
/// ends the upgrade with 401.
class AuthContext : public UpgradeContext {
 public:
  using UpgradeContext::UpgradeContext;
  ~AuthContext() override;
  /// Accepts the upgrade: the connection opens with `options`.
  void accept(AcceptOptions options = {});
};

/// Connection middleware (Server::use, Route::use): decides through the context.
using ConnectionMiddleware = std::function<void(std::shared_ptr<ConnectionContext>)>;
/// The auth callback (Server::auth, Route::auth): decides through the context.
using AuthCallback = std::function<void(std::shared_ptr<AuthContext>)>;

/// An upgrade ended before a decision (Server::on_upgrade_aborted).
struct UpgradeAbortedEvent {
  std::string identity;  ///< as in HandshakeInfo
  std::string remote_address;  ///< as in HandshakeInfo
  std::string reason;  ///< "handshake timeout" or "socket closed"
};

/// A middleware or the auth callback threw (Server::on_upgrade_error).
struct UpgradeErrorEvent {
  std::string identity;  ///< as in HandshakeInfo
  std::string remote_address;  ///< as in HandshakeInfo
  std::string error;  ///< what a middleware or the auth callback threw
};

/// The kinds of SecurityEvent.
enum class SecurityEventType {
  auth_failed,
  upgrade_aborted,
  connection_rate_limit,
  connection_limit,
  rate_limit_exceeded,
  tls_handshake_failed,  ///< protocol, cipher or certificate refused; details say which
};
std::string_view to_string(SecurityEventType t) noexcept;  ///< "AUTH_FAILED", ...

/// A security-relevant event (Server::on_security_event).
struct SecurityEvent {
  SecurityEventType type;  ///< what happened
  std::string identity;  ///< the station, when known
  std::string ip;  ///< the remote address
  std::string timestamp;  ///< ISO 8601 UTC
  std::string details;  ///< free text
};

}  // namespace ocpp
OCPP_API_END
