#include "ocpp/server/server.hpp"

#include "server/connection_rate_limiter.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "../session/complete.hpp"
#include "../tls/context.hpp"
#include "../transport/compression.hpp"
#include "../transport/ws_transport.hpp"
#include "ocpp/server/basic_auth.hpp"
#include "ocpp/server/handshake.hpp"

namespace ocpp {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

// What a TLS listener gives each new connection; update_tls swaps it whole.
struct TlsSettings {
  detail::SslContext context;
  CertificateBinding binding;
};

struct Listener {
  std::shared_ptr<tcp::acceptor> acceptor;
  SecurityProfile profile = SecurityProfile::none;
  std::uint16_t port = 0;
  std::shared_ptr<const TlsSettings> tls;  // guarded by Server::Impl::mutex
};

std::shared_ptr<const TlsSettings> make_tls_settings(SecurityProfile profile, const ServerTlsOptions& options) {
  return std::make_shared<const TlsSettings>(TlsSettings{detail::make_server_context(profile, options), options.binding});
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
  std::vector<asio::any_io_executor> executors;
  std::atomic<std::size_t> next_executor{0};
  ServerOptions options;
  std::shared_ptr<HandlerTable> handlers = std::make_shared<HandlerTable>();
  std::function<void(const std::shared_ptr<ServerClient>&)> on_client;
  std::vector<ConnectionMiddleware> middleware;
  AuthCallback auth;
  std::deque<Route> routes;  // stable addresses: upgrades point at their route
  std::vector<RoutePattern> patterns;
  std::function<void(const UpgradeAbortedEvent&)> on_upgrade_aborted;
  std::function<void(const UpgradeErrorEvent&)> on_upgrade_error;
  std::function<void(const SecurityEvent&)> on_security_event;
  std::atomic<std::size_t> connections{0};
  std::unique_ptr<ConnectionRateLimiter> connection_limiter;
  std::unique_ptr<SessionStore> sessions;
  std::shared_ptr<Metrics> metrics;  // with health_endpoint
  std::optional<asio::steady_timer> sweeper;  // on executors.front() only

  void security_event(SecurityEventType type, std::string identity, std::string ip, std::string details) {
    SecurityEvent e{type, std::move(identity), std::move(ip), iso_timestamp(), std::move(details)};
    log_security_event(logger(), to_string(type), e.identity, e.ip, e.timestamp, e.details);
    if (metrics) metrics->security_event(to_string(type));
    if (on_security_event) on_security_event(e);
  }
  Logger& logger() const { return options.logger ? *options.logger : *default_logger(); }
  void schedule_sweep();
  void stop_sweeping();

  std::mutex mutex;  // guards everything below
  std::vector<std::shared_ptr<Listener>> listeners;
  std::unordered_map<std::string, std::shared_ptr<ServerClient>> registry;
  bool accepting = true;

  asio::any_io_executor pick_executor() {
    return executors[next_executor.fetch_add(1, std::memory_order_relaxed) % executors.size()];
  }

  void accept_loop(std::shared_ptr<Listener> listener);
  void on_upgraded(asio::any_io_executor ex, SessionOptions options, HandshakeInfo info,
                   std::shared_ptr<Transport> transport, std::string protocol, json::object state);
  void unregister(const ServerClient* client);
  bool is_accepting() {
    std::lock_guard lock(mutex);
    return accepting;
  }
};

struct ServerAccess {
  static std::shared_ptr<ServerClient> make(asio::any_io_executor ex, SessionOptions options, HandshakeInfo info,
                                            std::shared_ptr<const HandlerTable> handlers, SessionHooks hooks) {
    return std::shared_ptr<ServerClient>(
        new ServerClient(std::move(ex), std::move(options), std::move(info), std::move(handlers), std::move(hooks)));
  }
  static void attach(ServerClient& c, std::shared_ptr<Transport> t, std::string protocol) {
    c.attach(std::move(t), std::move(protocol));
  }
  static void set_protocol(ServerClient& c, const std::string& protocol) { c.set_protocol(protocol); }
  static void set_session(ServerClient& c, std::shared_ptr<StationSession> session) { c.session_ = std::move(session); }
};

ServerClient::ServerClient(executor_type ex, SessionOptions options, HandshakeInfo info,
                           std::shared_ptr<const HandlerTable> shared_handlers, SessionHooks hooks)
    : SessionSide(std::move(ex), std::move(options), info.identity, std::move(shared_handlers), std::move(hooks)),
      handshake_(std::move(info)) {}

namespace {

// One HTTP upgrade, from the first byte to an open WebSocket (or an HTTP error answer): the gates,
// then the middleware and auth chain, then the WebSocket handshake.
class Upgrade : public detail::UpgradeChain, public std::enable_shared_from_this<Upgrade> {
 public:
  Upgrade(tcp::socket socket, std::shared_ptr<Server::Impl> server, SecurityProfile profile,
          std::shared_ptr<const TlsSettings> tls)
      : stream_(std::move(socket)), server_(std::move(server)), tls_(std::move(tls)), deadline_(stream_.get_executor()) {
    info_.security_profile = profile;
  }

  // handshake_timeout bounds everything from the TCP accept to the open WebSocket (or the end of
  // an HTTP error answer): TLS handshake, request, chain, response.
  void run() {
    beast::error_code ignored;
    auto address = stream_.socket().remote_endpoint(ignored).address();
    if (address.is_v6() && address.to_v6().is_v4_mapped())
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    info_.remote_address = address.to_string();
    deadline_.expires_after(server_->options.handshake_timeout);
    deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->upgraded_) return;
      if (self->chain_running_ && !self->done_) return self->abort("handshake timeout");
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket().close(ignored);
    });
    if (!tls_) return read_request();
    try {
      stream_.attach_tls(detail::make_server_ssl(tls_->context.get()));
    } catch (const std::exception& e) {
      security_event(SecurityEventType::tls_handshake_failed, e.what());
      return stream_.socket().close(ignored);
    }
    stream_.async_handshake([self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == asio::error::eof) {  // a TCP probe (health check, port scan) is no security event
        self->deadline_.cancel();
        beast::error_code ignored;
        return self->stream_.socket().close(ignored);
      }
      if (self->timed_out_)
        return self->security_event(SecurityEventType::tls_handshake_failed, "TLS handshake timed out");
      if (ec) {
        self->security_event(SecurityEventType::tls_handshake_failed, detail::tls_failure(self->stream_.ssl(), ec));
        return self->linger();
      }
      if (X509* cert = SSL_get0_peer_certificate(self->stream_.ssl()))
        self->info_.client_certificate = detail::peer_certificate(cert);
      self->read_request();
    });
  }

  // Decisions of the chain, from any thread; always deferred so a middleware's own stack unwinds
  // first.
  void next(std::size_t step, json::object state) override {
    post([step, state = std::move(state)](Upgrade& u) mutable {
      u.state_ = std::move(state);
      u.run_step(step + 1);
    }, step);
  }
  void reject(std::size_t step, unsigned status, std::string message) override {
    post([status, message = std::move(message)](Upgrade& u) {
      u.security_event(SecurityEventType::auth_failed, std::to_string(status) + " " + message);
      u.end_chain();
      u.respond(static_cast<http::status>(status), message);
    }, step);
  }
  void accept(std::size_t step, AcceptOptions options) override {
    post([options = std::move(options)](Upgrade& u) mutable {
      u.end_chain();
      u.accept_upgrade(std::move(options));
    }, step);
  }

 private:
  template <class F>
  void post(F f, std::size_t step) {
    asio::post(stream_.get_executor(), [self = shared_from_this(), f = std::move(f), step]() mutable {
      if (self->done_ || step != self->step_) return;
      f(*self);
    });
  }

  // After a refused TLS handshake: closing with the client's next bytes unread would reset the
  // connection and lose OpenSSL's alert (a TLS 1.3 client sends its request before it learns that
  // its certificate was refused). So stop sending, read until the client closes, or the deadline.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain();
  }
  void drain() {
    stream_.socket().async_read_some(asio::buffer(discard_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) return self->drain();
      self->deadline_.cancel();
      beast::error_code ignored;
      self->stream_.socket().close(ignored);
    });
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(0);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_request(ec);
    });
  }

  tcp::socket& socket() { return ws_ ? ws_->next_layer().socket() : stream_.socket(); }

  void on_request(beast::error_code ec) {
    if (ec) {  // timed out, or the peer went away or sent garbage: nothing to answer
      deadline_.cancel();
      return;
    }
    auto& req = parser_->get();
    auto& impl = *server_;
    if (!impl.is_accepting()) return respond(http::status::service_unavailable, "Server is shutting down");
    if (impl.metrics && req.method() == http::verb::get && !websocket::is_upgrade(req)) {
      const auto target = req.target().substr(0, req.target().find('?'));
      if (target == "/health")
        return respond(http::status::ok, json::serialize(impl.metrics->health()), "application/json");
      if (target == "/metrics") return respond(http::status::ok, impl.metrics->prometheus(), kPrometheusContentType);
    }
    if (impl.options.max_connections && impl.connections.load() >= impl.options.max_connections) {
      security_event(SecurityEventType::connection_limit, "max_connections reached");
      return respond(http::status::service_unavailable, "Connection limit reached");
    }
    if (impl.connection_limiter && !impl.connection_limiter->allow(info_.remote_address)) {
      security_event(SecurityEventType::connection_rate_limit, "too many connections from this address");
      return respond(http::status::too_many_requests, "Too Many Requests");
    }
    if (!websocket::is_upgrade(req)) {
      if (req.count(http::field::upgrade)) return respond(http::status::bad_request, "Not a WebSocket upgrade");
      return respond(http::status::not_found, "Not found");
    }
    RequestPath path = parse_request_target(req.target());
    if (!impl.routes.empty()) {
      auto best = best_match(impl.patterns, path.path);
      if (!best) return respond(http::status::not_found, "Endpoint Not Found");
      route_ = &impl.routes[best->first];
      info_.params = std::move(best->second.params);
      if (auto it = info_.params.find("identity"); it != info_.params.end()) path.identity = it->second;
    }
    if (path.identity.empty()) return respond(http::status::bad_request, "Missing identity in URL path");
    auto offered = parse_subprotocols(req[http::field::sec_websocket_protocol]);
    if (!offered) return respond(http::status::bad_request, "Malformed Sec-WebSocket-Protocol header");

    const auto& accepted = route_ && route_->settings().protocols ? *route_->settings().protocols : impl.options.protocols;
    protocol_ = accepted.empty() ? (offered->empty() ? std::string() : offered->front())
                                 : negotiate_subprotocol(accepted, *offered);
    mismatch_ = !accepted.empty() && protocol_.empty();
    if (mismatch_ && impl.options.protocol_mismatch == ProtocolMismatch::http_400)
      return respond(http::status::bad_request, offered->empty() ? "Missing subprotocol" : "No matching subprotocol");

    info_.identity = std::move(path.identity);
    info_.path = std::move(path.path);
    info_.query = std::move(path.query);
    info_.offered_protocols = std::move(*offered);
    for (const auto& field : req) {
      if (field.name() == http::field::authorization) {
        info_.password = basic_auth_password(field.value(), info_.identity);
        continue;
      }
      info_.headers.emplace_back(field.name_string(), field.value());
    }
    if (uses_password(info_.security_profile) && !info_.password) {
      security_event(SecurityEventType::auth_failed, "no Basic Auth password for this identity");
      return respond(http::status::unauthorized, "Unauthorized");
    }
    if (info_.security_profile == SecurityProfile::tls_client_cert && tls_->binding) {
      bool fits = false;
      try {
        fits = info_.client_certificate && tls_->binding(*info_.client_certificate, info_);
      } catch (const std::exception& e) {
        return fail_chain(std::string("certificate binding: ") + e.what());
      }
      if (!fits) {
        security_event(SecurityEventType::auth_failed,
                       "client certificate CN=" + (info_.client_certificate ? info_.client_certificate->common_name : "") +
                           " does not fit the identity");
        return respond(http::status::forbidden, "Client certificate does not match the identity");
      }
    }

    middleware_ = impl.middleware;
    if (route_) middleware_.insert(middleware_.end(), route_->middleware().begin(), route_->middleware().end());
    auth_ = route_ && route_->auth_callback() ? route_->auth_callback() : impl.auth;
    if (middleware_.empty() && !auth_) return accept_upgrade({});

    handshake_ = std::make_shared<const HandshakeInfo>(info_);
    chain_running_ = true;
    watch_socket();
    run_step(0);
  }

  // Step i < middleware count runs middleware i; the step after the last runs the auth callback,
  // or accepts when there is none.
  void run_step(std::size_t step) {
    step_ = step;
    const auto self = shared_from_this();
    try {
      if (step < middleware_.size()) {
        middleware_[step](std::make_shared<ConnectionContext>(self, step, handshake_, state_));
      } else if (auth_) {
        auth_(std::make_shared<AuthContext>(self, step, handshake_, state_));
      } else {
        end_chain();
        accept_upgrade({});
      }
    } catch (const std::exception& e) {
      fail_chain(e.what());
    } catch (...) {
      fail_chain("a non-exception was thrown");
    }
  }

  void fail_chain(std::string what) {
    if (done_) return;
    if (server_->on_upgrade_error) server_->on_upgrade_error(UpgradeErrorEvent{info_.identity, info_.remote_address, what});
    end_chain();
    respond(http::status::internal_server_error, "Internal Server Error");
  }

  // A socket that becomes readable before we answered has been closed by the client (it may not
  // send frames before the upgrade completes).
  void watch_socket() {
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (ec || self->done_) return;
      char c;
      beast::error_code peek;
      auto n = self->stream_.socket().receive(asio::buffer(&c, 1), tcp::socket::message_peek, peek);
      if (peek || n == 0) self->abort("socket closed");
    });
  }

  void end_chain() {
    done_ = true;
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
  }

  void abort(std::string reason) {
    if (done_) return;
    end_chain();
    deadline_.cancel();
    aborted = true;
    abort_signal.emit(asio::cancellation_type::terminal);
    beast::error_code ignored;
    stream_.socket().close(ignored);
    security_event(SecurityEventType::upgrade_aborted, reason);
    if (server_->on_upgrade_aborted)
      server_->on_upgrade_aborted(UpgradeAbortedEvent{info_.identity, info_.remote_address, std::move(reason)});
  }

  void security_event(SecurityEventType type, std::string details) {
    server_->security_event(type, info_.identity, info_.remote_address, std::move(details));
  }

  void accept_upgrade(AcceptOptions options) {
    if (!options.protocol.empty()) {
      const auto& offered = info_.offered_protocols;
      if (std::find(offered.begin(), offered.end(), options.protocol) == offered.end())
        return respond(http::status::bad_request, "No matching subprotocol");
      protocol_ = std::move(options.protocol);
      mismatch_ = false;
    }
    // After auth, so an unauthenticated client cannot learn which stations are connected.
    if (server_->options.duplicate_identity == DuplicateIdentity::reject_new && !mismatch_) {
      std::lock_guard lock(server_->mutex);
      if (server_->registry.count(info_.identity)) return respond(http::status::conflict, "Identity already connected");
    }
    for (auto& kv : options.session) state_[kv.key()] = std::move(kv.value());
    ws_.emplace(std::move(stream_));
    ws_->next_layer().teardown_timeout = server_->options.close_timeout;
    ws_->set_option(websocket::stream_base::decorator(
        [this, name = server_->options.server_header](websocket::response_type& res) {
          res.set(http::field::server, name);
          if (!protocol_.empty()) res.set(http::field::sec_websocket_protocol, protocol_);
          // Beast has negotiated the extensions by the time it decorates the answer.
          info_.compression = detail::deflate_agreed(res[http::field::sec_websocket_extensions]);
        }));
    ws_->set_option(detail::deflate_option(server_->options.compression, true));
    ws_->read_message_max(server_->options.max_frame_bytes);
    ws_->async_accept(parser_->get(), [self = shared_from_this()](beast::error_code ec) {
      self->deadline_.cancel();
      if (ec) return;
      self->upgraded_ = true;
      if (self->mismatch_) return self->close_mismatch();
      self->on_accepted();
    });
  }

  void close_mismatch() {
    ws_->async_close(websocket::close_reason(websocket::close_code::protocol_error, "No matching subprotocol"),
                     [self = shared_from_this()](beast::error_code) {});
    deadline_.expires_after(server_->options.close_timeout);  // as any close: bounded
    deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      beast::error_code ignored;
      self->ws_->next_layer().socket().close(ignored);
    });
  }

  SessionOptions session_options() const {
    SessionOptions o = server_->options;
    if (!route_) return o;
    const auto& c = route_->settings();
    if (c.call_timeout) o.call_timeout = *c.call_timeout;
    if (c.ping_interval) o.ping_interval = *c.ping_interval;
    if (c.call_concurrency) o.call_concurrency = *c.call_concurrency;
    if (c.strict_mode) o.strict_mode = *c.strict_mode;
    if (c.rate_limit) o.rate_limit = *c.rate_limit;
    return o;
  }

  void on_accepted() {
    parser_.reset();
    auto ex = ws_->get_executor();
    auto transport =
        detail::make_ws_transport(std::move(*ws_), server_->options.max_frame_bytes, server_->options.close_timeout);
    server_->on_upgraded(ex, session_options(), std::move(info_), std::move(transport), std::move(protocol_),
                         std::move(state_));
  }

  void respond(http::status status, std::string_view message,
               std::string_view content_type = "text/plain; charset=utf-8") {
    done_ = true;
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, server_->options.server_header);
    res->set(http::field::content_type, content_type);
    if (status == http::status::unauthorized) res->set(http::field::www_authenticate, "Basic realm=\"OCPP\", charset=\"UTF-8\"");
    res->set(http::field::connection, "close");
    res->body() = std::string(message);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
      self->deadline_.cancel();
      detail::send_close_notify(self->stream_);
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.socket().close(ignored);
    });
  }

  detail::NetStream stream_;
  std::optional<detail::WsStream> ws_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::shared_ptr<Server::Impl> server_;
  std::shared_ptr<const TlsSettings> tls_;  // the listener's at accept time
  HandshakeInfo info_;
  std::shared_ptr<const HandshakeInfo> handshake_;  // what the chain sees
  std::string protocol_;
  bool mismatch_ = false;
  const Route* route_ = nullptr;
  std::vector<ConnectionMiddleware> middleware_;
  AuthCallback auth_;
  json::object state_;
  std::size_t step_ = 0;
  bool chain_running_ = false;
  bool done_ = false;
  bool upgraded_ = false;
  bool timed_out_ = false;
  asio::steady_timer deadline_;
  char discard_[64];
};

}  // namespace

void Server::Impl::accept_loop(std::shared_ptr<Listener> listener) {
  auto& acceptor = *listener->acceptor;
  acceptor.async_accept(pick_executor(), [self = shared_from_this(), listener](beast::error_code ec,
                                                                              tcp::socket socket) {
    auto& acceptor = *listener->acceptor;
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Typically out of file descriptors: back off briefly instead of spinning.
      auto timer = std::make_shared<asio::steady_timer>(acceptor.get_executor(), std::chrono::milliseconds(50));
      timer->async_wait([self, listener, timer](beast::error_code) { self->accept_loop(listener); });
      return;
    }
    detail::prepare_connection(socket);
    std::shared_ptr<const TlsSettings> tls;
    {
      std::lock_guard lock(self->mutex);
      tls = listener->tls;
    }
    auto ex = socket.get_executor();
    asio::post(ex, [up = std::make_shared<Upgrade>(std::move(socket), self, listener->profile, std::move(tls))] {
      up->run();
    });
    self->accept_loop(listener);
  });
}

void Server::Impl::on_upgraded(asio::any_io_executor ex, SessionOptions options, HandshakeInfo info,
                               std::shared_ptr<Transport> transport, std::string protocol, json::object state) {
  auto attached = sessions->attach(info.identity, state);
  if (!attached.created)
    for (auto& kv : state) attached.session->data[kv.key()] = std::move(kv.value());
  // The hooks learn which connection they belong to once it exists.
  auto self_cell = std::make_shared<const ServerClient*>(nullptr);
  SessionHooks hooks;
  // Only the connection that still owns the identity may remove it: an evicted socket's late
  // close must never unregister its successor, nor mark its session disconnected.
  hooks.finished = [weak = weak_from_this(), self_cell, identity = info.identity,
                    generation = attached.generation](const CloseResult&) {
    if (auto self = weak.lock()) {
      --self->connections;
      if (self->metrics) self->metrics->connection_closed();
      self->sessions->detach(identity, generation);
      self->unregister(*self_cell);
    }
  };
  hooks.rate_limited = [weak = weak_from_this(), identity = info.identity,
                        ip = info.remote_address](const RateLimitEvent& e) {
    if (auto self = weak.lock()) {
      if (self->metrics) self->metrics->dropped("rate_limit");
      self->security_event(SecurityEventType::rate_limit_exceeded, identity, ip, std::string(e.action));
    }
  };
  if (metrics) {
    hooks.message = [m = metrics](const MessageEvent& e) {
      const bool in = e.direction == MessageDirection::in;
      in ? m->bytes_in(e.raw.size()) : m->bytes_out(e.raw.size());
      switch (e.type) {
        case MessageType::Call:
        case MessageType::Send:
          in ? m->call_in(e.action) : m->call_out(e.action);
          break;
        case MessageType::CallResult:
          if (e.latency_ms) m->latency(e.action, *e.latency_ms);
          break;
        case MessageType::CallError:
        case MessageType::CallResultError:
          m->error(e.action, e.error_code);
          if (e.latency_ms) m->latency(e.action, *e.latency_ms);
          break;
      }
    };
  }
  auto client = ServerAccess::make(std::move(ex), std::move(options), std::move(info), handlers, std::move(hooks));
  *self_cell = client.get();
  ServerAccess::set_session(*client, attached.session);
  std::shared_ptr<ServerClient> evicted;
  {
    std::lock_guard lock(mutex);
    if (!accepting) {
      sessions->detach(client->identity(), attached.generation);
      transport->close(close_code::going_away, "Server is shutting down");
      return;
    }
    auto& slot = registry[client->identity()];
    evicted = std::move(slot);
    slot = client;
  }
  ++connections;
  if (metrics) metrics->connection_opened();
  ServerAccess::set_protocol(*client, protocol);
  if (evicted) evicted->close(CloseOptions{close_code::evicted, "Evicted by new connection", false, false});
  if (on_client) on_client(client);
  ServerAccess::attach(*client, std::move(transport), std::move(protocol));
}

// Expired sessions are already invisible; the sweep only gives their memory back.
void Server::Impl::schedule_sweep() {
  if (!sweeper) sweeper.emplace(executors.front());
  sweeper->expires_after(std::min<std::chrono::steady_clock::duration>(options.session_ttl, std::chrono::minutes(1)));
  sweeper->async_wait([weak = weak_from_this()](beast::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      self->sessions->sweep();
      self->schedule_sweep();
    }
  });
}

void Server::Impl::stop_sweeping() {
  asio::dispatch(executors.front(), [self = shared_from_this()] { self->sweeper.reset(); });
}

void Server::Impl::unregister(const ServerClient* client) {
  std::lock_guard lock(mutex);
  auto it = registry.find(client->identity());
  if (it != registry.end() && it->second.get() == client) registry.erase(it);
}

Server::Server(asio::any_io_executor executor, ServerOptions options)
    : Server(std::vector<asio::any_io_executor>{std::move(executor)}, std::move(options)) {}

Server::Server(std::vector<asio::any_io_executor> executors, ServerOptions options)
    : impl_(std::make_shared<Impl>()) {
  if (executors.empty()) throw std::invalid_argument("Server needs at least one executor");
  check_strict_mode_options(options.strict_mode);
  check_compression_options(options.compression);
  impl_->executors = std::move(executors);
  impl_->options = std::move(options);
  const auto& o = impl_->options;
  if (o.connection_rate_limit)
    impl_->connection_limiter =
        std::make_unique<ConnectionRateLimiter>(*o.connection_rate_limit, o.max_tracked_addresses, o.clock);
  impl_->sessions = std::make_unique<SessionStore>(o.session_ttl, o.max_sessions, o.clock);
  if (o.health_endpoint) impl_->metrics = std::make_shared<Metrics>();
}

namespace {
// Acceptors are closed on their own executor: their accept loop may be running there right now.
void close_listeners(std::vector<std::shared_ptr<Listener>> listeners) {
  for (auto& l : listeners)
    asio::dispatch(l->acceptor->get_executor(), [a = l->acceptor] {
      beast::error_code ignored;
      a->close(ignored);
    });
}
}  // namespace

Server::~Server() {
  std::vector<std::shared_ptr<Listener>> listeners;
  {
    std::lock_guard lock(impl_->mutex);
    listeners.swap(impl_->listeners);
  }
  close_listeners(std::move(listeners));
  impl_->stop_sweeping();
}

std::uint16_t Server::listen(std::uint16_t port, const std::string& host) {
  ListenOptions options;
  options.port = port;
  options.host = host;
  return listen(options);
}

std::uint16_t Server::listen(const ListenOptions& options) {
  auto listener = std::make_shared<Listener>();
  listener->profile = options.profile;
  if (uses_tls(options.profile)) listener->tls = make_tls_settings(options.profile, options.tls);
  auto acceptor = std::make_shared<tcp::acceptor>(impl_->executors.front());
  listener->acceptor = acceptor;
  const tcp::endpoint endpoint(asio::ip::make_address(options.host), options.port);
  acceptor->open(endpoint.protocol());
  detail::close_on_exec(acceptor->native_handle());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  const auto bound = acceptor->local_endpoint().port();
  listener->port = bound;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->accepting = true;
    impl_->listeners.push_back(listener);
  }
  asio::dispatch(impl_->executors.front(), [impl = impl_] {
    if (!impl->sweeper) impl->schedule_sweep();
  });
  asio::dispatch(acceptor->get_executor(), [impl = impl_, listener] { impl->accept_loop(listener); });
  return bound;
}

void Server::update_tls(std::uint16_t port, const ServerTlsOptions& tls) {
  std::shared_ptr<Listener> listener;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& l : impl_->listeners)
      if (l->port == port && l->tls) listener = l;
  }
  if (!listener) throw std::invalid_argument("No TLS listener on port " + std::to_string(port));
  auto settings = make_tls_settings(listener->profile, tls);  // may throw: the old settings stay
  std::lock_guard lock(impl_->mutex);
  listener->tls = std::move(settings);
}

Server& Server::use(ConnectionMiddleware middleware) {
  impl_->middleware.push_back(std::move(middleware));
  return *this;
}

Server& Server::auth(AuthCallback callback) {
  impl_->auth = std::move(callback);
  return *this;
}

Route& Server::route(std::string_view pattern) {
  impl_->patterns.emplace_back(pattern);
  return impl_->routes.emplace_back(pattern);
}

std::shared_ptr<Metrics> Server::metrics() const { return impl_->metrics; }

void Server::on_upgrade_aborted(std::function<void(const UpgradeAbortedEvent&)> f) {
  impl_->on_upgrade_aborted = std::move(f);
}
void Server::on_upgrade_error(std::function<void(const UpgradeErrorEvent&)> f) { impl_->on_upgrade_error = std::move(f); }
void Server::on_security_event(std::function<void(const SecurityEvent&)> f) {
  impl_->on_security_event = std::move(f);
}

void Server::on_client(std::function<void(const std::shared_ptr<ServerClient>&)> f) {
  impl_->on_client = std::move(f);
}

HandlerTable& Server::handlers() { return *impl_->handlers; }

std::shared_ptr<ServerClient> Server::get_client(std::string_view identity) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->registry.find(std::string(identity));
  return it == impl_->registry.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<ServerClient>> Server::clients() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::shared_ptr<ServerClient>> out;
  out.reserve(impl_->registry.size());
  for (const auto& [id, c] : impl_->registry) out.push_back(c);
  return out;
}

std::size_t Server::client_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->registry.size();
}

asio::any_io_executor Server::executor() const { return impl_->executors.front(); }

void Server::log_not_connected(std::string_view identity, std::string_view action) const {
  impl_->logger().log(LogLevel::warn, "server", identity, "safe_send_to_client " + std::string(action) + ": not connected");
}

void Server::start_broadcast(std::optional<std::vector<std::string>> identities, std::string action,
                             json::value payload, CallOptions options,
                             asio::any_completion_handler<BroadcastSignature> handler) {
  struct Gather {
    Gather(asio::any_completion_handler<BroadcastSignature> h, asio::any_io_executor e)
        : handler(std::move(h)), ex(std::move(e)) {}
    std::mutex m;
    BroadcastResult result;
    std::size_t remaining = 0;
    asio::any_completion_handler<BroadcastSignature> handler;
    asio::any_io_executor ex;
    // Called once per target; the last one completes the broadcast.
    void done(std::string identity, std::string error) {
      std::lock_guard lock(m);
      if (error.empty())
        result.delivered.push_back(std::move(identity));
      else
        result.failed.emplace_back(std::move(identity), std::move(error));
      if (--remaining == 0) detail::complete_later(ex, std::move(handler), std::move(result));
    }
  };
  std::vector<std::pair<std::string, std::shared_ptr<ServerClient>>> targets;
  if (identities) {
    for (auto& id : *identities) targets.emplace_back(id, get_client(id));
  } else {
    for (auto& c : clients()) targets.emplace_back(c->identity(), c);
  }
  auto gather = std::make_shared<Gather>(std::move(handler), executor());
  if (targets.empty()) return detail::complete_later(gather->ex, std::move(gather->handler), BroadcastResult{});
  gather->remaining = targets.size();
  for (auto& [id, client] : targets) {
    if (!client) {
      gather->done(id, "not connected");
      continue;
    }
    client->call(action, payload, options, [gather, id = id](std::exception_ptr e, json::value) {
      std::string why;
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          why = ex.what();
        } catch (...) {
          why = "failed";
        }
        if (why.empty()) why = "failed";
      }
      gather->done(id, std::move(why));
    });
  }
}

void Server::start_close(CloseOptions options, asio::any_completion_handler<void()> handler) {
  std::vector<std::shared_ptr<ServerClient>> open;
  std::vector<std::shared_ptr<Listener>> listeners;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->accepting = false;
    listeners.swap(impl_->listeners);
    for (const auto& [id, c] : impl_->registry) open.push_back(c);
  }
  close_listeners(std::move(listeners));
  impl_->stop_sweeping();
  auto ex = impl_->executors.front();
  if (open.empty()) {
    detail::complete_later(ex, std::move(handler));
    return;
  }
  struct Remaining {
    Remaining(std::size_t n, asio::any_completion_handler<void()> h, asio::any_io_executor e)
        : count(n), handler(std::move(h)), ex(std::move(e)) {}
    std::atomic<std::size_t> count;
    asio::any_completion_handler<void()> handler;
    asio::any_io_executor ex;
  };
  auto remaining = std::make_shared<Remaining>(open.size(), std::move(handler), ex);
  for (auto& c : open)
    c->close(options, [remaining](CloseResult) {
      if (--remaining->count == 0) detail::complete_later(remaining->ex, std::move(remaining->handler));
    });
}

}  // namespace ocpp
