#pragma once
// A real redis-server for tests, as a child process on a free loopback port with a data directory
// of its own (removed with the object). Started and restarted on the same port and directory;
// killed, stopped, paused and resumed with signals. Plain TCP, or TLS only (--port 0 --tls-port P).
// POSIX only.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ocpp_test {

class RedisServer {
 public:
  struct Tls {
    std::string cert_file{}, key_file{}, ca_file{};
    bool auth_clients = false;  // --tls-auth-clients: require a client certificate
  };
  struct Options {
    std::vector<std::string> args{};  // appended to the defaults, e.g. {"--requirepass", "secret"}
    // When set: written to <dir>/redis.conf (once; a restart keeps what the server rewrote into it)
    // and passed first, so the default arguments and `args` still win.
    std::string config{};
    // redis-server --sentinel; `config` holds its "sentinel monitor" lines (sentinel_config()).
    bool sentinel = false;
    std::optional<Tls> tls{};
    std::chrono::milliseconds ready_timeout{10000};
  };

  // Starts it and waits until it answers (PING over TCP; for TLS, until it accepts connections).
  // Throws std::runtime_error with its log's tail when it does not come up.
  RedisServer() : RedisServer(Options{}) {}
  // A replica of `master` (plain TCP, no password).
  static Options replica_of(const RedisServer& master);
  // A sentinel watching `master` under `name`, alone in its quorum; `down_after` before it calls
  // the master down and fails over.
  static Options sentinel_for(const RedisServer& master, const std::string& name,
                              std::chrono::milliseconds down_after = std::chrono::milliseconds(500));
  // A Redis Cluster node (its bus on another free port), not yet in a cluster; `node_timeout`
  // before the others call it failed and its replica takes over.
  static Options cluster_node(std::chrono::milliseconds node_timeout = std::chrono::milliseconds(1000));
  explicit RedisServer(Options options);
  ~RedisServer();  // SIGKILL, then the directory goes
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  const std::string& dir() const noexcept { return dir_; }
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0; }
  // redis://127.0.0.1:<port> (rediss:// for TLS), plus `suffix` (e.g. "/3").
  std::string url(const std::string& suffix = {}) const;

  void kill();     // SIGKILL and reap
  void stop();     // SIGTERM, reap (SIGKILL after the ready timeout)
  void pause();    // SIGSTOP: connections stay open, nothing is answered
  void resume();   // SIGCONT
  void restart();  // stop() if running, then start again on the same port and directory

 private:
  void start();
  void wait_ready();
  void reap(std::chrono::milliseconds timeout);
  std::string log_tail() const;

  Options options_;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ocpp_test
