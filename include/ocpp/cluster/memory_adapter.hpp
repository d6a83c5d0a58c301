#pragma once
/// @file
/// The embedded adapter: the cluster's store in this process's memory. Several servers sharing one
/// instance behave as nodes of one cluster (the default for a single binary, and the unit tests'
/// stand-in for Redis). Thread-safe; completions run on the calling thread.
#include <memory>

#include "ocpp/cluster/adapter.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::cluster {

/// An Adapter in process memory: nodes of one process share it (tests, single-process clusters); with hooks that simulate store failures.
class MemoryAdapter final : public Adapter {
 public:
  /// `clock` decides when leases and saved states expire (default: the system clock).
  explicit MemoryAdapter(WallClock clock = {});
  ~MemoryAdapter() override;

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

  /// Forgets everything, as a store restarted without persistence does (tests).
  void lose_data();
  /// Stops delivering to `node` without answering anything, as when its process is killed: its
  /// lease runs out by itself and what is queued for it stays untaken (tests).
  void crash(const NodeRef& node);
  /// While set, every step that answers fails (AdapterFailure), as when the store cannot be reached;
  /// deliveries already made stand (tests).
  void set_unreachable(bool unreachable);
  /// Delivers again to `node` what it has taken and not finished, as a store that failed over to a
  /// replica that missed the record of those takes does, or, with `again`, as a rejoin after a
  /// failover that lost their answers does (tests).
  void redeliver(const NodeRef& node, bool again = false);

 private:
  struct Store;
  std::unique_ptr<Store> store_;
};

}  // namespace ocpp::cluster
OCPP_API_END
