#pragma once
/// @file
/// What the cluster stores and carries, behind one interface: the in-memory adapter serves several
/// servers in one process (the embedded default, and the tests); the Redis adapter serves several
/// processes. The rules (leases and fencing, deadlines, outcomes) live once in ClusterNode; an
/// adapter offers the atomic steps they are built from, so both adapters behave alike.
///
/// Completions may run on any thread of the adapter's; ClusterNode moves them onto its executor.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ocpp/cluster/outcome.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::cluster {

/// Deadlines cross processes, so they are wall-clock time (ms since the Unix epoch); the nodes'
/// clocks are assumed synchronised (NTP) to well within a call timeout.
using WallClock = std::function<std::int64_t()>;
/// The system clock's wall-clock time, in ms since the Unix epoch.
std::int64_t system_wall_clock() noexcept;

/// One run of a node: the stable name it is configured with and the incarnation of this start.
struct NodeRef {
  std::string name;  ///< the node's configured name, stable across restarts
  std::uint64_t incarnation = 0;  ///< distinguishes this start of the node from earlier ones
  /// Same name and incarnation.
  friend bool operator==(const NodeRef&, const NodeRef&) = default;
};

/// Who holds a station: the node run and the claim's epoch. Epochs only grow per identity, so a
/// late release of an older claim never deletes a newer one.
struct Owner {
  NodeRef node;  ///< the node run holding the claim
  std::uint64_t epoch = 0;  ///< the claim's epoch
  /// Same node run and epoch.
  friend bool operator==(const Owner&, const Owner&) = default;
};

/// A CALL routed to the node that holds `identity`.
struct RoutedCall {
  std::string id;  ///< correlation id, unique in the cluster
  NodeRef caller;  ///< where the reply goes
  std::string identity;  ///< the station to call
  std::string protocol;  ///< empty: whatever the station speaks
  std::string action;  ///< the OCPP action
  std::string payload;     ///< JSON text
  std::string message_id;  ///< the OCPP message id to use (the idempotency key), or empty
  std::int64_t deadline_ms = 0;  ///< never sent to the station at or after this wall-clock time
  std::uint64_t epoch = 0;       ///< the claim it was routed to
  /// Delivered again from the node's own unfinished requests when it joins again (the store failed
  /// over and may have lost its answer): the node answers what it remembers, and runs nothing.
  bool again = false;
};

/// The answer to a RoutedCall, sent back to the node that routed it.
struct RoutedReply {
  std::string id;  ///< the RoutedCall's correlation id
  Outcome outcome = Outcome::result;  ///< how the call ended
  std::string payload;  ///< result: the CALLRESULT payload; call_error: the details object (JSON text)
  std::string error_code;  ///< call_error: as the station spelled it
  std::string description;  ///< call_error: the station's description
};

/// A failed adapter step: the store could not be reached, or answered with an error.
struct AdapterFailure {
  std::string message;  ///< what went wrong
  bool maybe_applied = false;  ///< sent, but no answer came: it may have taken effect
};

/// The value of an adapter step, or why it failed.
template <class T>
using Result = std::variant<T, AdapterFailure>;
/// Completion of an adapter step; may run on any thread.
template <class T>
using Done = std::function<void(Result<T>)>;
/// The value of an adapter step that has nothing to return.
struct Ok {};

/// A node whose lease is alive (Adapter::nodes).
struct NodeInfo {
  NodeRef node;  ///< the node run
  std::int64_t lease_expires_ms = 0;  ///< wall clock
  std::size_t stations = 0;  ///< stations it holds
  std::size_t inbox = 0;  ///< requests queued and not yet taken by the node
};

/// Counters of an adapter's commands to its store.
struct AdapterMetrics {
  std::uint64_t commands = 0;  ///< commands sent
  std::uint64_t failures = 0;  ///< commands that failed
  std::uint64_t latency_us_sum = 0;  ///< of the adapter's round trips
  std::uint64_t latency_count = 0;  ///< round trips in latency_us_sum
};

/// The store the nodes of a cluster share (leases, claims, inboxes, channels, state); Redis or in memory. Completions may run on any thread.
class Adapter {
 public:
  virtual ~Adapter() = default;

  /// What the adapter delivers to a joined node, from any thread.
  struct Sink {
    std::function<void(RoutedCall)> call;  ///< a request from the node's inbox
    std::function<void(RoutedReply)> reply;  ///< the answer to a call this node routed
    std::function<void(std::string identity, std::uint64_t epoch)> evict;  ///< another node claimed it
    std::function<void(std::string channel, std::string message)> message;  ///< publish()
    /// The store failed over: its new master may lack the latest claims, so the node renews at
    /// once (the renewal reports the lease restored) rather than at its next period.
    std::function<void()> failed_over;
  };
  /// Starts delivering to `self`. Requests a previous incarnation of the same name took and did
  /// not finish are answered unknown_outcome (they may have run); the ones it never took are
  /// delivered to this one.
  virtual void join(const NodeRef& self, Sink sink) = 0;
  /// Stops delivering; what is still queued for `self` is answered node_down (never delivered).
  virtual void leave(const NodeRef& self, Done<Ok> done) = 0;

  /// What renew_lease() found.
  enum class Lease {
    held,  ///< ours, renewed
    /// It was gone (expired, or the store lost its data) and is ours again; or the store failed
    /// over and may have lost the latest claims.
    restored,
    taken,  ///< another incarnation of the same name holds it
  };
  /// Renews (or takes back) `self`'s lease for `ttl`.
  virtual void renew_lease(const NodeRef& self, std::chrono::milliseconds ttl, Done<Lease> done) = 0;

  /// What claim() did.
  struct Claimed {
    std::uint64_t epoch = 0;        ///< the new claim's epoch; 0 when refused
    std::optional<Owner> previous;  ///< the owner it was taken from (or that kept it), if its lease was alive
    bool refused = false;           ///< take_over was false and another node's live claim holds it
  };
  /// Makes `self` the owner of `identity` with a new epoch. take_over: a new connection takes the
  /// station from whoever held it. Without: `self` claims again what it held before its lease or
  /// the store came back, and leaves a station another node claimed meanwhile to that node.
  virtual void claim(const std::string& identity, const NodeRef& self, bool take_over, Done<Claimed> done) = 0;
  /// Deletes the claim only if it is still `claim` (node run and epoch); false if another replaced it.
  virtual void release(const std::string& identity, const Owner& claim, Done<bool> done) = 0;
  /// Tells `owner` that its claim was taken (Sink::evict).
  virtual void evict(const Owner& owner, const std::string& identity) = 0;
  /// Current owners whose lease is alive (batch presence).
  virtual void lookup(std::vector<std::string> identities, Done<std::vector<std::optional<Owner>>> done) = 0;

  /// What enqueue() did with a request.
  enum class Routed { enqueued, not_connected, node_down, overloaded, duplicate };
  /// What enqueue() completes with.
  struct Enqueued {
    Routed status = Routed::enqueued;  ///< whether it was queued, or why not
    Owner owner;  ///< enqueued: where it went
    /// not_connected from a store that failed over within a lease period: its new master may have
    /// lost the claim, which the owner makes again at the renewal the failover brings. Worth asking again.
    bool claims_in_doubt = false;
  };
  /// One step: finds the owner, checks its lease, the inbox bound and the idempotency key (the
  /// message id, when given), and queues the request in the owner's inbox. `call.epoch` is set.
  virtual void enqueue(RoutedCall call, std::size_t max_inbox, Done<Enqueued> done) = 0;
  /// `self` is done with a request it took: removes it from the inbox, frees its idempotency key
  /// and sends `reply` to the caller.
  virtual void finish(const NodeRef& self, RoutedReply reply, const NodeRef& caller) = 0;
  /// Requests routed to `target`, a node run whose lease ended: the ones it never took are removed
  /// and answered node_down, the ones it took unknown_outcome. One outcome per id, in order.
  virtual void settle(const NodeRef& target, std::vector<std::string> ids, Done<std::vector<Outcome>> done) = 0;

  /// The nodes whose lease is alive.
  virtual void nodes(Done<std::vector<NodeInfo>> done) = 0;

  /// Fire-and-forget, at most once, to every joined node subscribed to `channel` (Sink::message).
  virtual void publish(std::string channel, std::string message) = 0;
  /// publish() of several messages (channel, message) in one round trip.
  virtual void publish_batch(std::vector<std::pair<std::string, std::string>> messages) = 0;
  /// `self` receives the messages of `channel` through Sink::message.
  virtual void subscribe(const NodeRef& self, const std::string& channel) = 0;
  /// `self` stops receiving the messages of `channel`.
  virtual void unsubscribe(const NodeRef& self, const std::string& channel) = 0;
  /// Ends every delivery and closes the store's connections; the adapter is of no further use.
  virtual void disconnect() = 0;

  /// A station's state (the session() data, as JSON text), kept for `ttl` after it is saved so it
  /// follows a station to another node.
  virtual void save_state(const std::string& identity, std::string state, std::chrono::milliseconds ttl) = 0;
  /// The state saved for `identity`, or nothing when none is kept.
  virtual void load_state(const std::string& identity, Done<std::optional<std::string>> done) = 0;

  /// The adapter's counters so far.
  virtual AdapterMetrics metrics() const = 0;
};

}  // namespace ocpp::cluster
OCPP_API_END
