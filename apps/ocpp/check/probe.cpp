#include "probe.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <functional>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ocpp/http/basic_auth.hpp"

namespace ocpp::app::conformance {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Runs `io` until `done` or the deadline. On the deadline the socket is closed, which ends the
// pending operations (they are drained here, so nothing outlives the caller's frame).
bool run_until(asio::io_context& io, const bool& done, Clock::time_point deadline, tcp::socket& socket) {
  io.restart();
  while (!done && Clock::now() < deadline)
    if (io.run_one_until(deadline) == 0 && io.stopped()) break;
  if (done) return true;
  error_code ignored;
  socket.close(ignored);
  io.restart();
  io.run();
  return false;
}

bool connect_tcp(asio::io_context& io, tcp::socket& socket, const Target& t, std::string& error) {
  error_code ec;
  auto endpoints = tcp::resolver(io).resolve(t.url.host, t.url.port, ec);
  if (ec) {
    error = "cannot resolve " + t.url.host + ": " + ec.message();
    return false;
  }
  bool done = false;
  asio::async_connect(socket, endpoints, [&](error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  if (!run_until(io, done, Clock::now() + t.timeout, socket)) {
    error = "TCP connect timed out";
    return false;
  }
  if (ec) error = "TCP connect failed: " + ec.message();
  return !ec;
}

std::string tls_error_text(const error_code& ec) {
  std::string text = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    // OpenSSL's reason text is the useful part ("tlsv1 alert protocol version").
    if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) text = reason;
  }
  return text;
}

std::shared_ptr<asio::ssl::context> client_context(const Target& t, const TlsOffer& o) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  if (o.max_version && o.max_version < TLS1_2_VERSION) {
    // OpenSSL refuses to offer TLS 1.0/1.1 above security level 0; the check must offer them.
    SSL_CTX_set_security_level(c, 0);
  }
  if (o.min_version) SSL_CTX_set_min_proto_version(c, o.min_version);
  if (o.max_version) SSL_CTX_set_max_proto_version(c, o.max_version);
  if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(c, o.ciphers.c_str()) != 1)
    throw std::runtime_error("this OpenSSL cannot offer the cipher suites " + o.ciphers);
  if (t.ca.empty())
    ctx->set_default_verify_paths();
  else
    ctx->load_verify_file(t.ca);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  if (o.send_cert && !t.cert.empty()) {
    ctx->use_certificate_chain_file(t.cert);
    ctx->use_private_key_file(t.key.empty() ? t.cert : t.key, asio::ssl::context::pem);
  }
  return ctx;
}

// SNI for names, and the server's certificate checked against the name or address.
void name_server(SSL* ssl, const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) SSL_set_tlsext_host_name(ssl, host.c_str());
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (ec)
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  else
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
}

using TlsStream = asio::ssl::stream<tcp::socket>;

bool tls_connect(asio::io_context& io, TlsStream& stream, const Target& t, std::string& error) {
  if (!connect_tcp(io, stream.next_layer(), t, error)) return false;
  name_server(stream.native_handle(), t.url.host);
  bool done = false;
  error_code ec;
  stream.async_handshake(asio::ssl::stream_base::client, [&](error_code e) {
    ec = e;
    done = true;
  });
  if (!run_until(io, done, Clock::now() + t.timeout, stream.next_layer())) {
    error = "TLS handshake timed out";
    return false;
  }
  if (ec) error = "TLS handshake failed: " + tls_error_text(ec);
  return !ec;
}

template <class Next>
class WsProbe final : public Probe {
 public:
  template <class... Args>
  WsProbe(std::unique_ptr<asio::io_context> io, std::chrono::milliseconds timeout, Args&&... args)
      : io_(std::move(io)), timeout_(timeout), ws_(*io_, std::forward<Args>(args)...) {}

  websocket::stream<Next>& ws() { return ws_; }
  tcp::socket& socket() { return beast::get_lowest_layer(ws_); }
  asio::io_context& io() { return *io_; }

  // A failed write shows in the next receive(), which fails on the same stream.
  void send(std::string_view text) override {
    bool done = false;
    ws_.text(true);
    ws_.async_write(asio::buffer(text), [&](error_code, std::size_t) { done = true; });
    run_until(*io_, done, deadline(), socket());
  }

  void send_fragmented(std::string_view text, std::size_t fragments) override {
    const std::size_t step = text.size() / fragments + 1;
    ws_.text(true);
    for (std::size_t at = 0; at < text.size(); at += step) {
      bool done = false;
      error_code ec;
      const bool last = at + step >= text.size();
      ws_.async_write_some(last, asio::buffer(text.substr(at, step)), [&](error_code e, std::size_t) {
        ec = e;
        done = true;
      });
      if (!run_until(*io_, done, deadline(), socket()) || ec) return;
    }
  }

  Incoming receive() override {
    Incoming in;
    if (gone_) {
      in.kind = Incoming::Kind::dropped;
      in.data = "the connection is gone";
      return in;
    }
    bool done = false;
    error_code ec;
    beast::flat_buffer buffer;
    ws_.async_read(buffer, [&](error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(*io_, done, deadline(), socket())) {
      gone_ = true;
      in.data = "nothing within " + std::to_string(timeout_.count()) + " ms";
      return in;
    }
    if (ec == websocket::error::closed) {
      gone_ = true;
      in.kind = Incoming::Kind::close;
      in.close_code = ws_.reason().code;
      in.data.assign(ws_.reason().reason.data(), ws_.reason().reason.size());
    } else if (ec) {
      gone_ = true;
      in.kind = Incoming::Kind::dropped;
      in.data = ec.message();
    } else {
      in.kind = ws_.got_text() ? Incoming::Kind::text : Incoming::Kind::binary;
      in.data = beast::buffers_to_string(buffer.data());
    }
    return in;
  }

  bool ping(const std::string& payload) override {
    bool ponged = false, finished = false;
    ws_.control_callback([&](websocket::frame_type kind, beast::string_view data) {
      if (kind == websocket::frame_type::pong && data == payload) ponged = finished = true;
    });
    ws_.async_ping(websocket::ping_data(payload.c_str()), [](error_code) {});
    // The pong is seen only while reading; text frames meanwhile are read past.
    beast::flat_buffer buffer;
    std::function<void(error_code, std::size_t)> on_read = [&](error_code ec, std::size_t) {
      if (ec || ponged) {
        finished = true;
        return;
      }
      buffer.clear();
      ws_.async_read(buffer, on_read);
    };
    ws_.async_read(buffer, on_read);
    run_until(*io_, finished, deadline(), socket());
    // A read is still pending: the connection is done for.
    gone_ = true;
    error_code ignored;
    socket().close(ignored);
    io_->restart();
    io_->run();
    ws_.control_callback();
    return ponged;
  }

  bool close() override {
    if (gone_) return false;
    bool done = false, closed = false;
    error_code ec;
    ws_.async_close(websocket::close_code::normal, [&](error_code e) {
      ec = e;
      done = true;
    });
    // Beast's close completes when the server's close frame arrives.
    if (run_until(*io_, done, deadline(), socket())) closed = !ec;
    gone_ = true;
    return closed;
  }

 private:
  Clock::time_point deadline() const { return Clock::now() + timeout_; }

  std::unique_ptr<asio::io_context> io_;
  std::chrono::milliseconds timeout_;
  websocket::stream<Next> ws_;
  bool gone_ = false;
};

template <class Next>
Handshake upgrade(WsProbe<Next>& p, const Target& t, const Offer& o) {
  Handshake h;
  const std::string identity = o.identity.empty() ? t.identity : o.identity;
  std::string authorization;
  if (o.send_password && (o.password || !t.password.empty()))
    authorization = basic_auth_header(o.username.value_or(identity), o.password.value_or(t.password));
  p.ws().set_option(websocket::stream_base::decorator([&](websocket::request_type& r) {
    if (o.protocol) r.set(http::field::sec_websocket_protocol, *o.protocol);
    if (!authorization.empty()) r.set(http::field::authorization, authorization);
  }));
  websocket::response_type answer;
  error_code ec;
  bool done = false;
  const std::string host = t.url.host + ":" + t.url.port;
  p.ws().async_handshake(answer, host, request_target(t, o), [&](error_code e) {
    ec = e;
    done = true;
  });
  if (!run_until(p.io(), done, Clock::now() + t.timeout, p.socket())) {
    h.error = "no upgrade answer within " + std::to_string(t.timeout.count()) + " ms";
    return h;
  }
  // Without an HTTP answer (a TLS alert, a reset) the response holds no status of the server's.
  if (!ec || ec == websocket::error::upgrade_declined) h.status = answer.result_int();
  if (auto it = answer.find(http::field::sec_websocket_protocol); it != answer.end())
    h.protocol = std::string(it->value());
  h.upgraded = !ec;
  if (ec) h.error = h.status ? "HTTP " + std::to_string(h.status) : tls_error_text(ec);
  return h;
}

}  // namespace

std::string request_target(const Target& t, const Offer& o) {
  return o.target.value_or(build_target(t.url, o.identity.empty() ? t.identity : o.identity));
}

Opened open_probe(const Target& t, const Offer& o) {
  Opened out;
  auto io = std::make_unique<asio::io_context>();
  if (!t.url.secure) {
    auto p = std::make_unique<WsProbe<tcp::socket>>(std::move(io), t.timeout);
    if (!connect_tcp(p->io(), p->socket(), t, out.handshake.error)) return out;
    out.handshake = upgrade(*p, t, o);
    if (out.handshake.upgraded) out.probe = std::move(p);
    return out;
  }
  TlsOffer tls;
  tls.send_cert = o.send_cert;
  auto ctx = client_context(t, tls);
  auto p = std::make_unique<WsProbe<TlsStream>>(std::move(io), t.timeout, *ctx);
  if (!tls_connect(p->io(), p->ws().next_layer(), t, out.handshake.error)) return out;
  out.handshake = upgrade(*p, t, o);
  if (out.handshake.upgraded) out.probe = std::move(p);
  return out;
}

unsigned plain_get(const Target& t, std::string& error) {
  asio::io_context io;
  http::request<http::empty_body> request{http::verb::get, build_target(t.url, t.identity), 11};
  request.set(http::field::host, t.url.host + ":" + t.url.port);
  http::response<http::string_body> answer;
  auto exchange = [&](auto& stream, tcp::socket& socket) -> unsigned {
    bool done = false;
    error_code ec;
    beast::flat_buffer buffer;
    http::async_write(stream, request, [&](error_code e, std::size_t) {
      ec = e;
      if (ec) {
        done = true;
        return;
      }
      http::async_read(stream, buffer, answer, [&](error_code e2, std::size_t) {
        ec = e2;
        done = true;
      });
    });
    if (!run_until(io, done, Clock::now() + t.timeout, socket)) {
      error = "no HTTP answer within " + std::to_string(t.timeout.count()) + " ms";
      return 0;
    }
    if (ec) error = ec.message();
    return ec ? 0 : answer.result_int();
  };
  if (!t.url.secure) {
    tcp::socket socket(io);
    if (!connect_tcp(io, socket, t, error)) return 0;
    return exchange(socket, socket);
  }
  auto ctx = client_context(t, {});
  TlsStream stream(io, *ctx);
  if (!tls_connect(io, stream, t, error)) return 0;
  return exchange(stream, stream.next_layer());
}

TlsOutcome tls_handshake(const Target& t, const TlsOffer& o) {
  TlsOutcome out;
  asio::io_context io;
  auto ctx = client_context(t, o);
  TlsStream stream(io, *ctx);
  out.ok = tls_connect(io, stream, t, out.error);
  if (out.ok) {
    out.version = SSL_get_version(stream.native_handle());
    out.cipher = SSL_CIPHER_standard_name(SSL_get_current_cipher(stream.native_handle()));
  }
  error_code ignored;
  stream.next_layer().close(ignored);
  return out;
}

}  // namespace ocpp::app::conformance
