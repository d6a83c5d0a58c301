#include "fuzz/wire_socket.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ocpp::app::wire_fuzz {
namespace {

int wait_for(int fd, short events, Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left)));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// The value of header `name` (lowercase) in an HTTP response head; empty if absent.
std::string header(const std::string& head, const std::string& name) {
  const std::string low = lower(head);
  const auto at = low.find("\r\n" + name + ":");
  if (at == std::string::npos) return {};
  const auto from = at + name.size() + 3, to = head.find("\r\n", from);
  std::string value = head.substr(from, to - from);
  value.erase(0, value.find_first_not_of(" \t"));
  value.erase(value.find_last_not_of(" \t") + 1);
  return value;
}

}  // namespace

WsUrl parse_endpoint(const std::string& url) {
  auto parsed = parse_ws_url(url);
  if (!parsed || parsed->secure) throw std::invalid_argument("--url: ws://host[:port][/path] (wss:// is not supported)");
  return *parsed;
}

WireSocket::WireSocket(const WsUrl& endpoint, const std::string& identity, const std::string& protocol,
                       std::chrono::milliseconds timeout)
    : mask_rng_(std::hash<std::string>{}(identity)) {
  const auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(endpoint.host.c_str(), endpoint.port.c_str(), &hints, &found); rc != 0)
    throw ConnectError("cannot resolve " + endpoint.host + ": " + gai_strerror(rc), false);
  fd_ = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, found->ai_protocol);
  int rc = fd_ < 0 ? -1 : ::connect(fd_, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  int err = rc == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    if (wait_for(fd_, POLLOUT, deadline) <= 0) {
      ::close(fd_);
      throw ConnectError("TCP connect timed out", false);
    }
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  }
  if (err != 0) {
    if (fd_ >= 0) ::close(fd_);
    throw ConnectError(std::string("TCP connect: ") + std::strerror(err), err == ECONNREFUSED);
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  const std::string request = "GET " + build_target(endpoint, identity) + " HTTP/1.1\r\nHost: " + endpoint.host + ":" +
                              endpoint.port +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                              "b2NwcC1mdXp6LWtleS0xMg==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " +
                              protocol + "\r\n\r\n";
  std::string head;
  std::size_t end = std::string::npos;
  const auto fail = [this](const std::string& what) {
    ::close(fd_);
    fd_ = -1;
    throw ConnectError(what, false);
  };
  if (!send(request)) fail("closed before the upgrade request was sent");
  char buf[4096];
  while ((end = head.find("\r\n\r\n")) == std::string::npos) {
    if (head.size() > 65536) fail("an upgrade response head over 64 KiB");
    if (wait_for(fd_, POLLIN, deadline) <= 0) fail("no upgrade response within the timeout");
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) fail("closed during the upgrade");
    head.append(buf, static_cast<std::size_t>(n));
  }
  reader_.feed(std::string_view(head).substr(end + 4));
  head.resize(end);
  if (head.rfind("HTTP/1.1 101", 0) != 0) fail("upgrade refused: " + head.substr(0, head.find("\r\n")));
  protocol_ = header(head, "sec-websocket-protocol");
}

WireSocket::~WireSocket() {
  if (fd_ >= 0) ::close(fd_);
}

void WireSocket::reset_on_close() {
  const linger abort{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
}

bool WireSocket::send(std::string_view bytes) {
  if (sealed_) return false;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_for(fd_, POLLOUT, deadline) <= 0) return false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool WireSocket::send_frame(std::uint8_t opcode, std::string payload) {
  fuzzgen::WsFrame f;
  f.opcode = opcode;
  f.payload = std::move(payload);
  return send(fuzzgen::encode(f, mask_rng_));
}

bool WireSocket::read_some(Clock::time_point deadline, bool* timed_out) {
  *timed_out = false;
  if (eof_) return false;
  const int ready = wait_for(fd_, POLLIN, deadline);
  if (ready <= 0) {
    *timed_out = true;
    return false;
  }
  char buf[65536];
  const auto n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    eof_ = true;
    return false;
  }
  reader_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  return true;
}

ServerEvent WireSocket::next(Clock::time_point deadline) {
  using fuzzgen::Opcode;
  for (;;) {
    std::optional<fuzzgen::FrameReader::Frame> f;
    try {
      f = reader_.next();
    } catch (const std::length_error& e) {
      return {ServerEvent::Bad, std::string("the server sent ") + e.what()};
    }
    if (!f) {
      bool timed_out = false;
      if (read_some(deadline, &timed_out)) continue;
      return {timed_out ? ServerEvent::Timeout : ServerEvent::Eof};
    }
    if (f->masked) return {ServerEvent::Bad, "a masked frame from the server"};
    if (f->rsv) return {ServerEvent::Bad, "RSV bits set without a negotiated extension"};
    switch (f->opcode) {
      case Opcode::kPing: {
        send_frame(Opcode::kPong, f->payload);
        return {ServerEvent::Ping, std::move(f->payload)};
      }
      case Opcode::kPong: return {ServerEvent::Pong, std::move(f->payload)};
      case Opcode::kClose: {
        ServerEvent e{ServerEvent::Close};
        if (f->payload.size() >= 2) {
          e.close_code = (static_cast<unsigned char>(f->payload[0]) << 8) | static_cast<unsigned char>(f->payload[1]);
          e.payload = f->payload.substr(2);
        }
        return e;
      }
      case Opcode::kText:
      case Opcode::kBinary:
        if (message_opcode_) return {ServerEvent::Bad, "a new message inside a fragmented one"};
        message_opcode_ = f->opcode;
        message_.clear();
        [[fallthrough]];
      case Opcode::kContinuation:
        if (!message_opcode_) return {ServerEvent::Bad, "a continuation frame outside a message"};
        message_ += f->payload;
        if (!f->fin) continue;
        {
          const auto kind = message_opcode_ == Opcode::kText ? ServerEvent::Text : ServerEvent::Binary;
          message_opcode_ = 0;
          return {kind, std::move(message_)};
        }
      default: return {ServerEvent::Bad, "reserved opcode " + std::to_string(f->opcode)};
    }
  }
}

}  // namespace ocpp::app::wire_fuzz
