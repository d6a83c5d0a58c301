#pragma once
/// @file
/// The charging-station side: connects to a CSMS, negotiates the subprotocol, reconnects.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ocpp/client/backoff.hpp"
#include "ocpp/rpc/visibility.hpp"
#include "ocpp/session/side.hpp"
#include "ocpp/tls/tls.hpp"
#include "ocpp/transport/compression.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// What a charging station's Client connects with, on top of the session options.
struct ClientOptions : SessionOptions {
  std::string endpoint;  ///< ws://host:port/path (the identity is appended)
  std::string identity;  ///< the station identity (the path's last segment, the Basic Auth username)
  /// Offered in preference order. After the first connection only the negotiated one is offered,
  /// so a reconnect never changes the protocol.
  std::vector<std::string> protocols;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra HTTP headers of the WebSocket upgrade request
  /// Security profiles 1 and 2: HTTP Basic Auth with the identity as username; binary-safe.
  std::optional<std::string> password;
  /// Checked against the URL and credentials before connecting (create() throws on a misfit).
  /// Unset: profile 0 or 1 for ws://, 2 or 3 for wss://, from the password and the certificate.
  std::optional<SecurityProfile> security_profile;
  ClientTlsOptions tls;  ///< wss://
  std::vector<std::pair<std::string, std::string>> query;  ///< query parameters appended to the URL
  bool reconnect = true;  ///< after an unexpected close of an established connection
  /// A connect() from the closed state retries while the CSMS is down or unreachable, under the
  /// same policy and max_reconnects, instead of failing at the first error (see README).
  bool retry_initial_connect = false;
  std::size_t max_reconnects = std::numeric_limits<std::size_t>::max();  ///< per incident
  /// The exponential policy, unless retry_back_off is set.
  milliseconds backoff_min{1000};
  milliseconds backoff_max{30000};  ///< the longest wait of the exponential policy
  /// Set: the OCPP 2.0.1 rule replaces the exponential policy (backoff_min/backoff_max unused).
  std::optional<OcppRetryBackOff> retry_back_off;
  /// The random part of every wait, a value in [0, 1]; unset: a generator seeded from
  /// std::random_device. Inject it for deterministic delays.
  std::function<double()> backoff_random;
  milliseconds connect_timeout{30000};  ///< one deadline for a whole connect attempt
  /// permessage-deflate, offered when enabled; the server may decline (see compressed()).
  CompressionOptions compression{};
};

/// A reconnect is scheduled (Client::on_reconnect).
struct ReconnectEvent {
  unsigned attempt;  ///< the attempt's number, from 1
  milliseconds delay;  ///< the wait before this attempt
};

/// The charging station's side: connects to a CSMS, reconnects with backoff, and is an RpcSession.
class Client : public SessionSide<Role::charging_station> {
 public:
  /// Completion of connect(): the error, if any.
  using ConnectSignature = void(std::exception_ptr);

  /// Makes a client; connect() connects it.
  /// Throws std::invalid_argument for an empty identity, an endpoint that is not ws:// / wss://, or
  /// a security profile that does not fit the endpoint and credentials; TlsError for unusable TLS
  /// files.
  static std::shared_ptr<Client> create(boost::asio::any_io_executor executor, ClientOptions options);

  /// Completes when the connection is open (at once if it already is), or with ConnectError.
  template <class Token>
  auto connect(Token&& token) {
    return boost::asio::async_initiate<Token, ConnectSignature>(
        [self = std::static_pointer_cast<Client>(shared_from_this())](auto handler) {
          self->start_connect(ConnectHandler(std::move(handler)));
        },
        token);
  }

  /// The URL connected to (endpoint plus identity and query).
  const std::string& url() const noexcept;
  /// The security profile in force (given or derived from the URL and credentials).
  SecurityProfile security_profile() const noexcept;
  /// Whether the current (or last) connection negotiated permessage-deflate.
  bool compressed() const noexcept;

  /// The connection dropped; a reconnect may follow (then `close` fires only when it is final).
  void on_disconnect(std::function<void(const CloseResult&)> f);
  /// A reconnect attempt is scheduled after a drop.
  void on_reconnect(std::function<void(const ReconnectEvent&)> f);

  ~Client() override;

 private:
  using ConnectHandler = boost::asio::any_completion_handler<ConnectSignature>;
  Client(boost::asio::any_io_executor executor, ClientOptions options);

  void start_connect(ConnectHandler handler);
  void attempt();
  bool retries(const ConnectError& error) const noexcept;
  void schedule_reconnect(const std::string& last_error);
  void give_up(std::exception_ptr error, const CloseResult& result);
  void on_unexpected_close(const CloseResult& result) override;
  void on_close_while_not_open() override;
  void complete_connect_waiters(std::exception_ptr error);

  /// The options, the endpoint's parts, connect waiters and the reconnect state (src/client).
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ocpp
OCPP_API_END
