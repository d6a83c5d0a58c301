#include "ws_connect.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>

#include "ocpp/rpc/error.hpp"
#include "tls/context.hpp"
#include "compression.hpp"
#include "ws_transport.hpp"

namespace ocpp::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

class Connector final : public ConnectOperation, public std::enable_shared_from_this<Connector> {
 public:
  Connector(asio::any_io_executor ex, ConnectRequest req, std::function<void(ConnectOutcome)> done)
      : resolver_(ex), deadline_(ex), ws_(tcp::socket(ex)), req_(std::move(req)), done_(std::move(done)) {}

  void run() {
    deadline_.expires_after(req_.timeout);
    deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      // After a success the stream lives in the transport; only a closing handshake is left to bound.
      if (ec || !self || (!self->done_ && !self->closing_)) return;
      self->timed_out_ = true;
      self->abort();
    });
    resolver_.async_resolve(req_.host, req_.port,
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                              if (ec) return self->fail("Cannot resolve " + self->req_.host + ": " + ec.message());
                              self->connect(results);
                            });
  }

  void cancel() override {
    if (!done_) return;  // finished: the stream may have moved into a transport
    cancelled_ = true;
    abort();
  }

 private:
  void abort() {
    resolver_.cancel();
    beast::error_code ec;
    socket().close(ec);
  }

  tcp::socket& socket() { return ws_.next_layer().socket(); }

  void connect(const tcp::resolver::results_type& results) {
    asio::async_connect(socket(), results, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return self->fail("Cannot connect: " + self->describe(ec));
      prepare_connection(self->socket());
      if (!self->req_.tls) return self->handshake();
      self->tls_handshake();
    });
  }

  void tls_handshake() {
    try {
      ws_.next_layer().attach_tls(
          make_client_ssl(req_.tls.get(), req_.server_name.empty() ? req_.host : req_.server_name));
    } catch (const std::exception& e) {
      return fail(e.what(), 0, false);
    }
    ws_.next_layer().async_handshake([self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) return self->handshake();
      const bool ours = self->cancelled_ || self->timed_out_;  // else OpenSSL knows why
      auto* ssl = self->ws_.next_layer().ssl();
      if (!ours && certificate_rejected(ssl))
        return self->finish_with(std::make_exception_ptr(CertificateError("TLS handshake failed: " + tls_failure(ssl, ec))));
      self->fail("TLS handshake failed: " + (ours ? self->describe(ec) : tls_failure(ssl, ec)));
    });
  }

  void handshake() {
    ws_.set_option(websocket::stream_base::decorator([this](websocket::request_type& r) {
      r.set(http::field::user_agent, "ocpp-ws-io-cpp/0.1");
      if (!req_.protocols.empty()) r.set(http::field::sec_websocket_protocol, join(req_.protocols));
      for (const auto& [k, v] : req_.headers) r.set(k, v);
    }));
    ws_.read_message_max(req_.max_frame_bytes);
    ws_.set_option(deflate_option(req_.compression, false));
    std::string host = req_.host.find(':') != std::string::npos ? "[" + req_.host + "]" : req_.host;
    ws_.async_handshake(response_, host + ":" + req_.port, req_.target, [self = shared_from_this()](beast::error_code ec) {
      self->on_handshake(ec);
    });
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      const unsigned status = response_.result_int();
      if (ec == websocket::error::upgrade_declined && status != 0)
        return fail("Unexpected HTTP response " + std::to_string(status), status);
      return fail("WebSocket handshake failed: " + describe(ec));
    }
    std::string chosen(response_[http::field::sec_websocket_protocol]);
    if (!req_.protocols.empty()) {
      if (chosen.empty()) return fail("Server sent no subprotocol", 0, false, true);
      if (std::find(req_.protocols.begin(), req_.protocols.end(), chosen) == req_.protocols.end())
        return fail("Server sent an invalid subprotocol: " + chosen, 0, false, true);
    } else if (!chosen.empty()) {
      return fail("Server sent a subprotocol but none was requested", 0, false, true);
    }
    ConnectOutcome out;
    out.protocol = std::move(chosen);
    out.compressed = req_.compression.enabled && deflate_agreed(response_[http::field::sec_websocket_extensions]);
    out.transport = make_ws_transport(std::move(ws_), req_.max_frame_bytes, req_.close_timeout);
    finish(std::move(out));
  }

  std::string describe(const beast::error_code& ec) const {
    if (cancelled_) return "connection aborted";
    if (timed_out_) return "timed out after " + std::to_string(req_.timeout.count()) + " ms";
    return ec.message();
  }

  void fail(std::string message, unsigned status = 0, bool retryable = true, bool close_socket = false) {
    if (close_socket) {
      closing_ = true;
      // The upgrade succeeded but the result is unusable: say why with a close frame.
      ws_.async_close(websocket::close_reason(websocket::close_code::protocol_error, "Unacceptable subprotocol"),
                      [keep = shared_from_this()](beast::error_code) {});
    }
    finish_with(std::make_exception_ptr(ConnectError(std::move(message), status, retryable && !cancelled_)));
  }

  void finish_with(std::exception_ptr error) {
    ConnectOutcome out;
    out.error = std::move(error);
    finish(std::move(out));
  }

  void finish(ConnectOutcome out) {
    if (!done_) return;
    if (!closing_) deadline_.cancel();  // else it bounds the closing handshake
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(out));
  }

  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  WsStream ws_;
  ConnectRequest req_;
  std::function<void(ConnectOutcome)> done_;
  websocket::response_type response_;
  bool cancelled_ = false;
  bool timed_out_ = false;
  bool closing_ = false;
};

}  // namespace

std::shared_ptr<ConnectOperation> ws_connect(asio::any_io_executor ex, ConnectRequest request,
                                             std::function<void(ConnectOutcome)> done) {
  auto op = std::make_shared<Connector>(std::move(ex), std::move(request), std::move(done));
  op->run();
  return op;
}

}  // namespace ocpp::detail
