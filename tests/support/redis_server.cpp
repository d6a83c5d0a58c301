#include "support/redis_server.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

#include "support/loopback.hpp"

namespace ocpp_test {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// A port nobody listens on now (the kernel's pick); redis binds it right after.
std::uint16_t free_port() {
  Fd s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  if (s.fd < 0 || ::bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("no free loopback port");
  return ntohs(addr.sin_port);
}

// Whether a connection to the port succeeds and, when `ping`, +PONG (or -NOAUTH: it is up, with a
// password) comes back, within `budget`.
bool answers(std::uint16_t port, bool ping, std::chrono::milliseconds budget) {
  Fd s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  const auto addr = loopback(port);
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) return false;
  pollfd p{s.fd, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(budget.count())) != 1) return false;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
  if (!ping) return true;
  if (::send(s.fd, "PING\r\n", 6, MSG_NOSIGNAL) != 6) return false;
  p = {s.fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(budget.count())) != 1) return false;
  char buf[64];
  const auto n = ::recv(s.fd, buf, sizeof buf, 0);
  const std::string reply(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  return reply.starts_with("+PONG") || reply.starts_with("-NOAUTH");
}

}  // namespace

RedisServer::RedisServer(Options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/ocpp-redis-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  // The port is free when picked but may be taken before redis binds it: a few tries.
  for (int attempt = 0;; ++attempt) {
    port_ = free_port();
    try {
      start();
      return;
    } catch (const std::exception&) {
      kill();
      if (attempt == 4) {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
      }
    }
  }
}

RedisServer::~RedisServer() {
  kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

RedisServer::Options RedisServer::replica_of(const RedisServer& master) {
  return {.args = {"--replicaof", "127.0.0.1", std::to_string(master.port())}};
}

RedisServer::Options RedisServer::sentinel_for(const RedisServer& master, const std::string& name,
                                               std::chrono::milliseconds down_after) {
  const auto ms = std::to_string(down_after.count());
  return {.config = "sentinel monitor " + name + " 127.0.0.1 " + std::to_string(master.port()) + " 1\n" +
                    "sentinel down-after-milliseconds " + name + " " + ms + "\n" +
                    "sentinel failover-timeout " + name + " 5000\n",
          .sentinel = true};
}

RedisServer::Options RedisServer::cluster_node(std::chrono::milliseconds node_timeout) {
  // A replica whose link is young still takes over: the tests' replicas sync in milliseconds, but
  // a failover right after the cluster formed must not wait on the data-age check.
  return {.args = {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout",
                   std::to_string(node_timeout.count()), "--cluster-port", std::to_string(free_port()),
                   "--cluster-replica-validity-factor", "0"}};
}

std::string RedisServer::url(const std::string& suffix) const {
  return (options_.tls ? "rediss://127.0.0.1:" : "redis://127.0.0.1:") + std::to_string(port_) + suffix;
}

void RedisServer::start() {
  const std::string port = std::to_string(port_);
  std::vector<std::string> argv{"redis-server"};
  if (!options_.config.empty()) {
    const std::string path = dir_ + "/redis.conf";
    if (!std::filesystem::exists(path)) {
      std::ofstream out(path);
      out << options_.config << '\n';
    }
    argv.push_back(path);
    if (options_.sentinel) argv.push_back("--sentinel");
  }
  argv.insert(argv.end(), {"--bind", "127.0.0.1", "--dir", dir_, "--save", "", "--appendonly", "no", "--logfile",
                           dir_ + "/redis.log", "--daemonize", "no"});
  // A replica's first sync starts at once, not after the 5 s Redis waits for more replicas.
  if (!options_.sentinel) argv.insert(argv.end(), {"--repl-diskless-sync-delay", "0"});
  if (options_.tls) {
    const auto& t = *options_.tls;
    argv.insert(argv.end(),
                {"--port", "0", "--tls-port", port, "--tls-cert-file", t.cert_file, "--tls-key-file", t.key_file,
                 "--tls-ca-cert-file", t.ca_file, "--tls-auth-clients", t.auth_clients ? "yes" : "no"});
  } else {
    argv.insert(argv.end(), {"--port", port});
  }
  argv.insert(argv.end(), options_.args.begin(), options_.args.end());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Our blocked or ignored signals (SIGPIPE) are not the server's.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = ::posix_spawnp(&pid_, args[0], nullptr, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start redis-server: " + std::string(std::strerror(rc)));
  }
  wait_ready();
}

// Polls until it answers; a server that exits meanwhile (a taken port, a bad option) fails at once.
void RedisServer::wait_ready() {
  const auto deadline = Clock::now() + options_.ready_timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited while starting: " + log_tail());
    }
    if (answers(port_, !options_.tls, std::chrono::milliseconds(200))) return;
    // Nothing to wait on before the server listens: connect() is refused at once, so pace the polls.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  throw std::runtime_error("redis-server did not answer in time: " + log_tail());
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(options_.ready_timeout);
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);  // a paused server cannot act on SIGTERM
  ::kill(pid_, SIGTERM);
  reap(options_.ready_timeout);
}

void RedisServer::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void RedisServer::restart() {
  stop();
  start();
}

// A pidfd makes the child's exit an event to poll, with a timeout; SIGKILL after it.
void RedisServer::reap(std::chrono::milliseconds timeout) {
  Fd pidfd{static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0))};
  if (pidfd.fd >= 0) {
    pollfd p{pidfd.fd, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(timeout.count())) < 0 && errno == EINTR) {
    }
  }
  int status = 0;
  if (::waitpid(pid_, &status, pidfd.fd >= 0 ? WNOHANG : 0) != pid_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
}

std::string RedisServer::log_tail() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

}  // namespace ocpp_test
