#include "server/proxy_reader.hpp"

#include <boost/asio/error.hpp>

#include <memory>

namespace ocpp::detail {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Peeking, rather than reading ahead, keeps the bytes after the header in the socket, where the TLS
// handshake (OpenSSL reads the descriptor itself) and the HTTP parser expect them. What was peeked
// without completing the header is all header and is read at once, so a slow sender does not make
// us wake up again for the same bytes.
struct ProxyRead : std::enable_shared_from_this<ProxyRead> {
  ProxyRead(tcp::socket& s, ProxyReadHandler d) : socket(s), done(std::move(d)) {}

  void wait() {
    socket.async_wait(tcp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      self->on_readable(ec);
    });
  }

  void on_readable(boost::system::error_code ec) {
    if (ec) return finish(ec);
    window.resize(kProxyV2MaxBytes - header.size());
    const auto n = socket.receive(asio::buffer(window), tcp::socket::message_peek, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return wait();
    if (ec) return finish(ec);
    if (n == 0) return finish(asio::error::eof);
    const auto seen = header.size();
    header.append(window, 0, n);
    auto parse = parse_proxy_header(header);
    if (parse.status == ProxyParse::Status::invalid)
      return finish(asio::error::invalid_argument, {}, std::move(parse.error));
    const auto take = parse.status == ProxyParse::Status::done ? parse.header.size - seen : n;
    header.resize(seen + take);
    // The peeked bytes are there: this read does not block (the socket is non-blocking anyway).
    const auto got = socket.receive(asio::buffer(window.data(), take), 0, ec);
    if (ec) return finish(ec);
    if (got != take) return finish(asio::error::connection_reset);
    if (parse.status == ProxyParse::Status::need_more) return wait();
    finish({}, std::move(parse.header));
  }

  void finish(boost::system::error_code ec, ProxyHeader h = {}, std::string why = {}) {
    boost::system::error_code ignored;
    socket.non_blocking(false, ignored);
    auto d = std::move(done);
    d(ec, std::move(h), std::move(why));
  }

  tcp::socket& socket;
  ProxyReadHandler done;
  std::string header;  // the bytes consumed so far
  std::string window;  // what the peek sees
};

}  // namespace

void async_read_proxy_header(tcp::socket& socket, ProxyReadHandler done) {
  auto read = std::make_shared<ProxyRead>(socket, std::move(done));
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  read->wait();
}

}  // namespace ocpp::detail
