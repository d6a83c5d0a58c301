#include "ocpp/cluster/node.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <random>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace ocpp::cluster {
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string_view to_string(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::result: return "result";
    case Outcome::call_error: return "call_error";
    case Outcome::not_connected: return "not_connected";
    case Outcome::node_down: return "node_down";
    case Outcome::expired: return "expired";
    case Outcome::overloaded: return "overloaded";
    case Outcome::unknown_outcome: return "unknown_outcome";
    case Outcome::timeout: return "timeout";
    case Outcome::duplicate: return "duplicate";
    case Outcome::rejected: return "rejected";
    case Outcome::unavailable: return "unavailable";
  }
  return "unknown_outcome";
}

namespace {
std::uint64_t random_u64() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}
std::string random_name() {
  static constexpr char hex[] = "0123456789abcdef";
  auto v = random_u64();
  std::string name = "node-";
  for (int i = 0; i < 12; ++i, v >>= 4) name += hex[v & 15];
  return name;
}
RoutedReply reply_of(std::string id, Outcome outcome) { return RoutedReply{std::move(id), outcome, {}, {}, {}}; }
}  // namespace

struct ClusterNode::State {
  explicit State(const asio::any_io_executor& ex) : renew_timer(ex) {}
  struct Claim {
    std::uint64_t generation = 0;
    std::optional<std::uint64_t> epoch;  // once the store has answered
  };
  struct Pending {
    std::function<void(RoutedReply)> done;
    std::optional<NodeRef> target;  // once enqueued
    bool sent = false;              // handed to the store (maybe enqueued, if no answer came)
    bool unclaimed = false;         // found unclaimed after a failover: to be asked again
    std::unique_ptr<asio::steady_timer> deadline, again;
  };
  asio::steady_timer renew_timer;
  bool running = false;
  bool joined = false;
  bool taken = false;  // another process runs under our name: fenced for good
  bool surveying = false;
  steady_clock::time_point last_renewed{};  // when the last successful renewal was sent
  std::unordered_map<std::string, Claim> claims;
  std::unordered_map<std::string, Pending> pending;
  std::vector<RoutedCall> waiting;  // routed before the node first joined
  std::function<void()> stopped;    // stop() was called: leave once nothing is pending
  std::set<std::string> channels;   // subscribed, made again on every join
  std::uint64_t next_id = 0;
  // The latest requests this node took, with the outcome it answered once it has. A store that
  // fails over may lose the record of a take, or of an answer, and deliver the request again.
  static constexpr std::size_t kRemembered = 10000;
  std::unordered_map<std::string, std::optional<Outcome>> took;
  std::deque<std::string> took_order;

  std::atomic<std::uint64_t> routed[kOutcomes] = {};
  std::atomic<std::uint64_t> delivered{0}, renewals{0}, renewal_failures{0}, fencings{0}, pending_count{0};
  std::atomic<std::uint64_t> nodes{0}, inbox{0};  // as of the last survey
};

ClusterNode::ClusterNode(asio::any_io_executor executor, ClusterOptions options, Events events,
                         std::shared_ptr<Logger> logger)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      events_(std::move(events)),
      logger_(std::move(logger)),
      state_(std::make_unique<State>(executor_)) {
  if (!options_.adapter) throw std::invalid_argument("ClusterNode needs an adapter");
  if (options_.lease_ttl < milliseconds(30)) throw std::invalid_argument("lease_ttl must be at least 30 ms");
  if (!options_.wall_clock) options_.wall_clock = system_wall_clock;
  options_.clock = or_steady(std::move(options_.clock));
  self_ = NodeRef{options_.node_id.empty() ? random_name() : options_.node_id, random_u64() | 1};
}

ClusterNode::~ClusterNode() = default;

template <class T>
Done<T> ClusterNode::here(std::function<void(ClusterNode&, Result<T>)> f) {
  return [weak = weak_from_this(), ex = executor_, f = std::move(f)](Result<T> r) mutable {
    asio::post(ex, [weak, f = std::move(f), r = std::move(r)]() mutable {
      if (auto self = weak.lock()) f(*self, std::move(r));
    });
  };
}

void ClusterNode::start() {
  asio::post(executor_, [self = shared_from_this()] {
    if (self->state_->running || self->state_->stopped) return;
    self->state_->running = true;
    self->tick();
  });
}

bool ClusterNode::lease_valid() const {
  return !fenced() && state_->joined && options_.clock() - state_->last_renewed < options_.lease_ttl;
}

void ClusterNode::tick() {
  auto& s = *state_;
  if (!s.running) return;
  if (s.joined && !fenced() && !lease_valid()) fence("lease not renewed within " + std::to_string(options_.lease_ttl.count()) + " ms");
  const auto sent = options_.clock();
  options_.adapter->renew_lease(self_, options_.lease_ttl, here<Adapter::Lease>([sent](ClusterNode& n, auto r) {
                                  n.renewed(std::move(r), sent);
                                }));
  survey();
  s.renew_timer.expires_after(options_.lease_ttl / 3);
  s.renew_timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->tick();
  });
}

void ClusterNode::renewed(Result<Adapter::Lease> lease, steady_clock::time_point sent) {
  auto& s = *state_;
  if (!s.running) return;
  if (auto* failure = std::get_if<AdapterFailure>(&lease)) {
    ++s.renewal_failures;
    logger_->log(LogLevel::warn, "cluster", {}, "lease renewal failed: " + failure->message);
    if (s.joined && !fenced() && !lease_valid()) fence("lease not renewed: " + failure->message);
    return;
  }
  switch (std::get<Adapter::Lease>(lease)) {
    case Adapter::Lease::taken:
      if (!s.taken) {
        s.taken = true;
        fence("another process holds the lease of node " + self_.name);
      }
      return;
    case Adapter::Lease::held:
      ++s.renewals;
      if (s.taken) return;
      s.last_renewed = sent;
      if (!s.joined || fenced()) rejoin();  // fenced by a clock that ran out while the lease lived
      return;
    case Adapter::Lease::restored:
      ++s.renewals;
      if (s.taken) return;
      s.last_renewed = sent;
      rejoin();
      return;
  }
}

// The lease is ours again (first start, after fencing, or after the store lost its data): join,
// and claim again every station still connected here.
void ClusterNode::rejoin() {
  auto& s = *state_;
  if (s.joined) logger_->log(LogLevel::warn, "cluster", {}, "lease restored: claiming the stations again");
  Adapter::Sink sink;
  auto weak = weak_from_this();
  auto post_to = [weak, ex = executor_](auto f) {
    asio::post(ex, [weak, f = std::move(f)]() mutable {
      if (auto self = weak.lock()) f(*self);
    });
  };
  sink.call = [post_to](RoutedCall call) { post_to([c = std::move(call)](ClusterNode& n) mutable { n.on_call(std::move(c)); }); };
  sink.reply = [post_to](RoutedReply reply) { post_to([r = std::move(reply)](ClusterNode& n) mutable { n.on_reply(std::move(r)); }); };
  sink.evict = [post_to](std::string identity, std::uint64_t epoch) {
    post_to([i = std::move(identity), epoch](ClusterNode& n) { n.on_evict(i, epoch); });
  };
  sink.message = [post_to](std::string channel, std::string message) {
    post_to([c = std::move(channel), m = std::move(message)](ClusterNode& n) {
      if (n.events_.message) n.events_.message(c, m);
    });
  };
  sink.failed_over = [post_to] { post_to([](ClusterNode& n) { n.tick(); }); };  // replaces the pending timer
  options_.adapter->join(self_, std::move(sink));
  for (const auto& channel : s.channels) options_.adapter->subscribe(self_, channel);
  s.joined = true;
  fenced_.store(false, std::memory_order_relaxed);
  // A station whose claim the store had acknowledged is claimed again only if no other node took it
  // meanwhile; one that connected while the lease was gone is the newest connection and takes it.
  for (auto& [identity, claim] : s.claims) {
    const bool held = std::exchange(claim.epoch, std::nullopt).has_value();
    send_claim(identity, claim.generation, !held);
  }
  auto waiting = std::move(s.waiting);
  for (auto& call : waiting)
    if (s.pending.contains(call.id)) enqueue(std::move(call));
}

void ClusterNode::fence(std::string why) {
  auto& s = *state_;
  ++s.fencings;
  fenced_.store(true, std::memory_order_relaxed);
  logger_->log(LogLevel::error, "cluster", {}, "fenced: " + why + "; closing this node's stations");
  // What this node routed may have run or not; it can no longer learn which.
  std::vector<std::string> ids;
  for (auto& [id, p] : s.pending) ids.push_back(id);
  for (auto& id : ids) complete(id, reply_of(id, Outcome::unknown_outcome));
  if (events_.fenced) events_.fenced();
}

// The calls this node routed end first (each by its deadline at the latest), so that none is left
// unknown; the lease is kept, and requests for this node are still answered, until then.
void ClusterNode::stop(std::function<void()> done) {
  asio::post(executor_, [self = shared_from_this(), done = std::move(done)]() mutable {
    auto& s = *self->state_;
    s.stopped = std::move(done);
    if (s.pending.empty()) self->leave();
  });
}

void ClusterNode::leave() {
  auto& s = *state_;
  auto done = std::move(s.stopped);
  s.stopped = nullptr;
  s.running = false;
  s.renew_timer.cancel();
  auto waiting = std::move(s.waiting);
  for (auto& call : waiting) complete(call.id, reply_of(call.id, Outcome::unavailable));
  if (!s.joined) return done();
  s.joined = false;
  options_.adapter->leave(self_, [done = std::move(done)](Result<Ok>) { done(); });
}

void ClusterNode::claim(std::string identity, std::uint64_t generation) {
  asio::post(executor_, [self = shared_from_this(), identity = std::move(identity), generation]() {
    self->state_->claims[identity] = State::Claim{generation, std::nullopt};
    if (self->lease_valid()) self->send_claim(identity, generation, true);
  });
}

void ClusterNode::send_claim(const std::string& identity, std::uint64_t generation, bool take_over) {
  options_.adapter->claim(identity, self_, take_over,
                          here<Adapter::Claimed>([identity, generation](ClusterNode& n, Result<Adapter::Claimed> r) {
                            auto* claimed = std::get_if<Adapter::Claimed>(&r);
                            if (!claimed) {
                              n.logger_->log(LogLevel::warn, "cluster", identity,
                                             "claim failed: " + std::get<AdapterFailure>(r).message);
                              return;
                            }
                            auto it = n.state_->claims.find(identity);
                            if (it == n.state_->claims.end()) {  // the station left meanwhile
                              n.options_.adapter->release(identity, Owner{n.self_, claimed->epoch}, [](Result<bool>) {});
                              return;
                            }
                            if (it->second.generation != generation) return;  // a newer connection claims too
                            if (claimed->refused) {  // another node holds it: this connection is the stale one
                              n.logger_->log(LogLevel::warn, "cluster", identity,
                                             "claimed by node " + claimed->previous->node.name +
                                                 " while this node's lease was gone: closing it here");
                              n.state_->claims.erase(it);
                              if (n.events_.evict) n.events_.evict(identity);
                              return;
                            }
                            it->second.epoch = claimed->epoch;
                            if (claimed->previous && claimed->previous->node != n.self_)
                              n.options_.adapter->evict(*claimed->previous, identity);
                          }));
}

void ClusterNode::release(std::string identity, std::uint64_t generation) {
  asio::post(executor_, [self = shared_from_this(), identity = std::move(identity), generation]() {
    auto& claims = self->state_->claims;
    auto it = claims.find(identity);
    if (it == claims.end() || it->second.generation != generation) return;
    if (it->second.epoch)
      self->options_.adapter->release(identity, Owner{self->self_, *it->second.epoch}, [](Result<bool>) {});
    claims.erase(it);
  });
}

void ClusterNode::on_evict(const std::string& identity, std::uint64_t epoch) {
  auto it = state_->claims.find(identity);
  if (it == state_->claims.end() || it->second.epoch != epoch) return;  // already gone or reclaimed since
  state_->claims.erase(it);
  if (events_.evict) events_.evict(identity);
}

void ClusterNode::route(Request request, std::function<void(RoutedReply)> done) {
  asio::post(executor_, [self = shared_from_this(), request = std::move(request), done = std::move(done)]() mutable {
    auto& s = *self->state_;
    const auto id = self->self_.name + ':' + std::to_string(self->self_.incarnation) + ':' + std::to_string(++s.next_id);
    if (self->fenced() || s.stopped || !s.running) {
      ++s.routed[static_cast<int>(Outcome::unavailable)];
      return done(reply_of(id, Outcome::unavailable));
    }
    RoutedCall call{id, self->self_, std::move(request.identity), std::move(request.protocol),
                    std::move(request.action), std::move(request.payload), std::move(request.message_id),
                    self->options_.wall_clock() + request.timeout.count(), 0};
    auto& pending = s.pending[id];
    pending.done = std::move(done);
    ++s.pending_count;
    pending.deadline = std::make_unique<asio::steady_timer>(self->executor_, request.timeout);
    pending.deadline->async_wait([weak = self->weak_from_this(), id](boost::system::error_code ec) {
      auto n = weak.lock();
      if (!n || ec) return;
      auto it = n->state_->pending.find(id);
      if (it == n->state_->pending.end()) return;
      // Never handed to the store: unavailable; handed over without an answer: it may be queued.
      const auto outcome = it->second.target      ? Outcome::timeout
                           : it->second.sent      ? Outcome::unknown_outcome
                           : it->second.unclaimed ? Outcome::not_connected
                                                  : Outcome::unavailable;
      n->complete(id, reply_of(id, outcome));
    });
    self->enqueue_or_wait(std::move(call));
  });
}

void ClusterNode::enqueue_or_wait(RoutedCall call) {
  if (state_->joined)
    enqueue(std::move(call));
  else
    state_->waiting.push_back(std::move(call));  // until the lease is taken (again), within its deadline
}

void ClusterNode::enqueue(RoutedCall call) {
  auto id = call.id;
  if (auto it = state_->pending.find(id); it != state_->pending.end()) {
    it->second.sent = true;
    it->second.unclaimed = false;
  }
  // The call is kept until the store answers, to be asked again (ask_again()).
  auto done = here<Adapter::Enqueued>([id, kept = call](ClusterNode& n, Result<Adapter::Enqueued> r) mutable {
    auto it = n.state_->pending.find(id);
    if (it == n.state_->pending.end()) return;
    if (auto* failure = std::get_if<AdapterFailure>(&r)) {
      auto reply = reply_of(id, failure->maybe_applied ? Outcome::unknown_outcome : Outcome::unavailable);
      reply.description = failure->message;
      return n.complete(id, std::move(reply));
    }
    auto& enqueued = std::get<Adapter::Enqueued>(r);
    switch (enqueued.status) {
      case Adapter::Routed::enqueued: it->second.target = enqueued.owner.node; return;
      case Adapter::Routed::not_connected:
        if (enqueued.claims_in_doubt && n.ask_again(std::move(kept))) return;
        return n.complete(id, reply_of(id, Outcome::not_connected));
      case Adapter::Routed::node_down: return n.complete(id, reply_of(id, Outcome::node_down));
      case Adapter::Routed::overloaded: return n.complete(id, reply_of(id, Outcome::overloaded));
      case Adapter::Routed::duplicate: return n.complete(id, reply_of(id, Outcome::duplicate));
    }
  });
  options_.adapter->enqueue(std::move(call), options_.max_inbox, std::move(done));
}

// The store failed over and may have lost the station's claim, which its node makes again at the
// renewal that follows the failover: asked again every 50 ms while the deadline leaves time for it.
bool ClusterNode::ask_again(RoutedCall call) {
  constexpr milliseconds kPause{50}, kLeft{200};  // kLeft: enough for the store's budget (see RedisAdapter)
  auto it = state_->pending.find(call.id);
  if (it == state_->pending.end() || options_.wall_clock() + (kPause + kLeft).count() >= call.deadline_ms) return false;
  auto& p = it->second;
  p.sent = false;
  p.unclaimed = true;
  p.again = std::make_unique<asio::steady_timer>(executor_, kPause);
  p.again->async_wait([weak = weak_from_this(), call = std::move(call)](boost::system::error_code ec) mutable {
    auto n = weak.lock();
    if (n && !ec && n->state_->pending.contains(call.id)) n->enqueue_or_wait(std::move(call));
  });
  return true;
}

void ClusterNode::complete(const std::string& id, RoutedReply reply) {
  auto& s = *state_;
  auto it = s.pending.find(id);
  if (it == s.pending.end()) return;
  auto done = std::move(it->second.done);
  s.pending.erase(it);
  --s.pending_count;
  ++s.routed[static_cast<int>(reply.outcome)];
  try {
    done(std::move(reply));
  } catch (...) {
    logger_->log(LogLevel::error, "cluster", {}, "routed call completion threw: " + describe_exception(std::current_exception()));
  }
  if (s.stopped && s.pending.empty()) leave();
}

void ClusterNode::on_reply(RoutedReply reply) {
  auto id = reply.id;
  complete(id, std::move(reply));
}

// Once per renewal: the live nodes (for /metrics), and the calls routed to a node run whose lease
// has ended, which get their outcome from the store: never taken (node_down) or taken
// (unknown_outcome). So a dead node is found within a renewal period of its lease's end.
void ClusterNode::survey() {
  auto& s = *state_;
  if (s.surveying || !s.joined || fenced()) return;
  s.surveying = true;
  options_.adapter->nodes(here<std::vector<NodeInfo>>([](ClusterNode& n, Result<std::vector<NodeInfo>> r) {
    n.state_->surveying = false;
    auto* alive = std::get_if<std::vector<NodeInfo>>(&r);
    if (!alive) return;
    n.state_->nodes = alive->size();
    for (auto& info : *alive)
      if (info.node == n.self_) n.state_->inbox = info.inbox;
    std::unordered_map<std::string, std::pair<NodeRef, std::vector<std::string>>> dead;
    for (auto& [id, p] : n.state_->pending) {
      if (!p.target) continue;
      bool up = false;
      for (auto& info : *alive) up = up || info.node == *p.target;
      if (!up) {
        auto& d = dead[p.target->name + '#' + std::to_string(p.target->incarnation)];
        d.first = *p.target;
        d.second.push_back(id);
      }
    }
    for (auto& [key, d] : dead) {
      n.options_.adapter->settle(d.first, d.second,
                                 n.here<std::vector<Outcome>>([ids = d.second](ClusterNode& n, Result<std::vector<Outcome>> r) {
                                   auto* outcomes = std::get_if<std::vector<Outcome>>(&r);
                                   if (!outcomes) return;
                                   for (std::size_t i = 0; i < ids.size() && i < outcomes->size(); ++i)
                                     n.complete(ids[i], reply_of(ids[i], (*outcomes)[i]));
                                 }));
    }
  }));
}

void ClusterNode::on_call(RoutedCall call) {
  auto finish = [weak = weak_from_this(), ex = executor_, caller = call.caller, self = self_](RoutedReply reply) {
    asio::post(ex, [weak, caller, self, reply = std::move(reply)]() mutable {
      auto n = weak.lock();
      if (!n) return;
      if (auto took = n->state_->took.find(reply.id); took != n->state_->took.end() && !took->second)
        took->second = reply.outcome;
      n->options_.adapter->finish(self, std::move(reply), caller);
    });
  };
  auto& s = *state_;
  if (auto took = s.took.find(call.id); took != s.took.end()) {
    // Delivered again: it never reaches the station twice. While the first run is on, its answer
    // will do; after it, that answer was lost, and only an outcome without a payload can be given
    // again (a result's or CALLERROR's payload is not kept: the request ran, how is unknown).
    if (!took->second) return;
    const Outcome o = *took->second;
    return finish(reply_of(call.id, o == Outcome::result || o == Outcome::call_error ? Outcome::unknown_outcome : o));
  }
  // Ours before the rejoin, and forgotten (or its first delivery lost with the old master): it may
  // have run.
  if (call.again) return finish(reply_of(call.id, Outcome::unknown_outcome));
  s.took.emplace(call.id, std::nullopt);
  s.took_order.push_back(call.id);
  if (s.took_order.size() > State::kRemembered) {
    s.took.erase(s.took_order.front());
    s.took_order.pop_front();
  }
  if (!lease_valid()) {
    if (!fenced() && state_->joined) fence("lease expired before a routed request could run");
    return finish(reply_of(call.id, Outcome::node_down));  // not sent to the station
  }
  if (options_.wall_clock() >= call.deadline_ms) return finish(reply_of(call.id, Outcome::expired));
  if (!events_.deliver) return finish(reply_of(call.id, Outcome::not_connected));
  ++state_->delivered;
  auto id = call.id;
  try {
    events_.deliver(std::move(call), finish);
  } catch (...) {
    auto why = describe_exception(std::current_exception());
    logger_->log(LogLevel::error, "cluster", {}, "deliver threw: " + why);
    auto reply = reply_of(std::move(id), Outcome::rejected);  // a second finish of the same id is ignored
    reply.description = std::move(why);
    finish(std::move(reply));
  }
}

void ClusterNode::publish(std::string channel, std::string message) {
  options_.adapter->publish(std::move(channel), std::move(message));
}

// The adapter at once (it is thread-safe), so that a publish made after this call sees it; the set
// that rejoin() subscribes again on the executor.
void ClusterNode::subscribe(std::string channel) {
  options_.adapter->subscribe(self_, channel);
  asio::post(executor_, [self = shared_from_this(), channel = std::move(channel)] { self->state_->channels.insert(channel); });
}

void ClusterNode::unsubscribe(std::string channel) {
  options_.adapter->unsubscribe(self_, channel);
  asio::post(executor_, [self = shared_from_this(), channel = std::move(channel)] { self->state_->channels.erase(channel); });
}

ClusterMetrics ClusterNode::metrics() const {
  ClusterMetrics m;
  const auto& s = *state_;
  for (std::size_t i = 0; i < kOutcomes; ++i) m.routed[i] = s.routed[i].load();
  m.delivered = s.delivered;
  m.renewals = s.renewals;
  m.renewal_failures = s.renewal_failures;
  m.fencings = s.fencings;
  m.pending = s.pending_count;
  m.nodes = s.nodes;
  m.inbox = s.inbox;
  m.fenced = fenced();
  m.store = options_.adapter->metrics();
  return m;
}

}  // namespace ocpp::cluster
