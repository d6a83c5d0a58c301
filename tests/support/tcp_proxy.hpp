#pragma once
// A TCP proxy for tests: a free loopback port forwarding to 127.0.0.1:<target>, so that a link can
// be cut without touching either end. pause() stops forwarding both ways (the connections stay
// open, the bytes wait in the kernel), resume() lets them through again. One thread; POSIX only.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace ocpp_test {

class TcpProxy {
 public:
  explicit TcpProxy(std::uint16_t target);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // Once pause() returns nothing more is forwarded until resume().
  void pause();
  void resume();

 private:
  struct Link {
    int from, to;
  };
  void run();
  void wake();

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::mutex mutex_;  // held while bytes are forwarded, and to change `paused_`
  bool paused_ = false;
  std::atomic<bool> stop_{false};
  std::vector<Link> links_;  // both directions of each connection; the proxy's thread only
  std::thread thread_;
};

}  // namespace ocpp_test
