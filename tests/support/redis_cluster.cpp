#include "support/redis_cluster.hpp"

#include <array>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ocpp_test {
namespace {

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> buf;
  while (const auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = ::pclose(p);
  if (status != 0) throw std::runtime_error(command + " failed: " + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// CLUSTER NODES: one line per node, "<id> <ip:port@bus> <flags> <master id> ... <slot ranges>".
std::string master_port_for(const std::string& nodes, std::uint16_t slot) {
  std::istringstream lines(nodes);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (w.size() < 9 || w[2].find("master") == std::string::npos || w[2].find("fail") != std::string::npos) continue;
    for (std::size_t i = 8; i < w.size(); ++i) {
      if (w[i].starts_with('[')) continue;  // a slot being migrated
      const auto dash = w[i].find('-');
      const int first = std::stoi(w[i].substr(0, dash));
      const int last = dash == std::string::npos ? first : std::stoi(w[i].substr(dash + 1));
      if (slot >= first && slot <= last) return w[1].substr(w[1].rfind(':') + 1, w[1].find('@') - w[1].rfind(':') - 1);
    }
  }
  return {};
}

}  // namespace

RedisCluster::RedisCluster(std::size_t masters, std::size_t replicas_per_master, std::chrono::milliseconds node_timeout) {
  std::string create = "redis-cli --cluster create";
  for (std::size_t i = 0; i < masters * (1 + replicas_per_master); ++i) {
    nodes_.push_back(std::make_unique<RedisServer>(RedisServer::cluster_node(node_timeout)));
    create += " 127.0.0.1:" + std::to_string(nodes_.back()->port());
  }
  run(create + " --cluster-replicas " + std::to_string(replicas_per_master) + " --cluster-yes");
  wait_ok();
  // Replicas synced, so that a failover loses nothing the test wrote after this.
  for (auto& n : nodes_) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (;;) {
      const std::string info = cli(n->port(), "info replication");
      if (info.find("role:master") != std::string::npos || info.find("master_link_status:up") != std::string::npos)
        break;
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("a replica never synced: " + info);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // no event to wait on from here
    }
  }
}

std::string RedisCluster::url(std::size_t seeds) const {
  std::string out = "redis-cluster://";
  for (std::size_t i = 0; i < nodes_.size() && i < seeds; ++i)
    out += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(nodes_[i]->port());
  return out;
}

std::string RedisCluster::cli(std::uint16_t port, const std::string& args) {
  return run("redis-cli -p " + std::to_string(port) + " " + args);
}

RedisServer* RedisCluster::master_of(std::uint16_t slot) {
  for (auto& n : nodes_) {
    if (!n->running()) continue;
    const std::string port = master_port_for(cli(n->port(), "cluster nodes"), slot);
    for (auto& m : nodes_)
      if (m->running() && std::to_string(m->port()) == port) return m.get();
    return nullptr;
  }
  return nullptr;
}

void RedisCluster::wait_ok(std::chrono::milliseconds timeout, int slot) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  for (;;) {
    bool ok = true;
    std::string owner;
    for (auto& n : nodes_) {
      if (!n->running()) continue;
      last = cli(n->port(), "cluster info");
      ok = ok && last.find("cluster_state:ok") != std::string::npos;
      if (ok && slot >= 0) {
        const std::string o = master_port_for(cli(n->port(), "cluster nodes"), static_cast<std::uint16_t>(slot));
        ok = !o.empty() && (owner.empty() || o == owner);
        owner = o;
      }
      if (!ok) break;
    }
    if (ok) return;
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the cluster is not ok: " + last);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the nodes gossip; nothing tells us
  }
}

}  // namespace ocpp_test
