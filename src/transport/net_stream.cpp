#include "net_stream.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>

#include <sys/socket.h>

#include <cerrno>

namespace ocpp::detail {

int NetStream::step(TlsOp op, boost::asio::mutable_buffer buffer, std::size_t& n) {
  n = 0;
  SSL* ssl = ssl_.get();
  ERR_clear_error();  // SSL_get_error reads the thread's error queue
  int ret = 1;
  switch (op) {
    case TlsOp::read:
      if (buffer.size() == 0) return SSL_ERROR_NONE;
      ret = SSL_read_ex(ssl, buffer.data(), buffer.size(), &n);
      break;
    case TlsOp::write:
      if (buffer.size() == 0) return SSL_ERROR_NONE;
      ret = SSL_write_ex(ssl, buffer.data(), buffer.size(), &n);
      break;
    case TlsOp::handshake:
      ret = SSL_do_handshake(ssl);
      break;
  }
  if (ret == 1) return SSL_ERROR_NONE;
  n = 0;
  return SSL_get_error(ssl, ret);
}

boost::system::error_code NetStream::error_for(int ssl_error) const {
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      return boost::asio::error::eof;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        if (errno == 0) return boost::asio::error::eof;
        return {errno, boost::system::system_category()};
      }
      break;
    default:
      break;
  }
  const auto code = ERR_get_error();
  if (code == 0) return boost::asio::error::connection_aborted;
  return {static_cast<int>(code), boost::asio::error::get_ssl_category()};
}

bool NetStream::send_now(boost::asio::const_buffer buffer, std::size_t& n, boost::system::error_code& ec) {
  for (;;) {
    // MSG_DONTWAIT: the descriptor may not be non-blocking yet; MSG_NOSIGNAL: a closed peer is an
    // error code, not SIGPIPE.
    const auto r = ::send(socket_.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r >= 0) {
      n = static_cast<std::size_t>(r);
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    ec.assign(errno, boost::asio::error::get_system_category());
    return true;
  }
}

char* NetStream::scratch() {
  thread_local char buffer[kRecord];
  return buffer;
}

void send_close_notify(NetStream& stream) noexcept {
  SSL* ssl = stream.ssl();
  if (!ssl || !SSL_is_init_finished(ssl)) return;
  ERR_clear_error();
  SSL_shutdown(ssl);  // non-blocking: if the socket cannot take it now, the peer sees a plain close
  ERR_clear_error();
}

}  // namespace ocpp::detail
