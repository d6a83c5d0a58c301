#include "ws_connect.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>

#include "ocpp/rpc/error.hpp"
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
      : resolver_(ex), ws_(ex), req_(std::move(req)), done_(std::move(done)) {}

  void run() {
    beast::get_lowest_layer(ws_).expires_after(req_.timeout);
    resolver_.async_resolve(req_.host, req_.port,
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                              if (ec) return self->fail("Cannot resolve " + self->req_.host + ": " + ec.message());
                              self->connect(results);
                            });
  }

  void cancel() override {
    if (!done_) return;  // finished: the stream may have moved into a transport
    cancelled_ = true;
    resolver_.cancel();
    beast::get_lowest_layer(ws_).cancel();
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  void connect(const tcp::resolver::results_type& results) {
    beast::get_lowest_layer(ws_).async_connect(
        results, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return self->fail("Cannot connect: " + self->describe(ec));
          self->handshake();
        });
  }

  void handshake() {
    ws_.set_option(websocket::stream_base::decorator([this](websocket::request_type& r) {
      r.set(http::field::user_agent, "ocpp-ws-io-cpp/0.1");
      if (!req_.protocols.empty()) r.set(http::field::sec_websocket_protocol, join(req_.protocols));
      for (const auto& [k, v] : req_.headers) r.set(k, v);
    }));
    ws_.read_message_max(req_.max_frame_bytes);
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
    out.transport = make_ws_transport(std::move(ws_), req_.max_frame_bytes);
    finish(std::move(out));
  }

  std::string describe(const beast::error_code& ec) const {
    if (cancelled_) return "connection aborted";
    if (ec == beast::error::timeout) return "timed out after " + std::to_string(req_.timeout.count()) + " ms";
    return ec.message();
  }

  void fail(std::string message, unsigned status = 0, bool retryable = true, bool close_socket = false) {
    if (close_socket) {
      // The upgrade succeeded but the result is unusable: say why with a close frame.
      ws_.async_close(websocket::close_reason(websocket::close_code::protocol_error, "Unacceptable subprotocol"),
                      [keep = shared_from_this()](beast::error_code) {});
    }
    ConnectOutcome out;
    out.error = std::make_exception_ptr(ConnectError(std::move(message), status, retryable && !cancelled_));
    finish(std::move(out));
  }

  void finish(ConnectOutcome out) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(out));
  }

  tcp::resolver resolver_;
  WsStream ws_;
  ConnectRequest req_;
  std::function<void(ConnectOutcome)> done_;
  websocket::response_type response_;
  bool cancelled_ = false;
};

}  // namespace

std::shared_ptr<ConnectOperation> ws_connect(asio::any_io_executor ex, ConnectRequest request,
                                             std::function<void(ConnectOutcome)> done) {
  auto op = std::make_shared<Connector>(std::move(ex), std::move(request), std::move(done));
  op->run();
  return op;
}

}  // namespace ocpp::detail
