// `ocpp call` and `ocpp cluster`: a CALL to a station on any node of a cluster, and the cluster's
// nodes and owners, through its Redis.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <future>
#include <iostream>

#include "commands.hpp"
#include "ocpp/cluster/redis_adapter.hpp"
#include "ocpp/ocpp.hpp"

namespace ocpp::app {
namespace {

cluster::RedisAdapterOptions redis_options(const std::string& url, const std::string& prefix) {
  cluster::RedisAdapterOptions o;
  o.connection.url = url;
  o.connection.logger = null_logger();
  o.prefix = prefix;
  return o;
}

template <class T>
T wait_for(std::future<cluster::Result<T>> f, const char* what) {
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    throw std::runtime_error(std::string(what) + ": Redis did not answer within 10 s");
  auto r = f.get();
  if (auto* failure = std::get_if<cluster::AdapterFailure>(&r))
    throw std::runtime_error(std::string(what) + ": " + failure->message);
  return std::get<T>(std::move(r));
}

template <class T>
std::pair<cluster::Done<T>, std::future<cluster::Result<T>>> promised() {
  auto p = std::make_shared<std::promise<cluster::Result<T>>>();
  auto f = p->get_future();
  return {[p](cluster::Result<T> r) { p->set_value(std::move(r)); }, std::move(f)};
}

}  // namespace

int call_station(const CallArgs& args) {
  boost::json::error_code ec;
  auto payload = boost::json::parse(args.payload, ec);
  if (ec) throw UsageError("--payload is not JSON: " + ec.message());
  IoPool pool(1);
  auto adapter = std::make_shared<cluster::RedisAdapter>(pool.executor(), redis_options(args.redis, args.prefix));
  cluster::ClusterOptions options;
  options.adapter = adapter;
  options.node_id = "ocpp-call-" + std::to_string(::getpid());
  auto node = std::make_shared<cluster::ClusterNode>(pool.executor(), options, cluster::ClusterNode::Events{}, null_logger());
  pool.start();
  node->start();
  std::promise<cluster::RoutedReply> replied;
  node->route({args.to, args.protocol, args.action, boost::json::serialize(payload), args.message_id,
               std::chrono::milliseconds(args.timeout_ms)},
              [&](cluster::RoutedReply r) { replied.set_value(std::move(r)); });
  auto reply = replied.get_future().get();  // the node ends every call by its deadline
  std::promise<void> left;
  node->stop([&] { left.set_value(); });
  left.get_future().wait_for(std::chrono::seconds(5));
  pool.stop();
  pool.join();

  using cluster::Outcome;
  switch (reply.outcome) {
    case Outcome::result:
      std::cout << reply.payload << "\n";
      return 0;
    case Outcome::call_error:
      std::cout << boost::json::serialize(boost::json::array{4, reply.id, reply.error_code, reply.description,
                                                             boost::json::parse(reply.payload.empty() ? "{}" : reply.payload)})
                << "\n";
      std::cerr << "ocpp call: CALLERROR " << reply.error_code << ": " << reply.description << "\n";
      return 3;
    default:
      std::cerr << "ocpp call: " << cluster::to_string(reply.outcome)
                << (reply.description.empty() ? "" : " (" + reply.description + ")") << "\n";
      return call_exit_code(reply.outcome);
  }
}

int call_exit_code(cluster::Outcome outcome) {
  using cluster::Outcome;
  switch (outcome) {
    case Outcome::result: return 0;
    case Outcome::call_error: return 3;
    case Outcome::not_connected: return 4;
    case Outcome::timeout: return 5;
    case Outcome::node_down: return 6;
    case Outcome::expired: return 7;
    case Outcome::overloaded: return 8;
    case Outcome::unknown_outcome: return 9;
    case Outcome::duplicate: return 10;
    case Outcome::rejected: return 11;
    case Outcome::unavailable: return 12;
  }
  return 1;
}

int cluster_status(const ClusterArgs& args) {
  IoPool pool(1);
  auto adapter = std::make_shared<cluster::RedisAdapter>(pool.executor(), redis_options(args.redis, args.prefix));
  pool.start();
  auto [done, nodes_future] = promised<std::vector<cluster::NodeInfo>>();
  adapter->nodes(done);
  auto nodes = wait_for(std::move(nodes_future), "nodes");
  const auto now = cluster::system_wall_clock();
  boost::json::array node_list, owners;
  if (!args.json) std::cout << "node                     incarnation           lease left  stations  inbox\n";
  for (const auto& n : nodes) {
    const auto left = static_cast<long long>(n.lease_expires_ms - now);
    node_list.push_back({{"node", n.node.name}, {"incarnation", n.node.incarnation}, {"lease_left_ms", left},
                         {"stations", n.stations}, {"inbox", n.inbox}});
    if (args.json) continue;
    char line[160];
    std::snprintf(line, sizeof line, "%-24s %-20llu %8lld ms  %8zu  %5zu\n", n.node.name.c_str(),
                  static_cast<unsigned long long>(n.node.incarnation), left, n.stations, n.inbox);
    std::cout << line;
  }
  int status = 0;
  for (const auto& identity : args.identities) {
    auto [owner_done, owner_future] = promised<std::optional<cluster::Owner>>();
    adapter->owner(identity, owner_done);
    auto owner = wait_for(std::move(owner_future), "owner");
    if (!owner) {
      owners.push_back({{"identity", identity}, {"status", "not_connected"}});
      if (!args.json) std::cout << identity << ": not connected\n";
      status = 4;
      continue;
    }
    bool alive = false;
    for (const auto& n : nodes) alive = alive || n.node == owner->node;
    owners.push_back({{"identity", identity}, {"status", alive ? "connected" : "node_down"}, {"node", owner->node.name},
                      {"incarnation", owner->node.incarnation}, {"epoch", owner->epoch}});
    if (!args.json)
      std::cout << identity << ": " << owner->node.name << " (incarnation " << owner->node.incarnation << ", epoch "
                << owner->epoch << (alive ? ")" : ", node down)") << "\n";
    if (!alive) status = 6;
  }
  if (args.json) std::cout << boost::json::serialize(boost::json::object{{"nodes", node_list}, {"owners", owners}}) << "\n";
  pool.stop();
  pool.join();
  return status;
}

}  // namespace ocpp::app
