#pragma once
// Internal: the byte stream under every WebSocket: a TCP socket, with TLS when an SSL object is
// attached. OpenSSL reads and writes the socket's descriptor itself (non-blocking), and Asio only
// waits for readiness. asio::ssl::stream instead keeps ~68 KB of fixed buffers per connection;
// here OpenSSL holds record buffers only while a record is in flight (SSL_MODE_RELEASE_BUFFERS).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <fcntl.h>
#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <memory>

#include "tls/context.hpp"

namespace ocpp::detail {

// Asio neither accepts with SOCK_CLOEXEC nor sets the flag: a station or CSMS that spawns helpers
// must not leak its sockets into them.
inline void close_on_exec(int fd) noexcept { ::fcntl(fd, F_SETFD, FD_CLOEXEC); }

// For every connected socket, either side: no Nagle delay for small frames, and close-on-exec.
inline void prepare_connection(boost::asio::ip::tcp::socket& socket) noexcept {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  close_on_exec(socket.native_handle());
}

enum class TlsOp { read, write, handshake };

class NetStream {
 public:
  using executor_type = boost::asio::any_io_executor;
  using socket_type = boost::asio::ip::tcp::socket;

  explicit NetStream(socket_type socket) : socket_(std::move(socket)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  // How long closing waits for the peer to close its side (see async_teardown).
  std::chrono::milliseconds teardown_timeout{5000};
  socket_type& socket() noexcept { return socket_; }
  SSL* ssl() const noexcept { return ssl_.get(); }

  // Hands the socket to OpenSSL; the handshake follows with async_handshake.
  void attach_tls(SslPtr ssl) {
    socket_.non_blocking(true);  // Asio sets O_NONBLOCK lazily; OpenSSL must never block the thread
    SSL_set_fd(ssl.get(), static_cast<int>(socket_.native_handle()));
    ssl_ = std::move(ssl);
  }

  template <class Token>
  auto async_handshake(Token&& token) {
    return run<TlsOp::handshake>(boost::asio::mutable_buffer(), std::forward<Token>(token));
  }

  // Plain reads and writes hand the kernel one buffer, so Asio calls recv and send rather than
  // recvmsg and sendmsg, whose message header and iovec copies cost ~5 % of a call's server CPU.
  // A read may return less than the sequence holds, so its first buffer is enough.
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    const auto first = first_buffer<boost::asio::mutable_buffer>(buffers);
    if (!ssl_) return socket_.async_read_some(first, std::forward<Token>(token));
    return run<TlsOp::read>(first, std::forward<Token>(token));
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    if (ssl_) return run<TlsOp::write>(gather(buffers), std::forward<Token>(token));
    GatheredWrite op{*this};
    std::size_t pieces = 0, total = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer b(*it);
      if (b.size() == 0) continue;
      if (pieces < op.parts.size()) op.parts[pieces] = b;
      ++pieces;
      total += b.size();
    }
    if (pieces <= 1) return socket_.async_write_some(op.parts[0], std::forward<Token>(token));
    // Many pieces (an HTTP answer's fields) or a large write: one sendmsg.
    if (pieces > op.parts.size() || total > kRecord) return socket_.async_write_some(buffers, std::forward<Token>(token));
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(op, token, socket_);
  }

  // One attempt of the operation: SSL_ERROR_NONE with `n` set, else what OpenSSL wants.
  int step(TlsOp op, boost::asio::mutable_buffer buffer, std::size_t& n);
  // The error an OpenSSL failure code (not WANT_*) stands for; eof for a close by the peer.
  boost::system::error_code error_for(int ssl_error) const;

 private:
  template <class Buffer, class Buffers>
  static Buffer first_buffer(const Buffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
      if (Buffer b(*it); b.size() != 0) return b;
    return Buffer();
  }

  // TLS writes one record per call, so the WebSocket header and payload (separate buffers) are
  // joined first. The scratch may be reused by another connection before a retry after
  // WANT_WRITE: harmless, as the write is at most one record, which OpenSSL has already encrypted
  // and the retry only flushes.
  template <class Buffers>
  boost::asio::mutable_buffer gather(const Buffers& buffers) {
    auto first = first_buffer<boost::asio::const_buffer>(buffers);
    if (first.size() >= kRecord || boost::asio::buffer_size(buffers) == first.size())
      return {const_cast<void*>(first.data()), first.size()};
    const auto n = boost::asio::buffer_copy(boost::asio::buffer(scratch(), kRecord), buffers);
    return {scratch(), n};
  }
  static constexpr std::size_t kRecord = 16384;
  static char* scratch();  // per thread: the bytes are consumed by SSL_write before it returns

  template <TlsOp Op>
  struct Io {
    NetStream& stream;
    boost::asio::mutable_buffer buffer;
    bool waited = false;
    bool posted = false;
    boost::system::error_code result;
    std::size_t n = 0;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
      if (posted) return self.complete(result, n);
      if (ec) return self.complete(ec, 0);
      const int status = stream.step(Op, buffer, n);
      if (status == SSL_ERROR_WANT_READ || status == SSL_ERROR_WANT_WRITE) {
        waited = true;
        return stream.socket_.async_wait(
            status == SSL_ERROR_WANT_READ ? socket_type::wait_read : socket_type::wait_write, std::move(self));
      }
      result = status == SSL_ERROR_NONE ? boost::system::error_code() : stream.error_for(status);
      if (waited) return self.complete(result, n);
      // Done without waiting: complete through the executor, never inside the initiating call.
      posted = true;
      boost::asio::post(stream.socket_.get_executor(), std::move(self));
    }
  };

  // A WebSocket frame's header and payload (at most four pieces) joined in the per-thread scratch
  // and sent at once, without waiting. The scratch may belong to another connection by the time
  // the socket is writable, so a full socket falls back to Asio's write of the caller's own buffers.
  struct GatheredWrite {
    NetStream& stream;
    std::array<boost::asio::const_buffer, 4> parts{};
    enum class Step { start, sent, waited } step = Step::start;
    boost::system::error_code result{};
    std::size_t n = 0;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t written = 0) {
      if (step == Step::sent) return self.complete(result, n);
      if (step == Step::waited) return self.complete(ec, written);
      const auto size = boost::asio::buffer_copy(boost::asio::buffer(scratch(), kRecord), parts);
      if (stream.send_now({scratch(), size}, n, result)) {
        step = Step::sent;  // complete through the executor, never inside the initiating call
        return boost::asio::post(std::move(self));
      }
      step = Step::waited;
      stream.socket_.async_write_some(parts, std::move(self));  // copied: `self` moves; unused parts are empty
    }
  };
  // One non-blocking send: false when the socket is full, else `n` or `ec` is the outcome.
  bool send_now(boost::asio::const_buffer buffer, std::size_t& n, boost::system::error_code& ec);

  template <TlsOp Op, class Token>
  auto run(boost::asio::mutable_buffer buffer, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        Io<Op>{*this, buffer, false, false, {}, 0}, token, socket_);
  }

  socket_type socket_;
  SslPtr ssl_;
};

// Beast closes the lowest layer through this customisation point (on timeouts and failures).
inline void beast_close_socket(NetStream& stream) {
  boost::system::error_code ignored;
  stream.socket().close(ignored);
}

// Closing: a TLS stream sends close_notify (once, without waiting), then the TCP teardown.
void send_close_notify(NetStream& stream) noexcept;

inline void teardown(boost::beast::role_type role, NetStream& stream, boost::system::error_code& ec) {
  send_close_notify(stream);
  boost::beast::websocket::teardown(role, stream.socket(), ec);
}

// Beast 1.81's TCP teardown stops draining after one read (it never records how much it read), so
// a peer still sending, a decompression bomb say, gets a reset that can destroy the close frame
// before the peer reads it. This one drains until the peer closes, for at most the stream's
// teardown_timeout (a peer that never closes must not hold the socket), then closes.
struct Teardown {
  struct Drain {
    explicit Drain(const NetStream::executor_type& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    std::array<char, 2048> buffer;
    bool done = false;
  };
  NetStream& stream;
  boost::beast::role_type role;
  std::shared_ptr<Drain> drain{};  // only while tearing down

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t = 0) {
    auto& socket = stream.socket();
    if (!drain) {
      drain = std::make_shared<Drain>(socket.get_executor());
      boost::system::error_code ignored;
      if (role == boost::beast::role_type::server) socket.shutdown(NetStream::socket_type::shutdown_send, ignored);
      drain->timer.expires_after(stream.teardown_timeout);
      drain->timer.async_wait([d = drain, &socket](boost::system::error_code e) {
        boost::system::error_code ignored;
        if (!e && !d->done) socket.close(ignored);  // the pending read completes, aborted
      });
    } else if (!ec) {
      // more from the peer: discard it
    } else {
      drain->done = true;
      drain->timer.cancel();
      boost::system::error_code ignored;
      if (role == boost::beast::role_type::client) socket.shutdown(NetStream::socket_type::shutdown_send, ignored);
      socket.close(ignored);
      const bool clean = ec == boost::asio::error::eof || ec == boost::asio::error::operation_aborted;
      return self.complete(clean ? boost::system::error_code() : ec);
    }
    socket.async_read_some(boost::asio::buffer(drain->buffer), std::move(self));
  }
};

template <class Handler>
void async_teardown(boost::beast::role_type role, NetStream& stream, Handler&& handler) {
  send_close_notify(stream);
  boost::asio::async_compose<Handler, void(boost::system::error_code)>(Teardown{stream, role}, handler,
                                                                       stream.socket());
}

}  // namespace ocpp::detail
