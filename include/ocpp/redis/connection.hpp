#pragma once
/// @file
/// A pipelined, non-blocking Redis connection on an Asio executor: many commands in flight, written
/// in batches, each with a deadline; reconnects with backoff until stop(). RESP2 (Redis 7 speaks it
/// by default); TLS with rediss://. With redis-sentinel://, the sentinels are asked where the
/// master is before every connect, the server's ROLE is checked, and the connection follows a
/// failover (+switch-master, or a READONLY reply from a master turned replica).
#include <boost/asio/any_io_executor.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ocpp/redis/reply.hpp"
#include "ocpp/rpc/visibility.hpp"
#include "ocpp/tls/tls.hpp"

OCPP_API_BEGIN
namespace ocpp {
class Logger;
}

namespace ocpp::redis {

class Core;

/// How a Redis Connection connects, times out and reconnects.
struct ConnectionOptions {
  std::string url = "redis://127.0.0.1:6379";  ///< see parse_url()
  /// Every command's deadline, from the moment it is issued; command(args, timeout, done) overrides
  /// it per command (XREADGROUP ... BLOCK n needs more than n).
  std::chrono::milliseconds command_timeout{2000};
  /// Resolve, TCP connect, TLS handshake and AUTH/SELECT/CLIENT SETNAME together.
  std::chrono::milliseconds connect_timeout{2000};
  /// The wait before reconnect attempt n (1-based): min(max, min·2^(n-1)), less a random part of at
  /// most `reconnect_jitter` of it. The first attempt after a connection is lost waits too.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};  ///< the longest wait between attempts
  double reconnect_jitter = 0.2;  ///< the random part, a fraction of each wait
  /// For rediss://: CA file (empty: the system's store), client certificate and key, verification
  /// (on by default), server_name (SNI and the name checked; default: the URL's host). The cipher
  /// lists default to the OCPP ones, which Redis' OpenSSL defaults include.
  ClientTlsOptions tls{};
  /// A PING after this long with nothing in flight, under command_timeout: a silent peer (paused,
  /// or the network gone) is noticed on an idle connection too, above all a Subscriber's. 0: never.
  std::chrono::milliseconds health_check_interval{5000};
  std::string client_name{};         ///< CLIENT SETNAME after connecting, when set
  /// redis-sentinel://: AUTH for the sentinels themselves (the URL's credentials are the master's).
  /// An empty password: none.
  std::string sentinel_user{};
  std::string sentinel_password{};  ///< see sentinel_user
  /// ClusterClient (redis-cluster://): the MOVED and ASK replies one command follows at most.
  std::size_t max_redirects = 5;
  /// ClusterClient: how often the slot map is asked for again while a master in it is unreachable
  /// (a failover under way: the replica's promotion shows in the map only).
  std::chrono::milliseconds slot_refresh_interval{250};
  std::shared_ptr<Logger> logger{};  ///< null: ocpp::default_logger()
};

/// A Connection's counters (Connection::stats()). Read from any thread while the connection runs.
struct Stats {
  /// Upper bounds of the latency buckets, in microseconds; the last bucket counts the rest.
  static constexpr std::array<std::uint32_t, 11> kLatencyBoundsUs{100,   250,   500,    1000,   2500,   5000,
                                                                  10000, 25000, 100000, 500000, 2000000};
  std::uint64_t commands = 0;  ///< issued
  std::uint64_t sent = 0;      ///< put on a connection, with the handshake and health-check commands
  std::uint64_t replies = 0;   ///< replies received for commands, error replies included
  /// Commands failed, by ErrorKind (the handshake's and health check's included).
  std::uint64_t server_errors = 0;
  std::uint64_t timeouts = 0;  ///< failed with timeout
  std::uint64_t disconnected = 0;  ///< failed with disconnected
  std::uint64_t protocol_errors = 0;  ///< failed with protocol
  std::uint64_t tls_errors = 0;  ///< failed with tls
  std::uint64_t connects = 0;    ///< successful connects, handshake done
  std::uint64_t reconnects = 0;  ///< connects after the first
  std::uint64_t connection_losses = 0;  ///< connections lost after connecting
  /// redis-sentinel://: times a sentinel named another master than the one before (a failover
  /// followed).
  std::uint64_t master_changes = 0;
  std::uint64_t latency_count = 0;  ///< replies timed (issue to reply)
  std::uint64_t latency_sum_us = 0;  ///< sum of the timed latencies
  std::array<std::uint64_t, kLatencyBoundsUs.size() + 1> latency_buckets{};  ///< replies by latency, per kLatencyBoundsUs
};

/// A Lua script and its SHA1 (computed here), for Connection::eval.
class Script {
 public:
  /// Computes the SHA1 of `source`.
  explicit Script(std::string source);
  /// The Lua source.
  const std::string& source() const noexcept { return source_; }
  const std::string& sha1() const noexcept { return sha1_; }  ///< lower-case hex, as SCRIPT LOAD returns

 private:
  std::string source_;
  std::string sha1_;
};

/// A pipelined Redis connection: commands with deadlines, reconnects with backoff, Lua scripts.
/// All work runs on the executor given (use a strand when its io_context runs on several threads);
/// every member function may be called from any thread. Completions and hooks run on the executor.
class Connection {
 public:
  /// Throws UrlError for a bad options.url and TlsError for unreadable TLS files (rediss://).
  Connection(boost::asio::any_io_executor executor, ConnectionOptions options);
  /// Stops: what is pending fails with disconnected (on the executor, after this returns).
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// The executor everything runs on.
  boost::asio::any_io_executor get_executor() const noexcept;

  /// Connects (and reconnects with backoff until stop()). Commands issued before wait for it.
  void start();
  /// Closes the connection; every command pending or queued fails with disconnected. start() may
  /// follow.
  void stop();

  /// Sends `args` (the command and its arguments, binary-safe). `done` gets the reply, an Error of
  /// kind server for an error reply, timeout at the deadline, disconnected when the connection is
  /// lost or stopped. A command whose reply is late fails with timeout and the connection is
  /// dropped and reopened (the replies after it could not be matched any more); the other commands
  /// sent on it fail with disconnected. A command issued while not connected waits for the
  /// connection up to its deadline and then fails with disconnected (it was never sent).
  /// Commands issued from one thread are sent in that order. Each command must draw exactly one
  /// reply: no SUBSCRIBE (see Subscriber), MONITOR or CLIENT REPLY OFF here. Empty `args` throw
  /// std::invalid_argument.
  void command(const std::vector<std::string>& args, Completion done);
  /// command() with its own deadline instead of command_timeout.
  void command(const std::vector<std::string>& args, std::chrono::milliseconds timeout, Completion done);
  /// command() of string views.
  void command(std::initializer_list<std::string_view> args, Completion done);
  /// command() of string views with its own deadline.
  void command(std::initializer_list<std::string_view> args, std::chrono::milliseconds timeout, Completion done);

  /// EVALSHA, and on NOSCRIPT the script's source with EVAL (once, with a fresh deadline).
  void eval(const Script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args,
            Completion done);
  /// The same with its own deadline instead of command_timeout.
  void eval(const Script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args,
            std::chrono::milliseconds timeout, Completion done);

  /// Connected and the handshake (AUTH, SELECT, CLIENT SETNAME) done.
  bool connected() const noexcept;
  /// After every connect, once the handshake is done and before the commands waiting for it are
  /// sent (the commands it issues go first). Set before start().
  void on_connected(std::function<void()> hook);
  /// When a connection is lost or a connect attempt fails, with why. Set before start().
  void on_disconnected(std::function<void(const Error&)> hook);

  /// A snapshot of the counters.
  Stats stats() const;

 private:
  friend class Subscriber;
  struct AnyNode {};
  // A redis-cluster:// URL too: each connect goes to the next of its nodes.
  Connection(boost::asio::any_io_executor executor, ConnectionOptions options, AnyNode);
  std::shared_ptr<Core> core_;
};

}  // namespace ocpp::redis
OCPP_API_END
