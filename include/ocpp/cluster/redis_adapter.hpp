#pragma once
/// @file
/// The cluster's store on Redis (7.0, RESP2): leases, presence, per-node inbox streams read through
/// a consumer group, reply streams and pub/sub. One adapter per process; several processes (nodes)
/// share one Redis, a Sentinel-managed master or a Redis Cluster.
///
/// Keys (all under `prefix`), with hash tags so that each script touches one slot: a node's
/// `lease:{node}` (its incarnation, with the lease's TTL), `inbox:{node}` (stream; group "nodes", a
/// consumer per incarnation), `reply:{node}:<incarnation>` (stream), `count:{node}` (its stations),
/// `idem:{node}:<identity>:<message id>`; a station's `owner:{identity}` (hash n, i, e; the epoch e
/// outlives a release, so it only grows) and `state:{identity}`; `nodes` (a set of names); channels
/// `ch:<name>`. A prefix with a hash tag of its own puts every key in one slot.
///
/// On a Redis Cluster, what spans a station and its node takes steps: routing a call reads the
/// owner, then queues in the owner's inbox (one round trip more than one script would); a claim
/// reads the owner and its lease, then writes if the owner is still the one read; an answer is
/// written to the caller's reply stream before the request leaves the inbox. The same steps run on
/// one server, so both are one code path.
#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

#include "ocpp/cluster/adapter.hpp"
#include "ocpp/redis/connection.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::cluster {

/// How a RedisAdapter reaches Redis and names its keys.
struct RedisAdapterOptions {
  /// URL (redis://, rediss://, redis-sentinel://, redis-cluster://...), timeouts, reconnect backoff,
  /// TLS; used for each connection.
  redis::ConnectionOptions connection{};
  std::string prefix = "ocpp:";  ///< the prefix of every key and channel
  /// How long one blocking read of the inbox or the replies waits before it is issued again.
  std::chrono::milliseconds block{1000};
  /// Entries taken from a stream per read.
  std::size_t batch = 256;
};

/// An Adapter on Redis (standalone, TLS, Sentinel or Cluster): nodes in several processes share it.
class RedisAdapter final : public Adapter {
 public:
  /// Connects in the background (and reconnects with backoff). Throws redis::UrlError for a bad
  /// URL, TlsError for unreadable TLS files.
  RedisAdapter(boost::asio::any_io_executor executor, RedisAdapterOptions options);
  ~RedisAdapter() override;

  void join(const NodeRef& self, Sink sink) override;
  void leave(const NodeRef& self, Done<Ok> done) override;
  void renew_lease(const NodeRef& self, std::chrono::milliseconds ttl, Done<Lease> done) override;
  void claim(const std::string& identity, const NodeRef& self, bool take_over, Done<Claimed> done) override;
  void release(const std::string& identity, const Owner& claim, Done<bool> done) override;
  void evict(const Owner& owner, const std::string& identity) override;
  void lookup(std::vector<std::string> identities, Done<std::vector<std::optional<Owner>>> done) override;
  void enqueue(RoutedCall call, std::size_t max_inbox, Done<Enqueued> done) override;
  void finish(const NodeRef& self, RoutedReply reply, const NodeRef& caller) override;
  void settle(const NodeRef& target, std::vector<std::string> ids, Done<std::vector<Outcome>> done) override;
  void nodes(Done<std::vector<NodeInfo>> done) override;
  void publish(std::string channel, std::string message) override;
  void publish_batch(std::vector<std::pair<std::string, std::string>> messages) override;
  void subscribe(const NodeRef& self, const std::string& channel) override;
  void unsubscribe(const NodeRef& self, const std::string& channel) override;
  void disconnect() override;
  void save_state(const std::string& identity, std::string state, std::chrono::milliseconds ttl) override;
  void load_state(const std::string& identity, Done<std::optional<std::string>> done) override;
  AdapterMetrics metrics() const override;

  /// Which node holds `identity` (alive or not), for tools: empty when none.
  void owner(const std::string& identity, Done<std::optional<Owner>> done);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace ocpp::cluster
OCPP_API_END
