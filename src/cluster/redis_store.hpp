#pragma once
// Where the Redis adapter's commands go: one connection (a server, TLS, Sentinel) or a Redis
// Cluster. Every command names the key that routes it; with one connection the key is ignored.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ocpp/redis/cluster_client.hpp"
#include "ocpp/redis/connection.hpp"

namespace ocpp::cluster::detail {

class RedisStore {
 public:
  // A redis-cluster:// or rediss-cluster:// URL gives a ClusterClient, any other a Connection.
  RedisStore(boost::asio::any_io_executor executor, redis::ConnectionOptions options);

  bool cluster() const noexcept { return static_cast<bool>(cluster_); }
  void start();
  void stop();
  void command(std::string_view key, std::vector<std::string> args, redis::Completion done);
  void command(std::string_view key, std::vector<std::string> args, std::chrono::milliseconds timeout,
               redis::Completion done);
  // Routed by keys[0]; every key must share its slot.
  void eval(const redis::Script& script, std::vector<std::string> keys, std::vector<std::string> args,
            redis::Completion done);
  void eval(const redis::Script& script, std::vector<std::string> keys, std::vector<std::string> args,
            std::chrono::milliseconds timeout, redis::Completion done);
  // When the masters may have changed (the hook reads master_changes()): with one connection after
  // each connect, on a cluster when the slot map's set of masters changed. Before start().
  void on_maybe_failed_over(std::function<void()> hook);
  // Grows when the store's masters change: a Sentinel failover, or another set of cluster masters.
  std::uint64_t master_changes() const;
  redis::Stats stats() const;

 private:
  std::unique_ptr<redis::Connection> single_;
  std::unique_ptr<redis::ClusterClient> cluster_;
  mutable std::mutex mutex_;  // guards what follows (master_changes() is called from any thread)
  mutable std::vector<std::string> masters_;
  mutable std::uint64_t cluster_changes_ = 0;
};

}  // namespace ocpp::cluster::detail
