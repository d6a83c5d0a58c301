#include "ocpp/cluster/memory_adapter.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace ocpp::cluster {

std::int64_t system_wall_clock() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Sinks and completions run after the lock is released: they may call back into the adapter.
struct MemoryAdapter::Store {
  struct Entry {
    RoutedCall call;
    std::uint64_t seq = 0;
    std::optional<std::uint64_t> taken_by;  // the incarnation that took it
  };
  struct Node {
    std::uint64_t incarnation = 0;
    std::int64_t lease_expires = 0;
    std::optional<Sink> sink;  // while `incarnation` is joined
    std::unordered_set<std::string> channels;  // subscribed
    std::unordered_map<std::string, Entry> inbox;
    std::uint64_t next_seq = 0;
  };
  struct SavedState {
    std::string state;
    std::int64_t expires = 0;
  };
  using Later = std::vector<std::function<void()>>;

  WallClock clock;
  std::mutex mutex;  // guards what follows
  std::unordered_map<std::string, Node> nodes;
  std::unordered_map<std::string, Owner> presence;
  std::unordered_map<std::string, std::uint64_t> epochs;  // never reset, so epochs only grow
  std::unordered_set<std::string> in_flight;               // identity '\n' message id
  std::unordered_map<std::string, SavedState> states;
  AdapterMetrics counters;
  std::atomic<bool> unreachable{false};

  std::int64_t now() const { return clock ? clock() : system_wall_clock(); }
  bool alive(const NodeRef& ref, std::int64_t at) const {
    auto it = nodes.find(ref.name);
    return it != nodes.end() && it->second.incarnation == ref.incarnation && it->second.lease_expires > at;
  }
  static std::string key_of(const RoutedCall& call) { return call.identity + '\n' + call.message_id; }

  void deliver(Node& node, Entry& entry, Later& later, bool again = false) {
    entry.taken_by = node.incarnation;
    auto call = entry.call;
    call.again = again;
    later.push_back([sink = node.sink->call, call = std::move(call)] { sink(call); });
  }
  void reply_to(const NodeRef& caller, RoutedReply reply, Later& later) {
    auto it = nodes.find(caller.name);
    if (it == nodes.end() || it->second.incarnation != caller.incarnation || !it->second.sink) return;
    later.push_back([sink = it->second.sink->reply, reply = std::move(reply)] { sink(reply); });
  }
  // Takes a request out of its inbox and frees its idempotency key.
  void remove(Node& node, std::unordered_map<std::string, Entry>::iterator it) {
    if (!it->second.call.message_id.empty()) in_flight.erase(key_of(it->second.call));
    node.inbox.erase(it);
  }
  // Removes a request that will not be finished, answering its caller with `outcome`.
  void drop(Node& node, std::unordered_map<std::string, Entry>::iterator it, Outcome outcome, Later& later) {
    reply_to(it->second.call.caller, RoutedReply{it->second.call.id, outcome, {}, {}, {}}, later);
    remove(node, it);
  }
  // Every step is one command of the store.
  std::unique_lock<std::mutex> command() {
    std::unique_lock lock(mutex);
    ++counters.commands;
    ++counters.latency_count;
    return lock;
  }
};

namespace {
AdapterFailure unreachable_failure() { return AdapterFailure{"the store cannot be reached", false}; }

void run_all(std::vector<std::function<void()>>& later) {
  for (auto& f : later) f();
}
}  // namespace

MemoryAdapter::MemoryAdapter(WallClock clock) : store_(std::make_unique<Store>()) { store_->clock = std::move(clock); }
MemoryAdapter::~MemoryAdapter() = default;

void MemoryAdapter::join(const NodeRef& self, Sink sink) {
  Store::Later later;
  {
    auto lock = store_->command();
    auto& node = store_->nodes[self.name];
    node.incarnation = self.incarnation;
    node.sink = std::move(sink);
    std::vector<Store::Entry*> untaken;
    for (auto it = node.inbox.begin(); it != node.inbox.end();) {
      auto next = std::next(it);
      if (it->second.taken_by && *it->second.taken_by != self.incarnation)
        store_->drop(node, it, Outcome::unknown_outcome, later);
      else if (!it->second.taken_by)
        untaken.push_back(&it->second);
      it = next;
    }
    std::sort(untaken.begin(), untaken.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    for (auto* entry : untaken) store_->deliver(node, *entry, later);
  }
  run_all(later);
}

void MemoryAdapter::leave(const NodeRef& self, Done<Ok> done) {
  if (store_->unreachable) return done(unreachable_failure());
  Store::Later later;
  {
    auto lock = store_->command();
    auto it = store_->nodes.find(self.name);
    if (it != store_->nodes.end() && it->second.incarnation == self.incarnation) {
      auto& node = it->second;
      node.sink.reset();
      node.lease_expires = 0;
      for (auto e = node.inbox.begin(); e != node.inbox.end();) {
        auto next = std::next(e);
        if (!e->second.taken_by) store_->drop(node, e, Outcome::node_down, later);
        e = next;
      }
    }
  }
  run_all(later);
  done(Ok{});
}

void MemoryAdapter::renew_lease(const NodeRef& self, std::chrono::milliseconds ttl, Done<Lease> done) {
  if (store_->unreachable) return done(unreachable_failure());
  Lease lease;
  {
    auto lock = store_->command();
    const auto now = store_->now();
    auto& node = store_->nodes[self.name];
    const bool live = node.lease_expires > now;
    if (live && node.incarnation != self.incarnation) {
      lease = Lease::taken;
    } else {
      lease = live ? Lease::held : Lease::restored;
      if (node.incarnation != self.incarnation) node.sink.reset();  // a new run: join() again
      node.incarnation = self.incarnation;
      node.lease_expires = now + ttl.count();
    }
  }
  done(lease);
}

void MemoryAdapter::claim(const std::string& identity, const NodeRef& self, bool take_over, Done<Claimed> done) {
  if (store_->unreachable) return done(unreachable_failure());
  Claimed claimed;
  {
    auto lock = store_->command();
    auto it = store_->presence.find(identity);
    if (it != store_->presence.end() && store_->alive(it->second.node, store_->now())) claimed.previous = it->second;
    if (!take_over && claimed.previous && !(claimed.previous->node == self)) {
      claimed.refused = true;
    } else {
      claimed.epoch = ++store_->epochs[identity];
      store_->presence[identity] = Owner{self, claimed.epoch};
    }
  }
  done(std::move(claimed));
}

void MemoryAdapter::release(const std::string& identity, const Owner& claim, Done<bool> done) {
  if (store_->unreachable) return done(unreachable_failure());
  bool released = false;
  {
    auto lock = store_->command();
    auto it = store_->presence.find(identity);
    if (it != store_->presence.end() && it->second == claim) {
      store_->presence.erase(it);
      released = true;
    }
  }
  done(released);
}

void MemoryAdapter::evict(const Owner& owner, const std::string& identity) {
  if (store_->unreachable) return;  // lost, as a write to a store that is down
  std::function<void(std::string, std::uint64_t)> sink;
  {
    auto lock = store_->command();
    auto it = store_->nodes.find(owner.node.name);
    if (it == store_->nodes.end() || it->second.incarnation != owner.node.incarnation || !it->second.sink) return;
    sink = it->second.sink->evict;
  }
  sink(identity, owner.epoch);
}

void MemoryAdapter::lookup(std::vector<std::string> identities, Done<std::vector<std::optional<Owner>>> done) {
  if (store_->unreachable) return done(unreachable_failure());
  std::vector<std::optional<Owner>> owners(identities.size());
  {
    auto lock = store_->command();
    const auto now = store_->now();
    for (std::size_t i = 0; i < identities.size(); ++i) {
      auto it = store_->presence.find(identities[i]);
      if (it != store_->presence.end() && store_->alive(it->second.node, now)) owners[i] = it->second;
    }
  }
  done(std::move(owners));
}

void MemoryAdapter::enqueue(RoutedCall call, std::size_t max_inbox, Done<Enqueued> done) {
  if (store_->unreachable) return done(unreachable_failure());
  Enqueued result;
  Store::Later later;
  {
    auto lock = store_->command();
    auto owner = store_->presence.find(call.identity);
    if (owner == store_->presence.end()) {
      result.status = Routed::not_connected;
    } else if (result.owner = owner->second; !store_->alive(owner->second.node, store_->now())) {
      result.status = Routed::node_down;
    } else if (auto& node = store_->nodes[owner->second.node.name]; node.inbox.size() >= max_inbox) {
      result.status = Routed::overloaded;
    } else if (!call.message_id.empty() && !store_->in_flight.insert(Store::key_of(call)).second) {
      result.status = Routed::duplicate;
    } else {
      call.epoch = owner->second.epoch;
      auto id = call.id;
      auto& entry = node.inbox[id];
      entry = Store::Entry{std::move(call), node.next_seq++, std::nullopt};
      if (node.sink) store_->deliver(node, entry, later);
    }
  }
  run_all(later);
  done(std::move(result));
}

void MemoryAdapter::finish(const NodeRef& self, RoutedReply reply, const NodeRef& caller) {
  if (store_->unreachable) return;  // lost, as a write to a store that is down
  Store::Later later;
  {
    auto lock = store_->command();
    auto node = store_->nodes.find(self.name);
    if (node != store_->nodes.end()) {
      auto it = node->second.inbox.find(reply.id);
      if (it != node->second.inbox.end()) store_->remove(node->second, it);
    }
    store_->reply_to(caller, std::move(reply), later);
  }
  run_all(later);
}

void MemoryAdapter::settle(const NodeRef& target, std::vector<std::string> ids, Done<std::vector<Outcome>> done) {
  if (store_->unreachable) return done(unreachable_failure());
  std::vector<Outcome> outcomes;
  outcomes.reserve(ids.size());
  {
    auto lock = store_->command();
    auto node = store_->nodes.find(target.name);
    for (const auto& id : ids) {
      auto outcome = Outcome::unknown_outcome;  // finished or settled before: its reply may be on its way
      if (node != store_->nodes.end()) {
        auto it = node->second.inbox.find(id);
        if (it != node->second.inbox.end()) {
          if (!it->second.taken_by) outcome = Outcome::node_down;
          store_->remove(node->second, it);
        }
      }
      outcomes.push_back(outcome);
    }
  }
  done(std::move(outcomes));
}

void MemoryAdapter::nodes(Done<std::vector<NodeInfo>> done) {
  if (store_->unreachable) return done(unreachable_failure());
  std::vector<NodeInfo> out;
  {
    auto lock = store_->command();
    const auto now = store_->now();
    for (const auto& [name, node] : store_->nodes) {
      if (node.lease_expires <= now) continue;
      NodeInfo info{NodeRef{name, node.incarnation}, node.lease_expires, 0, node.inbox.size()};
      for (const auto& [identity, owner] : store_->presence)
        if (owner.node == info.node) ++info.stations;
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.node.name < b.node.name; });
  done(std::move(out));
}

void MemoryAdapter::publish(std::string channel, std::string message) {
  publish_batch({{std::move(channel), std::move(message)}});
}

void MemoryAdapter::publish_batch(std::vector<std::pair<std::string, std::string>> messages) {
  if (store_->unreachable) return;  // lost, as a write to a store that is down
  std::vector<std::function<void()>> later;
  {
    auto lock = store_->command();
    for (auto& [channel, message] : messages)
      for (const auto& [name, node] : store_->nodes)
        if (node.sink && node.channels.contains(channel))
          later.push_back([sink = node.sink->message, channel = channel, message = message] { sink(channel, message); });
  }
  run_all(later);
}

void MemoryAdapter::subscribe(const NodeRef& self, const std::string& channel) {
  auto lock = store_->command();
  store_->nodes[self.name].channels.insert(channel);
}

void MemoryAdapter::unsubscribe(const NodeRef& self, const std::string& channel) {
  auto lock = store_->command();
  store_->nodes[self.name].channels.erase(channel);
}

void MemoryAdapter::disconnect() {
  std::lock_guard lock(store_->mutex);
  for (auto& [name, node] : store_->nodes) node.sink.reset();
}

void MemoryAdapter::save_state(const std::string& identity, std::string state, std::chrono::milliseconds ttl) {
  if (store_->unreachable) return;  // lost, as a write to a store that is down
  auto lock = store_->command();
  store_->states[identity] = Store::SavedState{std::move(state), store_->now() + ttl.count()};
}

void MemoryAdapter::load_state(const std::string& identity, Done<std::optional<std::string>> done) {
  if (store_->unreachable) return done(unreachable_failure());
  std::optional<std::string> state;
  {
    auto lock = store_->command();
    auto it = store_->states.find(identity);
    if (it != store_->states.end()) {
      if (it->second.expires > store_->now())
        state = it->second.state;
      else
        store_->states.erase(it);
    }
  }
  done(std::move(state));
}

AdapterMetrics MemoryAdapter::metrics() const {
  std::lock_guard lock(store_->mutex);
  return store_->counters;
}

void MemoryAdapter::crash(const NodeRef& node) {
  std::lock_guard lock(store_->mutex);
  auto it = store_->nodes.find(node.name);
  if (it != store_->nodes.end() && it->second.incarnation == node.incarnation) it->second.sink.reset();
}

void MemoryAdapter::set_unreachable(bool unreachable) { store_->unreachable = unreachable; }

void MemoryAdapter::redeliver(const NodeRef& node, bool again) {
  Store::Later later;
  {
    std::lock_guard lock(store_->mutex);
    auto it = store_->nodes.find(node.name);
    if (it == store_->nodes.end() || it->second.incarnation != node.incarnation || !it->second.sink) return;
    for (auto& [id, entry] : it->second.inbox)
      if (entry.taken_by == node.incarnation) store_->deliver(it->second, entry, later, again);
  }
  run_all(later);
}

void MemoryAdapter::lose_data() {
  std::lock_guard lock(store_->mutex);
  for (auto& [name, node] : store_->nodes) {
    node.lease_expires = 0;
    node.inbox.clear();
  }
  store_->presence.clear();
  store_->epochs.clear();
  store_->in_flight.clear();
  store_->states.clear();
}

}  // namespace ocpp::cluster
