#pragma once
/// @file
/// The CSMS side: accepts charging stations, negotiates subprotocols, hands out one ServerClient
/// per connection with the same call/handle API as the client.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ocpp/cluster/node.hpp"
#include "ocpp/rpc/visibility.hpp"
#include "ocpp/server/connection.hpp"
#include "ocpp/server/metrics.hpp"
#include "ocpp/server/station_state.hpp"
#include "ocpp/session/side.hpp"
#include "ocpp/transport/compression.hpp"

OCPP_API_BEGIN
namespace ocpp {

namespace detail {
class Handoff;
}

/// What the server does when a station offers no subprotocol it accepts.
enum class ProtocolMismatch {
  /// OCPP-J: complete the upgrade without Sec-WebSocket-Protocol, then close (1002).
  close_after_upgrade,
  /// Refuse the upgrade with HTTP 400 (what ocpp-ws-io does).
  http_400,
};

/// What the server does when a station connects while its identity is already connected.
enum class DuplicateIdentity {
  evict_old,   ///< the older connection is closed with 4000
  reject_new,  ///< the new upgrade gets HTTP 409
};

/// What a Server runs with, on top of the session options every connection gets.
struct ServerOptions : SessionOptions {
  /// Accepted subprotocols in the server's preference order; empty accepts any offer.
  std::vector<std::string> protocols{"ocpp2.1", "ocpp2.0.1", "ocpp1.6"};
  ProtocolMismatch protocol_mismatch = ProtocolMismatch::close_after_upgrade;  ///< see ProtocolMismatch
  /// An upgrade without any Sec-WebSocket-Protocol header gets 400 "OCPP subprotocol required";
  /// set this (e.g. "ocpp1.6") to admit such legacy stations under that protocol instead (the
  /// answer then names none, as RFC 6455 requires).
  std::string protocol_when_absent{};
  DuplicateIdentity duplicate_identity = DuplicateIdentity::evict_old;  ///< see DuplicateIdentity
  /// One deadline from the TCP accept to the open WebSocket (or the end of an HTTP answer): PROXY
  /// header, TLS handshake, request, chain and answer. Bytes that trickle in do not extend it.
  milliseconds handshake_timeout{30000};
  /// Connections still in their handshake (accepted, the upgrade not finished; PROXY header, TLS
  /// and HTTP included) at most, on the whole server and per TCP peer address (0: no bound). Beyond
  /// them a new connection is closed at once, without an answer. Peers in trusted_proxies (and of a
  /// proxy_protocol listener while it is empty) are exempt from the per-address bound: a balancer
  /// carries many stations.
  std::size_t max_handshakes = 1000;
  std::size_t max_handshakes_per_address = 256;  ///< per TCP peer address; see max_handshakes
  std::string server_header = "ocpp-ws-io-cpp";  ///< the Server header of HTTP answers
  /// Open connections at most (0: no cap), upgrades admitted and not yet registered included;
  /// further upgrades get 503.
  std::size_t max_connections = 0;
  /// The station's identity (the URL's last path segment, or a route's `:identity`, percent-decoded)
  /// has at most this many bytes (0: no bound); longer ones get 400 "Identity too long". OCPP's
  /// identifierString allows 48.
  std::size_t max_identity_length = 48;
  /// Identities only of identifierString characters (letters, digits and the marks *-_=:+|@.), and without
  /// a colon on a Basic Auth listener (profiles 1, 2), as OCPP requires; others get
  /// 400 "Invalid character in identity". false admits legacy identities: anything but control
  /// characters and '/'.
  bool strict_identity = true;
  /// New connections per remote address (a token bucket); further upgrades get 429. Default: none.
  std::optional<RateLimit> connection_rate_limit;
  std::size_t max_tracked_addresses = 10000;  ///< memory bound of that limiter
  /// Load balancers and reverse proxies (addresses or CIDR networks, IPv4 and IPv6) whose Forwarded,
  /// X-Forwarded-For and X-Forwarded-Proto headers name the station; anyone else's are ignored.
  /// They also gate the PROXY protocol (ListenOptions::proxy_protocol) when not empty. Throws
  /// std::invalid_argument at construction for an entry that is neither.
  std::vector<std::string> trusted_proxies{};
  /// A station's state survives reconnects for this long after the last disconnect.
  milliseconds station_ttl = std::chrono::hours(2);
  std::size_t max_stations = 100000;  ///< states kept at most (connected and within station_ttl)
  /// GET /health (JSON) and GET /metrics (Prometheus text) on the listening ports.
  bool health_endpoint = false;
  /// A directory whose files non-upgrade GET and HEAD requests on the listening ports get (empty: off):
  /// "/" is index.html, "/<name>" a file by a flat name (no subdirectories, no listing; anything else
  /// 404), read when requested; other methods 405. Answered before the connection gates (like
  /// /health), within handshake_timeout and under max_handshakes like any HTTP answer. Throws
  /// std::invalid_argument at construction when it is not a directory.
  std::filesystem::path web_root{};
  /// permessage-deflate, accepted when a station offers it (OCPP 2.0.1 and 2.1 require a CSMS to).
  CompressionOptions compression{.enabled = true};
  /// With an adapter, the server is a node of a cluster: send_to_client() and broadcast_batch()
  /// reach stations connected to any node, and a station connecting here evicts its socket on
  /// another node (see cluster::ClusterOptions).
  cluster::ClusterOptions cluster{};
};

/// One listening socket and the security profile of every connection it accepts.
struct ListenOptions {
  std::uint16_t port = 0;  ///< 0: any free port
  std::string host = "0.0.0.0";  ///< the address to bind
  /// 1 and 2: an upgrade without a Basic Auth password for its identity gets 401 before the chain.
  /// 2 and 3: TLS with `tls`. 3: a client certificate signed by tls.ca_file and fitting tls.binding.
  SecurityProfile profile = SecurityProfile::none;
  ServerTlsOptions tls{};  ///< certificates of profiles 2 and 3
  /// Every connection starts with a PROXY protocol header (v1 or v2, as HAProxy and cloud load
  /// balancers send it), read before TLS and HTTP within handshake_timeout; a connection without
  /// one is closed. Its address is the station's, unless trusted_proxies is set and the peer is not
  /// in it.
  bool proxy_protocol = false;
};

/// Per-route settings; unset fields keep the server's.
struct RouteConfig {
  std::optional<std::vector<std::string>> protocols{};  ///< as ServerOptions::protocols
  std::optional<std::string> protocol_when_absent{};  ///< as ServerOptions::protocol_when_absent
  std::optional<milliseconds> call_timeout{};  ///< as SessionOptions::call_timeout
  std::optional<milliseconds> ping_interval{};  ///< as SessionOptions::ping_interval
  std::optional<std::size_t> call_concurrency{};  ///< as SessionOptions::call_concurrency
  std::optional<StrictModeOptions> strict_mode{};  ///< as SessionOptions::strict_mode
  std::optional<RateLimitOptions> rate_limit{};  ///< as SessionOptions::rate_limit
};

/// A URL pattern with its own middleware, auth callback and settings (Server::route). Patterns are
/// split on '/' (empty segments ignored); a segment is static (compared case-insensitively), `:name`
/// (captures one segment, percent-decoded) or `*` (the rest, one segment or more; last only). When
/// several match, the most specific wins, segment by segment: static > parameter > wildcard.
class Route {
 public:
  /// A route for `pattern`; see the class comment for the syntax.
  explicit Route(std::string_view pattern) : pattern_(pattern) {}
  /// Runs after the server's middleware, in the order added.
  Route& use(ConnectionMiddleware middleware) {
    middleware_.push_back(std::move(middleware));
    return *this;
  }
  /// Replaces the server's auth callback for this route.
  Route& auth(AuthCallback callback) {
    auth_ = std::move(callback);
    return *this;
  }
  /// Settings of connections on this route (unset fields keep the server's).
  Route& config(RouteConfig config) {
    config_ = std::move(config);
    return *this;
  }
  /// The pattern the route was made with.
  const std::string& pattern() const noexcept { return pattern_; }
  /// The route's connection middleware, in order.
  const std::vector<ConnectionMiddleware>& middleware() const noexcept { return middleware_; }
  /// The route's auth callback (empty: the server's).
  const AuthCallback& auth_callback() const noexcept { return auth_; }
  /// The route's settings.
  const RouteConfig& settings() const noexcept { return config_; }

 private:
  std::string pattern_;
  std::vector<ConnectionMiddleware> middleware_;
  AuthCallback auth_;
  RouteConfig config_;
};

/// One station's connection on the CSMS side: an RpcSession made by the Server, with its handshake and station state.
class ServerClient : public SessionSide<Role::csms> {
 public:
  /// The upgrade request the connection was accepted with.
  const HandshakeInfo& handshake() const noexcept { return handshake_; }
  /// The station's state: it outlives this connection by ServerOptions::station_ttl, so a
  /// reconnect finds the same one. Its data starts as the connection middleware's state merged with
  /// the auth callback's accept({station}); on a reconnect those are merged into what is there.
  StationState& station() const noexcept { return *station_; }

 private:
  friend class detail::Handoff;  ///< the only maker
  ServerClient(executor_type ex, std::shared_ptr<const SessionOptions> options, HandshakeInfo info,
               std::shared_ptr<const HandlerTable> shared_handlers, SessionHooks hooks,
               std::shared_ptr<StationState> station);
  /// The protocol is known to on_client; the transport is attached after it, so that the handlers
  /// it registers see the first message.
  void announce_protocol(const std::string& protocol) { set_protocol(protocol); }
  void start(std::shared_ptr<Transport> transport, std::string protocol) {
    attach(std::move(transport), std::move(protocol));
  }
  HandshakeInfo handshake_;
  std::shared_ptr<StationState> station_;
};

/// The CSMS side: listens, runs the upgrade pipeline, registers stations and reaches them (also through a cluster).
class Server {
 public:
  /// Runs everything on one executor.
  Server(boost::asio::any_io_executor executor, ServerOptions options = {});
  /// Accepts on the first executor and spreads connections round-robin over all (one io_context
  /// per thread; see IoPool).
  Server(std::vector<boost::asio::any_io_executor> executors, ServerOptions options = {});
  /// Closes every connection (1001) and drops the upgrades in flight; once it returns no user
  /// callback of the server or its connections runs (it waits for those running on other threads).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts accepting; returns the bound port (pass 0 for any free port). May be called
  /// for several ports. Throws boost::system::system_error when binding fails.
  std::uint16_t listen(std::uint16_t port = 0, const std::string& host = "0.0.0.0");
  /// The same with a security profile; also throws TlsError for unusable TLS material.
  std::uint16_t listen(const ListenOptions& options);
  /// Replaces the certificates, CA and binding of the TLS listener on `port`: new connections use
  /// them, open ones keep what they were accepted with. Throws TlsError (and keeps the old ones)
  /// for unusable material, std::invalid_argument for a port that is no TLS listener.
  void update_tls(std::uint16_t port, const ServerTlsOptions& tls);

  /// Connection middleware for every upgrade, in the order added, before the route's own.
  Server& use(ConnectionMiddleware middleware);
  /// The auth callback, last in the chain (a route's own replaces it). Without one every upgrade
  /// that passes the middleware is accepted.
  Server& auth(AuthCallback callback);
  /// A route; once any is registered, upgrades to paths that match none get 404. The reference
  /// stays valid for the server's lifetime. Register routes before listen().
  Route& route(std::string_view pattern);
  /// An upgrade ended before a decision (handshake timeout or socket closed).
  void on_upgrade_aborted(std::function<void(const UpgradeAbortedEvent&)> f);
  /// A middleware or the auth callback threw; the upgrade gets 500.
  void on_upgrade_error(std::function<void(const UpgradeErrorEvent&)> f);
  /// A security-relevant event (failed auth, limits, TLS failures), for an audit log.
  void on_security_event(std::function<void(const SecurityEvent&)> f);
  /// What /metrics reports (connections, calls and errors by action, latency, bytes, drops); null
  /// unless health_endpoint is on.
  std::shared_ptr<Metrics> metrics() const;

  /// Each accepted connection, on its own executor, before any of its messages is read: register
  /// per-connection handlers and events here.
  void on_client(std::function<void(const std::shared_ptr<ServerClient>&)> f);

  /// Handlers shared by every connection (a connection's own handlers take precedence). Register
  /// them before listen().
  template <class F>
  void handle(std::string_view action, F&& f) {
    handlers().add({}, action, RpcSession::make_handler(std::forward<F>(f)));
  }
  /// Shared handler for `action` of one protocol only.
  template <class F>
  void handle(std::string_view protocol, std::string_view action, F&& f) {
    handlers().add(protocol, action, RpcSession::make_handler(std::forward<F>(f)));
  }
  /// Shared handler of every action without a handler of its own.
  template <class F>
  void handle_any(F&& f) {
    handlers().add_wildcard(RpcSession::make_handler(std::forward<F>(f)));
  }
  /// Typed, as RpcSession::handle(f): keyed by the request type's action and protocol.
  template <TypedHandler F>
  void handle(F&& f) {
    using Traits = action_traits<typename detail::handler_signature<F>::request>;
    static_assert(may_send(Role::charging_station, Traits::direction), "charging stations do not send this action");
    handlers().add(Traits::protocol, Traits::name, RpcSession::make_typed_handler(std::forward<F>(f)));
  }

  /// The station connected as `identity`, or null. This lookup and the two below are thread-safe.
  std::shared_ptr<ServerClient> get_client(std::string_view identity) const;
  /// Every connected station of this server.
  std::vector<std::shared_ptr<ServerClient>> clients() const;
  /// How many stations are connected to this server.
  std::size_t client_count() const;
  /// This node's name in the cluster (ServerOptions::cluster); empty when not clustered.
  std::string node_name() const;

  /// Messages between the nodes of a cluster: fire-and-forget, at most once, to every node
  /// subscribed to `channel`, this one included (not clustered: to this server's own handler).
  /// Handlers run on the server's first executor; one per channel, a second replaces the first.
  /// "ocpp.broadcast" is the nodes' own (std::invalid_argument).
  void publish(std::string channel, std::string message);
  /// Handles the messages of `channel`; replaces an earlier handler of it.
  void subscribe(std::string channel, std::function<void(const std::string& message)> handler);
  /// Stops handling `channel`.
  void unsubscribe(const std::string& channel);

  /// A CALL to the station connected as `identity`: here, or through the cluster on another node
  /// (ServerOptions::cluster). Fails with ConnectionError when it is not connected; routed calls
  /// that end otherwise than with the station's answer fail with cluster::RouteError, a
  /// ConnectionError naming the outcome.
  template <class Token>
  auto send_to_client(std::string identity, std::string action, boost::json::value payload, CallOptions options,
                      Token&& token) {
    return boost::asio::async_initiate<Token, RpcSession::CallSignature>(
        [this](auto handler, std::string identity, std::string action, boost::json::value payload,
               CallOptions options) {
          if (auto client = local_target(identity))
            return client->call(std::move(action), std::move(payload), std::move(options), std::move(handler));
          auto ex = boost::asio::get_associated_executor(handler, executor());
          route_call(std::move(ex), std::move(identity), {}, std::move(action), std::move(payload), std::move(options),
                     false, CallHandler(std::move(handler)));
        },
        token, std::move(identity), std::move(action), std::move(payload), std::move(options));
  }
  /// Typed send_to_client(): `request` is a generated request type; completes with its response type.
  template <OcppCallRequest Request, class Token>
  auto send_to_client(std::string identity, const Request& request, CallOptions options, Token&& token) {
    static_assert(may_send(Role::csms, action_traits<Request>::direction), "the CSMS does not send this action");
    using Response = typename action_traits<Request>::response_type;
    return boost::asio::async_initiate<Token, void(std::exception_ptr, Response)>(
        [this](auto handler, std::string identity, Request request, CallOptions options) {
          if (auto client = local_target(identity))
            return client->call(request, std::move(options), std::move(handler));
          using Traits = action_traits<Request>;
          using Completion = detail::TypedCompletion<Response, decltype(handler), false>;
          auto ex = boost::asio::get_associated_executor(handler, executor());
          route_call(std::move(ex), std::move(identity), std::string(Traits::protocol), std::string(Traits::name),
                     boost::json::value_from(request), std::move(options), false,
                     CallHandler(Completion{std::move(handler), Traits::name, Traits::validate_response, {}}));
        },
        token, std::move(identity), request, std::move(options));
  }
  /// Like send_to_client(), but completes with an empty optional on any failure, and logs why.
  template <class Token>
  auto safe_send_to_client(std::string identity, std::string action, boost::json::value payload,
                           CallOptions options, Token&& token) {
    return boost::asio::async_initiate<Token, RpcSession::SafeCallSignature>(
        [this](auto handler, std::string identity, std::string action, boost::json::value payload,
               CallOptions options) {
          if (auto client = local_target(identity))
            return client->safe_call(std::move(action), std::move(payload), std::move(options), std::move(handler));
          auto ex = boost::asio::get_associated_executor(handler, executor());
          route_call(std::move(ex), std::move(identity), {}, std::move(action), std::move(payload), std::move(options),
                     true, [h = std::move(handler)](std::exception_ptr e, boost::json::value v) mutable {
                       if (e) return std::move(h)(std::nullopt);
                       std::move(h)(std::move(v));
                     });
        },
        token, std::move(identity), std::move(action), std::move(payload), std::move(options));
  }

  /// What broadcast() completes with.
  struct BroadcastResult {
    std::vector<std::string> delivered;                        ///< identities that answered with a CALLRESULT
    std::vector<std::pair<std::string, std::string>> failed;  ///< identity, why
  };
  /// Completion of broadcast().
  using BroadcastSignature = void(BroadcastResult);
  /// The same CALL to every connected station, in parallel; completes when all have answered,
  /// failed or timed out. Clustered, the other nodes get it too, at most once and unanswered: the
  /// result lists this server's stations.
  template <class Token>
  auto broadcast(std::string action, boost::json::value payload, CallOptions options, Token&& token) {
    return boost::asio::async_initiate<Token, BroadcastSignature>(
        [this](auto handler, std::string action, boost::json::value payload, CallOptions options) {
          start_broadcast(std::nullopt, std::move(action), std::move(payload), std::move(options),
                          boost::asio::any_completion_handler<BroadcastSignature>(std::move(handler)));
        },
        token, std::move(action), std::move(payload), std::move(options));
  }
  /// To the listed stations only, on any node of the cluster; those not connected are reported as
  /// failed, and every identity gets its own outcome.
  template <class Token>
  auto broadcast_batch(std::vector<std::string> identities, std::string action, boost::json::value payload,
                       CallOptions options, Token&& token) {
    return boost::asio::async_initiate<Token, BroadcastSignature>(
        [this](auto handler, std::vector<std::string> identities, std::string action, boost::json::value payload,
               CallOptions options) {
          start_broadcast(std::move(identities), std::move(action), std::move(payload), std::move(options),
                          boost::asio::any_completion_handler<BroadcastSignature>(std::move(handler)));
        },
        token, std::move(identities), std::move(action), std::move(payload), std::move(options));
  }

  /// Stops accepting, drops the upgrades in flight (no answer, no on_client), closes every
  /// connection with `options` (pending calls fail with ConnectionError) and completes when all are
  /// closed. listen() works again afterwards.
  template <class Token>
  auto close(CloseOptions options, Token&& token) {
    return boost::asio::async_initiate<Token, void()>(
        [this](auto handler, CloseOptions options) {
          start_close(std::move(options), boost::asio::any_completion_handler<void()>(std::move(handler)));
        },
        token, std::move(options));
  }

 private:
  struct Impl;
  using CallHandler = boost::asio::any_completion_handler<RpcSession::CallSignature>;
  HandlerTable& handlers();
  /// The connection here that a call to `identity` goes to, or null to route it: clustered, a
  /// connection already closing (e.g. evicted by another node) is passed over.
  std::shared_ptr<ServerClient> local_target(std::string_view identity) const;
  boost::asio::any_io_executor executor() const;
  /// To a station not connected here: through the cluster, or failing "not connected". Completes on
  /// `ex`; `log_failure` logs why it failed (safe_send_to_client).
  void route_call(boost::asio::any_io_executor ex, std::string identity, std::string protocol, std::string action,
                  boost::json::value payload, CallOptions options, bool log_failure, CallHandler handler);
  void start_broadcast(std::optional<std::vector<std::string>> identities, std::string action,
                       boost::json::value payload, CallOptions options,
                       boost::asio::any_completion_handler<BroadcastSignature> handler);
  void start_close(CloseOptions options, boost::asio::any_completion_handler<void()> handler);
  std::shared_ptr<Impl> impl_;
};

}  // namespace ocpp
OCPP_API_END
