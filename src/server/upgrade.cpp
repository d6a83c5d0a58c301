#include "server/upgrade.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "server/chain.hpp"
#include "server/core.hpp"
#include "server/forwarded.hpp"
#include "server/handoff.hpp"
#include "server/listener.hpp"
#include "server/proxy_reader.hpp"
#include "server/web_root.hpp"
#include "transport/compression.hpp"
#include "transport/ws_transport.hpp"

namespace ocpp::detail {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

// A place under max_handshakes (and the TCP peer's under max_handshakes_per_address), held from the
// accept until the WebSocket is open or the upgrade has ended.
class HandshakeSlot {
 public:
  HandshakeSlot(ServerCore& core, std::string peer, bool per_address)
      : core_(&core), peer_(std::move(peer)), per_address_(per_address) {
    core_->observability->handshake_started();
  }
  HandshakeSlot(HandshakeSlot&& other) noexcept
      : core_(std::exchange(other.core_, nullptr)), peer_(std::move(other.peer_)), per_address_(other.per_address_) {}
  HandshakeSlot& operator=(HandshakeSlot&&) = delete;
  ~HandshakeSlot() { release(); }

  const std::string& peer() const noexcept { return peer_; }
  void release() noexcept {
    if (!core_) return;
    core_->handshakes.release(peer_, per_address_);
    std::exchange(core_, nullptr)->observability->handshake_ended();
  }

 private:
  ServerCore* core_;  // the upgrade's, which outlives the slot
  std::string peer_;
  bool per_address_;
};

class Upgrade final : public UpgradeChain {
 public:
  Upgrade(tcp::socket socket, std::shared_ptr<ServerCore> core, SecurityProfile profile,
          std::shared_ptr<const TlsSettings> tls, bool proxy_protocol, HandshakeSlot handshake)
      : UpgradeChain(core->observability),
        stream_(std::move(socket)),
        core_(std::move(core)),
        tls_(std::move(tls)),
        proxy_protocol_(proxy_protocol),
        handshake_(std::move(handshake)),
        deadline_(stream_.get_executor()) {
    info_.security_profile = profile;
  }
  ~Upgrade() override {
    release_slot();
    core_->upgrades.remove(this);
  }

  // handshake_timeout bounds everything from the TCP accept to the open WebSocket (or the end of
  // an HTTP error answer): PROXY header, TLS handshake, request, chain, response. One timer, set
  // once: bytes trickling in never extend it.
  void run() {
    core_->upgrades.add(this, weak_self());
    info_.remote_address = handshake_.peer();
    deadline_.expires_after(core_->options.handshake_timeout);
    deadline_.async_wait([weak = weak_self()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->upgraded_) return;
      if (self->chain_pending()) return self->abort("handshake timeout");
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket().close(ignored);
    });
    if (proxy_protocol_) return read_proxy_header();
    start_tls();
  }

  void start_tls() {
    beast::error_code ignored;
    if (!tls_) return read_request();
    try {
      stream_.attach_tls(make_server_ssl(tls_->context.get()));
    } catch (const std::exception& e) {
      security_event(SecurityEventType::tls_handshake_failed, e.what());
      return stream_.socket().close(ignored);
    }
    stream_.async_handshake([self = self()](beast::error_code ec, std::size_t) {
      if (self->shut_down_) return;
      if (ec == asio::error::eof) {  // a TCP probe (health check, port scan) is no security event
        self->deadline_.cancel();
        beast::error_code ignored;
        return self->stream_.socket().close(ignored);
      }
      if (self->timed_out_)
        return self->security_event(SecurityEventType::tls_handshake_failed, "TLS handshake timed out");
      if (ec) {
        self->security_event(SecurityEventType::tls_handshake_failed, tls_failure(self->stream_.ssl(), ec));
        return self->linger();
      }
      if (X509* cert = SSL_get0_peer_certificate(self->stream_.ssl()))
        self->info_.client_certificate = peer_certificate(cert);
      self->read_request();
    });
  }

 public:
  asio::any_io_executor executor() { return deadline_.get_executor(); }
  // close() or ~Server: end the upgrade without an answer or an event, unless it is past the
  // WebSocket accept (then the connection is the registry's). On the upgrade's executor.
  void shut_down() {
    if (upgraded_ || shut_down_) return;
    shut_down_ = true;
    if (chain_pending()) return cancel();  // drops the socket
    deadline_.cancel();
    beast::error_code ignored;
    socket().close(ignored);
  }

 private:
  void release_slot() {
    if (std::exchange(holds_slot_, false)) core_->admission.release_slot();
  }
  std::shared_ptr<Upgrade> self() { return std::static_pointer_cast<Upgrade>(shared_from_this()); }
  std::weak_ptr<Upgrade> weak_self() { return self(); }

  // Before TLS: the balancer sends it in clear ahead of the client's bytes. The header names the
  // station, unless trusted_proxies says this peer may not.
  void read_proxy_header() {
    async_read_proxy_header(stream_.socket(), [self = self()](beast::error_code ec, ProxyHeader header,
                                                              std::string why) {
      if (self->shut_down_) return;
      if (ec) {
        self->deadline_.cancel();
        beast::error_code ignored;
        self->stream_.socket().close(ignored);
        // A balancer's TCP health check connects and closes: no warning for that.
        if (!why.empty() || !self->timed_out_)
          self->log(ec == asio::error::eof ? LogLevel::debug : LogLevel::warn,
                    "closed before a PROXY header: " + (why.empty() ? ec.message() : why));
        return;
      }
      const auto& trusted = self->core_->trusted_proxies;
      if (header.source && (trusted.empty() || trusted.contains(self->handshake_.peer()))) {
        self->info_.remote_address = header.source->to_string();
        if (header.secure) self->secure_ = *header.secure;
      } else if (header.source) {
        self->log(LogLevel::warn, "PROXY header from a peer not in trusted_proxies ignored");
      }
      self->start_tls();
    });
  }

  void log(LogLevel level, std::string message) const {
    core_->observability->logger().log(level, "server", info_.identity,
                                       message + " (peer " + handshake_.peer() + ", station " + info_.remote_address + ")");
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
    stream_.socket().async_read_some(asio::buffer(discard_), [self = self()](beast::error_code ec, std::size_t) {
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
    http::async_read(stream_, buffer_, *parser_, [self = self()](beast::error_code ec, std::size_t) {
      self->on_request(ec);
    });
  }

  tcp::socket& socket() { return ws_ ? ws_->next_layer().socket() : stream_.socket(); }

  UpgradeRequest admission_request() {
    const auto& req = parser_->get();
    const auto& core = *core_;
    UpgradeRequest r;
    r.shutting_down = !core.registry->accepting();
    r.connections = core.registry->connections();
    if (core.connection_limiter)
      r.address_allowed = [limiter = core.connection_limiter.get(), &address = info_.remote_address] {
        return limiter->allow(address);
      };
    r.get = req.method() == http::verb::get;
    r.head = req.method() == http::verb::head;
    r.is_upgrade = websocket::is_upgrade(req);
    r.has_upgrade_header = req.count(http::field::upgrade) > 0;
    r.target = req.target();
    r.subprotocols = req[http::field::sec_websocket_protocol];
    r.has_subprotocol_header = req.count(http::field::sec_websocket_protocol) > 0;
    for (const auto& field : req) r.headers.emplace_back(field.name_string(), field.value());
    if (!core.trusted_proxies.empty()) {
      std::string problem;
      auto origin = client_origin(core.trusted_proxies, {info_.remote_address, secure_}, r.headers, &problem);
      if (!problem.empty()) log(LogLevel::warn, problem);
      info_.remote_address = std::move(origin.address);
      secure_ = origin.secure;
    }
    r.remote_address = info_.remote_address;
    r.profile = info_.security_profile;
    r.client_certificate = std::move(info_.client_certificate);
    if (tls_) r.binding = &tls_->binding;
    return r;
  }

  void on_request(beast::error_code ec) {
    if (ec || shut_down_) {  // timed out, or the peer went away or sent garbage: nothing to answer
      deadline_.cancel();
      return;
    }
    auto decision = core_->admission.decide(admission_request());
    if (auto* endpoint = std::get_if<Endpoint>(&decision)) {
      auto answer = core_->observability->answer(*endpoint);
      return respond(http::status::ok, answer.body, answer.content_type);
    }
    if (auto* file = std::get_if<WebFile>(&decision)) return serve_file(*file);
    if (auto* reject = std::get_if<Reject>(&decision)) {
      if (reject->error)
        core_->observability->upgrade_error(reject->identity, info_.remote_address, std::move(*reject->error));
      if (reject->event)
        core_->observability->security_event(*reject->event, reject->identity, info_.remote_address,
                                             std::move(reject->details));
      return respond(static_cast<http::status>(reject->status), reject->message);
    }
    auto& admit = std::get<Admit>(decision);
    info_ = std::move(admit.info);
    info_.peer_address = handshake_.peer();
    info_.secure = secure_;
    protocol_ = std::move(admit.protocol);
    mismatch_ = admit.mismatch;
    route_ = admit.route;
    holds_slot_ = admit.holds_slot;
    answer_protocol_ = admit.answer_protocol;

    auto steps = chain_steps(core_->middleware, core_->auth, route_);
    if (steps.empty()) return upgrade({}, {});
    watch_socket();
    run_chain(std::move(steps), std::make_shared<const HandshakeInfo>(info_));
  }

  // A socket that becomes readable before we answered has been closed by the client (it may not
  // send frames before the upgrade completes).
  void watch_socket() {
    stream_.socket().async_wait(tcp::socket::wait_read, [self = self()](beast::error_code ec) {
      if (ec || !self->chain_pending()) return;
      char c;
      beast::error_code peek;
      auto n = self->stream_.socket().receive(asio::buffer(&c, 1), tcp::socket::message_peek, peek);
      if (peek || n == 0) self->abort("socket closed");
    });
  }

  void security_event(SecurityEventType type, std::string details) {
    core_->observability->security_event(type, info_.identity, info_.remote_address, std::move(details));
  }

  // The chain's outcomes.
  asio::any_io_executor chain_executor() override { return stream_.get_executor(); }
  void stop_watching() override {
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
  }
  void answer(unsigned status, std::string_view message) override {
    respond(static_cast<http::status>(status), message);
  }
  void drop() override {
    release_slot();
    deadline_.cancel();
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  void upgrade(AcceptOptions options, json::object state) override {
    if (!options.protocol.empty()) {
      const auto& offered = info_.offered_protocols;
      if (std::find(offered.begin(), offered.end(), options.protocol) == offered.end())
        return respond(http::status::bad_request, "No matching subprotocol");
      protocol_ = std::move(options.protocol);
      mismatch_ = false;
    }
    // After auth, so an unauthenticated client cannot learn which stations are connected.
    if (!mismatch_ && core_->registry->refuses(info_.identity))
      return respond(http::status::conflict, "Identity already connected");
    for (auto& kv : options.station) state[kv.key()] = std::move(kv.value());
    state_ = std::move(state);
    const auto& o = core_->options;
    ws_.emplace(std::move(stream_));
    ws_->next_layer().teardown_timeout = o.close_timeout;
    ws_->set_option(websocket::stream_base::decorator([this, name = o.server_header](websocket::response_type& res) {
      res.set(http::field::server, name);
      if (answer_protocol_ && !protocol_.empty()) res.set(http::field::sec_websocket_protocol, protocol_);
      // Beast has negotiated the extensions by the time it decorates the answer.
      info_.compression = deflate_agreed(res[http::field::sec_websocket_extensions]);
    }));
    ws_->set_option(deflate_option(o.compression, true));
    ws_->read_message_max(o.max_frame_bytes);
    ws_->async_accept(parser_->get(), [self = self()](beast::error_code ec) {
      self->deadline_.cancel();
      if (ec || self->shut_down_) return self->release_slot();
      self->upgraded_ = true;
      self->handshake_.release();
      if (self->mismatch_) {
        self->release_slot();
        return self->close_mismatch();
      }
      self->on_accepted();
      self->release_slot();  // after the registry counts it
    });
  }

  void close_mismatch() {
    ws_->async_close(websocket::close_reason(websocket::close_code::protocol_error, "No matching subprotocol"),
                     [self = self()](beast::error_code) {});
    deadline_.expires_after(core_->options.close_timeout);  // as any close: bounded
    deadline_.async_wait([weak = weak_self()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      beast::error_code ignored;
      self->ws_->next_layer().socket().close(ignored);
    });
  }

  void on_accepted() {
    parser_.reset();
    auto ex = ws_->get_executor();
    const auto& o = core_->options;
    auto transport = make_ws_transport(std::move(*ws_), o.max_frame_bytes, o.close_timeout);
    Handoff::connect(core_, ex, core_->session_options(route_), std::move(info_), std::move(transport), std::move(protocol_),
                     std::move(state_));
  }

  void respond(http::status status, std::string_view message,
               std::string_view content_type = "text/plain; charset=utf-8") {
    auto res = response<http::string_body>(status, content_type);
    if (status == http::status::unauthorized) res->set(http::field::www_authenticate, "Basic realm=\"OCPP\", charset=\"UTF-8\"");
    if (status == http::status::method_not_allowed) res->set(http::field::allow, "GET, HEAD");
    res->body() = std::string(message);
    res->prepare_payload();
    write(std::move(res));
  }

  // Streamed from the file as it is now (a rebuilt site is served without a restart), in chunks, so
  // a large file costs no more memory than a small one.
  void serve_file(const WebFile& file) {
    const auto path = core_->options.web_root / file.name;
    std::error_code missing;
    if (!std::filesystem::is_regular_file(path, missing)) return respond(http::status::not_found, "Not found");
    http::file_body::value_type body;
    beast::error_code ec;
    body.open(path.c_str(), beast::file_mode::scan, ec);
    if (ec) {
      log(LogLevel::warn, "web_root: cannot read " + path.string() + ": " + ec.message());
      return respond(http::status::internal_server_error, "Internal Server Error");
    }
    const auto type = web_content_type(file.name);
    if (file.head) {
      auto res = file_response<http::empty_body>(type);
      res->content_length(body.size());
      return write(std::move(res));
    }
    auto res = file_response<http::file_body>(type);
    res->body() = std::move(body);
    res->prepare_payload();
    write(std::move(res));
  }

  template <class Body>
  std::shared_ptr<http::response<Body>> file_response(std::string_view content_type) {
    auto res = response<Body>(http::status::ok, content_type);
    res->set(http::field::cache_control, "no-cache");  // revalidate: the site may have been rebuilt
    res->set("X-Content-Type-Options", "nosniff");
    return res;
  }

  template <class Body>
  std::shared_ptr<http::response<Body>> response(http::status status, std::string_view content_type) {
    release_slot();
    auto res = std::make_shared<http::response<Body>>(status, 11);
    res->set(http::field::server, core_->options.server_header);
    res->set(http::field::content_type, content_type);
    res->set(http::field::connection, "close");
    return res;
  }

  // The answer ends the connection.
  template <class Response>
  void write(std::shared_ptr<Response> res) {
    auto& message = *res;
    http::async_write(stream_, message, [self = self(), res = std::move(res)](beast::error_code, std::size_t) {
      self->deadline_.cancel();
      send_close_notify(self->stream_);
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.socket().close(ignored);
    });
  }

  NetStream stream_;
  std::optional<WsStream> ws_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::shared_ptr<ServerCore> core_;
  std::shared_ptr<const TlsSettings> tls_;  // the listener's at accept time
  const bool proxy_protocol_;
  HandshakeSlot handshake_;  // also knows the TCP peer's address
  bool secure_ = tls_ != nullptr;
  HandshakeInfo info_;
  std::string protocol_;
  bool mismatch_ = false;
  const Route* route_ = nullptr;
  json::object state_;
  bool upgraded_ = false;
  bool timed_out_ = false;
  bool shut_down_ = false;
  bool holds_slot_ = false;  // admitted under max_connections, not yet registered
  bool answer_protocol_ = true;
  asio::steady_timer deadline_;
  char discard_[64];
};

}  // namespace

void shut_down_upgrades(const ServerCore& core) {
  for (auto& up : core.upgrades.alive()) {
    auto upgrade = std::static_pointer_cast<Upgrade>(up);
    auto ex = upgrade->executor();
    asio::post(ex, [upgrade = std::move(upgrade)] { upgrade->shut_down(); });
  }
}

void start_upgrade(tcp::socket socket, std::shared_ptr<ServerCore> core, SecurityProfile profile,
                   std::shared_ptr<const TlsSettings> tls, bool proxy_protocol) {
  beast::error_code ec;
  const auto peer = unmap(socket.remote_endpoint(ec).address());
  if (ec) {  // reset between the accept and now: nothing to serve
    core->observability->logger().log(LogLevel::debug, "server", "", "accepted connection gone: " + ec.message());
    return;
  }
  // At accept, by the TCP peer: the station behind a balancer is known only after the PROXY header
  // or the request, which is what a slow peer withholds.
  auto peer_text = peer.to_string();
  // A balancer carries many stations: those we believe about their stations are exempt.
  const auto& trusted = core->trusted_proxies;
  const bool per_address = (!proxy_protocol || !trusted.empty()) && !trusted.contains(peer);
  const auto outcome = core->handshakes.acquire(peer_text, per_address);
  if (outcome != HandshakeLimiter::Outcome::admitted) {
    // A plain close: answering would mean reading the request first, which is what a slow peer
    // makes us wait for.
    socket.close(ec);
    core->observability->handshake_refused(
        outcome == HandshakeLimiter::Outcome::server_full ? "max_handshakes" : "max_handshakes_per_address", peer_text);
    return;
  }
  HandshakeSlot handshake(*core, std::move(peer_text), per_address);
  auto ex = socket.get_executor();
  asio::post(ex, [up = std::make_shared<Upgrade>(std::move(socket), std::move(core), profile, std::move(tls),
                                                 proxy_protocol, std::move(handshake))] {
    up->run();
  });
}

}  // namespace ocpp::detail
