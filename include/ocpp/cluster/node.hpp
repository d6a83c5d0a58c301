#pragma once
/// @file
/// One server's membership of the cluster: its lease and self-fencing, the claims of the stations
/// connected to it, the calls it routes to other nodes and the ones routed to it. The rules are
/// here once; the adapter (in memory, Redis) only stores and carries.
#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ocpp/cluster/adapter.hpp"
#include "ocpp/engine/clock.hpp"
#include "ocpp/log/logger.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::cluster {

/// What makes a Server a node of a cluster (ServerOptions::cluster).
struct ClusterOptions {
  /// Null: not clustered.
  std::shared_ptr<Adapter> adapter;
  /// The node's stable name: a restarted node takes over what was queued for its name. Empty: a
  /// random one (nothing is taken over).
  std::string node_id;
  /// The node holds a lease this long and renews it every third of it. A node that has not renewed
  /// it within the TTL fences itself: it stops routing and closes its stations (1012), so that a
  /// paused or partitioned node never acts on a claim another node may have taken.
  std::chrono::milliseconds lease_ttl{5000};
  /// Requests queued for a node and not yet finished, at most; beyond it calls fail `overloaded`.
  std::size_t max_inbox = 10000;
  /// Wall-clock time for deadlines, which cross processes (default: the system clock).
  WallClock wall_clock;
  /// Steady time for the lease's validity (default: steady_clock).
  Clock clock;
  /// A station's state (StationState::data) is saved in the cluster when it leaves a node, for
  /// station_ttl, and a node it connects to next starts from it (the chain's state merged over it).
  bool station_state = true;
};

/// A cluster node's counters (Server metrics).
struct ClusterMetrics {
  std::uint64_t routed[kOutcomes] = {};  ///< by Outcome, of calls this node routed
  std::uint64_t delivered = 0;    ///< requests routed to this node and sent to a station
  std::uint64_t renewals = 0;  ///< lease renewals
  std::uint64_t renewal_failures = 0;  ///< lease renewals that failed
  std::uint64_t fencings = 0;  ///< times the node fenced itself
  std::uint64_t pending = 0;  ///< calls routed by this node and not yet ended
  std::uint64_t nodes = 0;    ///< live nodes, and this node's inbox (requests not yet finished), as
  std::uint64_t inbox = 0;    ///< of the last renewal period
  bool fenced = false;  ///< whether the node is fenced now
  AdapterMetrics store;  ///< the adapter's commands, failures and round-trip time
};

/// One server's part in a cluster: lease, claims, routed calls and channels over an Adapter; used by the Server.
class ClusterNode : public std::enable_shared_from_this<ClusterNode> {
 public:
  /// What the node asks of its server.
  struct Events {
    /// Runs a routed call on the station connected here; `reply` once, from any thread.
    std::function<void(RoutedCall call, std::function<void(RoutedReply)> reply)> deliver;
    /// Another node claimed `identity`: close its socket here (4000).
    std::function<void(const std::string& identity)> evict;
    /// The lease could not be kept: close every station (1012).
    std::function<void()> fenced;
    /// A message published to the cluster.
    std::function<void(const std::string& channel, const std::string& message)> message;
  };

  /// Runs on `executor`. Throws std::invalid_argument without an adapter.
  ClusterNode(boost::asio::any_io_executor executor, ClusterOptions options, Events events,
              std::shared_ptr<Logger> logger);
  ~ClusterNode();

  /// Takes the lease and joins; renews it from then on.
  void start();
  /// Leaves once the calls this node routed have ended (new ones end unavailable); what is still
  /// queued for this node is then answered node_down. Then `done`. start() may follow.
  void stop(std::function<void()> done);

  /// The station of `generation` connected here / left. A release only ever undoes its own claim.
  void claim(std::string identity, std::uint64_t generation);
  /// Undoes the claim of `generation`; a newer claim stays.
  void release(std::string identity, std::uint64_t generation);

  /// A CALL to a station on any node; `done` runs once on this node's executor, by the deadline.
  struct Request {
    std::string identity;  ///< the station to call
    std::string protocol;  ///< empty: any
    std::string action;  ///< the OCPP action
    std::string payload;     ///< JSON text
    std::string message_id;  ///< the idempotency key, or empty
    std::chrono::milliseconds timeout{30000};  ///< the call's deadline, from now
  };
  /// Routes `request` to the node holding its station (this one included).
  void route(Request request, std::function<void(RoutedReply)> done);
  /// Publishes `message` on `channel` to every subscribed node, at most once.
  void publish(std::string channel, std::string message);
  /// Messages published to `channel` by any node (this one included) reach Events::message.
  void subscribe(std::string channel);
  /// Stops receiving `channel`.
  void unsubscribe(std::string channel);

  /// Whether the node has fenced itself (lost its lease).
  bool fenced() const noexcept { return fenced_.load(std::memory_order_relaxed); }
  /// This node run's name and incarnation.
  const NodeRef& self() const noexcept { return self_; }
  /// The adapter the node runs on.
  const std::shared_ptr<Adapter>& adapter() const noexcept { return options_.adapter; }
  /// Wall-clock time, as deadlines are written.
  std::int64_t now_ms() const { return options_.wall_clock(); }
  /// A snapshot of the node's counters.
  ClusterMetrics metrics() const;

 private:
  struct State;
  void tick();
  void renewed(Result<Adapter::Lease> lease, std::chrono::steady_clock::time_point sent);
  void fence(std::string why);
  void rejoin();
  void send_claim(const std::string& identity, std::uint64_t generation, bool take_over);
  void on_call(RoutedCall call);
  void on_reply(RoutedReply reply);
  void on_evict(const std::string& identity, std::uint64_t epoch);
  void enqueue(RoutedCall call);
  void enqueue_or_wait(RoutedCall call);
  bool ask_again(RoutedCall call);
  void leave();
  void complete(const std::string& id, RoutedReply reply);
  bool lease_valid() const;
  void survey();
  /// Wraps an adapter completion so that it runs on this node's executor, if the node still exists.
  template <class T>
  Done<T> here(std::function<void(ClusterNode&, Result<T>)> f);

  boost::asio::any_io_executor executor_;
  ClusterOptions options_;
  Events events_;
  std::shared_ptr<Logger> logger_;
  NodeRef self_;
  std::atomic<bool> fenced_{false};
  std::unique_ptr<State> state_;  ///< on executor_ only
};

}  // namespace ocpp::cluster
OCPP_API_END
