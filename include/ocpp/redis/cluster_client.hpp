#pragma once
/// @file
/// A Redis Cluster client: one pipelined Connection per master, each command sent to the master of
/// its key's slot. The slot map is learnt from the seed nodes of a redis-cluster:// URL (CLUSTER
/// SLOTS), corrected by MOVED replies, and asked for again while a master is unreachable, so a
/// replica's promotion is followed without a restart. ASK (a slot being migrated) is followed for
/// the one command. Every command ends once, with its reply or an Error, by its deadline, which
/// covers the redirects.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ocpp/redis/connection.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::redis {

/// A ClusterClient's counters (ClusterClient::stats()), read from any thread.
struct ClusterStats {
  std::uint64_t moved = 0;             ///< MOVED replies followed
  std::uint64_t asked = 0;             ///< ASK replies followed
  std::uint64_t retried = 0;           ///< TRYAGAIN (a multi-key command during a migration) retried
  std::uint64_t slot_refreshes = 0;    ///< slot maps loaded
  std::uint64_t refresh_failures = 0;  ///< rounds in which no node answered CLUSTER SLOTS
  std::size_t masters = 0;             ///< in the slot map
  Stats connections{};                 ///< summed over the connections to the masters
};

/// Commands to a Redis Cluster, each routed to the master of its key's slot.
///
/// All work runs on the executor given (a strand when its io_context runs on several threads);
/// every member function may be called from any thread. Completions run on the executor.
class ClusterClient {
 public:
  /// options.url: redis-cluster:// or rediss-cluster:// (see parse_url); the other options apply to
  /// the connection to each node. Throws UrlError for another URL, TlsError for unreadable TLS files.
  ClusterClient(boost::asio::any_io_executor executor, ConnectionOptions options);
  /// Stops: what is pending fails with disconnected.
  ~ClusterClient();
  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  /// The executor given to the constructor.
  boost::asio::any_io_executor get_executor() const noexcept;
  /// Learns the slot map and connects to the masters; commands issued before go to a seed node and
  /// follow its MOVED.
  void start();
  /// Closes every connection; what is pending fails with disconnected. start() may follow.
  void stop();

  /// `args` to the master of key_slot(key); every key the command names must share that slot. The
  /// outcomes are Connection::command's, plus a server error when the redirects exceed
  /// max_redirects or the cluster answers CLUSTERDOWN.
  void command(std::string_view key, std::vector<std::string> args, Completion done);
  /// The same with its own deadline instead of command_timeout.
  void command(std::string_view key, std::vector<std::string> args, std::chrono::milliseconds timeout, Completion done);
  /// EVALSHA (EVAL on NOSCRIPT), routed by keys[0]. Keys in more than one slot fail at once with a
  /// server error CROSSSLOT, unsent; no keys throws std::invalid_argument (a script without keys
  /// has no slot).
  void eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args, Completion done);
  /// The same with its own deadline instead of command_timeout.
  void eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
            std::chrono::milliseconds timeout, Completion done);

  /// The masters of the current slot map, as host:port.
  std::vector<std::string> masters() const;
  /// Called on the executor after the slot map changed its set of masters (a replica took a
  /// failed master's place, a master was added or removed); not for the first map. Set it before
  /// start(). What it throws is logged.
  void on_masters_changed(std::function<void()> hook);
  /// The counters so far.
  ClusterStats stats() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ocpp::redis
OCPP_API_END
