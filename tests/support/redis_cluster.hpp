#pragma once
// A real Redis Cluster for tests: masters and their replicas as RedisServer children on free
// loopback ports, joined with `redis-cli --cluster create`, ready when every node reports the
// cluster ok. Queries go through redis-cli, which setup.sh installs with redis-server.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/redis_server.hpp"

namespace ocpp_test {

class RedisCluster {
 public:
  // Throws std::runtime_error when the cluster does not form.
  explicit RedisCluster(std::size_t masters = 3, std::size_t replicas_per_master = 1,
                        std::chrono::milliseconds node_timeout = std::chrono::milliseconds(1000));

  // redis-cluster:// with every node as a seed (or the first `seeds` of them).
  std::string url(std::size_t seeds = SIZE_MAX) const;
  std::vector<std::unique_ptr<RedisServer>>& nodes() noexcept { return nodes_; }
  // The running node that serves `slot` as master, by the view of a running node; null: none.
  RedisServer* master_of(std::uint16_t slot);
  // `redis-cli -p <port> <args>` on the node's port; its output, trailing newline removed.
  static std::string cli(std::uint16_t port, const std::string& args);
  // Until every running node says cluster_state:ok and agrees who serves `slot` (when given).
  // Throws after `timeout`.
  void wait_ok(std::chrono::milliseconds timeout = std::chrono::milliseconds(15000), int slot = -1);

 private:
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace ocpp_test
