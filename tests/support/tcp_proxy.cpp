#include "support/tcp_proxy.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "support/loopback.hpp"

namespace ocpp_test {
namespace {

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const auto w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::uint16_t target) : target_(target) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(wake_, O_CLOEXEC) != 0)
    throw std::runtime_error("the test proxy cannot listen");
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  wake();
  thread_.join();
  for (const auto& l : links_) ::close(l.from);  // each socket is the `from` of one direction
  ::close(listener_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void TcpProxy::pause() {
  std::lock_guard lock(mutex_);
  paused_ = true;
}

void TcpProxy::resume() {
  {
    std::lock_guard lock(mutex_);
    paused_ = false;
  }
  wake();
}

void TcpProxy::wake() {
  const char c = 0;
  (void)!::write(wake_[1], &c, 1);
}

void TcpProxy::run() {
  std::vector<pollfd> fds;
  char buffer[64 * 1024];
  while (!stop_) {
    bool paused;
    {
      std::lock_guard lock(mutex_);
      paused = paused_;
    }
    fds.assign({{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}});
    if (!paused)
      for (const auto& l : links_) fds.push_back({l.from, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents) {
      char drain[64];
      (void)!::read(wake_[0], drain, sizeof drain);
    }
    if (fds[1].revents & POLLIN) {
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const auto addr = loopback(target_);
      if (client >= 0 && upstream >= 0 && ::connect(upstream, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        links_.push_back({client, upstream});
        links_.push_back({upstream, client});
      } else {
        if (client >= 0) ::close(client);
        if (upstream >= 0) ::close(upstream);
      }
    }
    // A connection either side of which closes is closed both sides.
    std::vector<int> closed;
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      std::lock_guard lock(mutex_);
      if (paused_) break;
      const auto& l = links_[i - 2];
      const auto n = ::recv(l.from, buffer, sizeof buffer, 0);
      if (n <= 0 || !write_all(l.to, buffer, static_cast<std::size_t>(n))) closed.push_back(l.from);
    }
    for (int fd : closed) {
      auto it = std::find_if(links_.begin(), links_.end(), [&](const Link& l) { return l.from == fd; });
      if (it == links_.end()) continue;  // closed with its other direction already
      const Link gone = *it;
      std::erase_if(links_, [&](const Link& l) { return l.from == gone.from || l.from == gone.to; });
      ::close(gone.from);
      ::close(gone.to);
    }
  }
}

}  // namespace ocpp_test
