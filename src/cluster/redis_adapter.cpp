#include "ocpp/cluster/redis_adapter.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "cluster/redis_scripts.hpp"
#include "cluster/redis_store.hpp"
#include "ocpp/redis/subscriber.hpp"
#include "ocpp/log/logger.hpp"

namespace ocpp::cluster {
namespace asio = boost::asio;
using redis::Reply;
using std::chrono::milliseconds;

namespace {

const std::string group = "nodes";

AdapterFailure failure_of(const redis::Error& e) {
  // A command that was sent and timed out, or whose connection dropped, may have run.
  const bool maybe = e.sent && (e.kind == redis::ErrorKind::timeout || e.kind == redis::ErrorKind::disconnected);
  return AdapterFailure{e.to_string(), maybe};
}

const AdapterFailure kGone{"the adapter is gone", false};
// A step that cannot go on: its command failed (`r`), or the adapter went away meanwhile.
AdapterFailure failure_of(const redis::Result& r) { return r ? kGone : failure_of(r.error()); }

std::uint64_t to_u64(const std::string& s) {
  try {
    return std::stoull(s);
  } catch (...) {
    return 0;
  }
}

// Field-value pairs of a stream entry as a map.
std::unordered_map<std::string, std::string> fields_of(const Reply& pairs) {
  std::unordered_map<std::string, std::string> out;
  const auto& e = pairs.elements();
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) out[e[i].str()] = e[i + 1].str();
  return out;
}

std::string get(const std::unordered_map<std::string, std::string>& f, const char* key) {
  auto it = f.find(key);
  return it == f.end() ? std::string() : it->second;
}

}  // namespace

// Completions stored in the connections hold the state weakly: the state owns the connections, and
// a strong reference back would keep both alive when the executor stops before they are stopped.
struct RedisAdapter::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, RedisAdapterOptions o)
      : options(std::move(o)),
        executor(ex),
        commands(ex, named(options.connection, "commands")),
        inbox_reader(ex, named(options.connection, "inbox")),
        reply_reader(ex, named(options.connection, "replies")),
        subscriber(ex, named(options.connection, "pubsub")) {}

  static redis::ConnectionOptions named(redis::ConnectionOptions o, const char* role) {
    if (o.client_name.empty()) o.client_name = std::string("ocpp-cluster-") + role;
    return o;
  }
  // A node's keys share the slot of `{name}`, a station's that of `{identity}`.
  std::string key(std::string_view kind, std::string_view tag, std::string_view suffix = {}) const {
    std::string k = options.prefix;
    k += kind;
    k += ":{";
    k += tag;
    k += '}';
    k += suffix;
    return k;
  }
  std::string lease_of(const std::string& node) const { return key("lease", node); }
  std::string inbox_of(const std::string& node) const { return key("inbox", node); }
  std::string count_of(const std::string& node) const { return key("count", node); }
  std::string reply_of(const NodeRef& node) const { return key("reply", node.name, ':' + std::to_string(node.incarnation)); }
  std::string owner_of(const std::string& identity) const { return key("owner", identity); }
  std::string nodes_key() const { return options.prefix + "nodes"; }
  std::string channel(std::string_view name) const { return options.prefix + "ch:" + std::string(name); }

  RedisAdapterOptions options;
  asio::any_io_executor executor;
  detail::RedisStore commands, inbox_reader, reply_reader;
  redis::Subscriber subscriber;

  std::mutex mutex;  // guards what follows
  std::optional<NodeRef> self;
  Sink sink;
  bool joined = false;
  bool reading_inbox = false;  // the read loops run (at most one of each)
  bool reading_replies = false;
  std::string last_reply = "0-0";
  std::chrono::steady_clock::time_point last_trim{};
  struct Routed {
    std::string node;
    std::string entry;
  };
  std::unordered_map<std::string, Routed> routed;  // calls this node routed, by correlation id
  struct Taken {
    std::string entry;
    std::string idempotency_key;
  };
  std::unordered_map<std::string, Taken> taken;  // requests this node took, by correlation id
  std::atomic<std::uint64_t> failures{0};
  std::uint64_t master_changes = 0;  // of `commands`, as last seen (by its hook only)
  // A failover was followed: the new master may lack the latest claims, so the next renewal reports
  // the lease restored and the node claims its stations again.
  std::atomic<bool> failed_over{false};
  // Until a lease period after the last failover, a station found unclaimed may be one whose claim
  // the failover lost (steady clock, in ns since its epoch; the period as last renewed).
  std::atomic<std::int64_t> claims_in_doubt_until{0};
  std::atomic<std::int64_t> lease_ttl_ns{0};
  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  bool claims_in_doubt() const { return now_ns() < claims_in_doubt_until.load(); }

  std::shared_ptr<Logger> logger() const {
    return options.connection.logger ? options.connection.logger : default_logger();
  }
  void logged_failure(const char* what, const redis::Error& e) {
    ++failures;
    logger()->log(LogLevel::warn, "cluster", {}, std::string("redis ") + what + ": " + e.to_string());
  }
  redis::Completion log_failure(const char* what) {
    return [weak = weak_from_this(), what](redis::Result r) {
      if (auto s = weak.lock(); s && !r) s->logged_failure(what, r.error());
    };
  }
  // A routed call's store commands end before its deadline, so that its caller learns whether it
  // was queued (a store that is not reached in time: not queued, `unavailable`) rather than
  // `unknown_outcome` from its own deadline: the margin is that of the caller's timer. Under
  // kMinBudget it is not sent at all: too short for a round trip under load, it would end
  // `unknown_outcome` where `unavailable` is true.
  static constexpr milliseconds kMinBudget{100};
  milliseconds budget(std::int64_t deadline_ms) const {
    const auto left = milliseconds(deadline_ms - system_wall_clock());
    return std::min(left - std::min(left / 10, milliseconds(50)), options.connection.command_timeout);
  }
  bool check_master_changes() {
    const auto changes = commands.master_changes();
    if (changes == std::exchange(master_changes, changes)) return false;
    failed_over = true;
    claims_in_doubt_until = now_ns() + lease_ttl_ns.load();
    find_lost();
    return true;
  }

  void read_inbox();
  void read_replies();
  // A blocking read that failed is issued again after a pause (the connection reconnects by
  // itself); a loop whose node has left ends there.
  void again_later(void (State::*loop)()) {
    auto timer = std::make_shared<asio::steady_timer>(executor, milliseconds(100));
    timer->async_wait([weak = weak_from_this(), timer, loop](boost::system::error_code) {
      if (auto self = weak.lock()) (self.get()->*loop)();
    });
  }
  void on_inbox(const Reply& streams, bool again = false);
  void on_replies(const Reply& streams);
  void find_lost();
  void settle_lost(std::vector<std::string> gone);
  // What an enqueue script answered ({status, ...}, the entry id at `entry_at`), for the caller.
  static void enqueued(const std::weak_ptr<State>& weak, const std::string& id, const Reply& r, std::size_t entry_at,
                       Enqueued out, Done<Enqueued>& done);
  void claim(std::string identity, NodeRef self, bool take_over, int attempt, Done<Claimed> done);
  // Answers a request of `inbox` with `fields` to its caller, then removes it (with its
  // idempotency key): one script on one server; on a cluster two steps in that order, so a crash
  // between them answers twice (the second is ignored) rather than never, and a reply read after
  // the entry is gone is never missed.
  void answer_and_remove(const std::string& inbox, const std::string& entry, const std::string& idempotency_key,
                         const NodeRef& caller, std::vector<std::string> fields, redis::Completion done = {});
  // Answers the requests `entries` ([id, fields] of `inbox`) with `outcome` and removes them.
  void answer_all(const std::string& inbox, const Reply& entries, Outcome outcome, std::function<void()> done = {});
};

void RedisAdapter::State::answer_and_remove(const std::string& inbox, const std::string& entry,
                                            const std::string& idempotency_key, const NodeRef& caller,
                                            std::vector<std::string> fields, redis::Completion done) {
  if (!commands.cluster()) {  // one script, one round trip
    fields.insert(fields.begin(), {entry, idempotency_key});
    return commands.eval(scripts::answer_and_remove(), {reply_of(caller), inbox}, std::move(fields),
                         done ? std::move(done) : log_failure("answer"));
  }
  const auto remove = [weak = weak_from_this(), inbox, entry, idempotency_key, done = std::move(done)](redis::Result r) mutable {
    auto s = weak.lock();
    if (!s) return;
    if (!r) s->logged_failure("answer", r.error());
    if (entry.empty()) {
      if (done) done(std::move(r));
      return;
    }
    s->commands.eval(scripts::done(), {inbox}, {entry, idempotency_key},
                     done ? std::move(done) : s->log_failure("removing an answered request"));
  };
  commands.eval(scripts::answer(), {reply_of(caller)}, std::move(fields), remove);
}

void RedisAdapter::State::answer_all(const std::string& inbox, const Reply& entries, Outcome outcome,
                                     std::function<void()> done) {
  auto left = std::make_shared<std::atomic<std::size_t>>(entries.elements().size() + 1);
  auto one_done = [left, done = std::move(done)](auto&&...) {
    if (--*left == 0 && done) done();
  };
  for (const auto& entry : entries.elements()) {
    auto f = fields_of(entry[1]);
    if (get(f, "k") != "c") {  // an eviction: nobody waits for it
      commands.eval(scripts::done(), {inbox}, {entry[0].str(), get(f, "ik")}, one_done);
      continue;
    }
    answer_and_remove(inbox, entry[0].str(), get(f, "ik"), NodeRef{get(f, "cn"), to_u64(get(f, "ci"))},
                      {"id", get(f, "id"), "o", std::to_string(static_cast<int>(outcome))}, one_done);
  }
  one_done();
}

RedisAdapter::RedisAdapter(asio::any_io_executor executor, RedisAdapterOptions options)
    : state_(std::make_shared<State>(executor, std::move(options))) {
  auto weak = std::weak_ptr<State>(state_);
  state_->subscriber.on_message([weak](std::string_view channel, std::string_view message) {
    auto s = weak.lock();
    if (!s) return;
    const auto prefix = s->channel("");
    if (channel.substr(0, prefix.size()) != prefix) return;
    std::function<void(std::string, std::string)> sink;
    {
      std::lock_guard lock(s->mutex);
      if (!s->joined) return;
      sink = s->sink.message;
    }
    if (sink) sink(std::string(channel.substr(prefix.size())), std::string(message));
  });
  // A Sentinel failover is seen at the reconnect, a cluster's when its slot map changes masters.
  state_->commands.on_maybe_failed_over([weak] {
    auto s = weak.lock();
    if (!s || !s->check_master_changes()) return;
    std::function<void()> renew_now;
    {
      std::lock_guard lock(s->mutex);
      if (s->joined) renew_now = s->sink.failed_over;
    }
    if (renew_now) renew_now();
  });
  state_->commands.start();
  state_->inbox_reader.start();
  state_->reply_reader.start();
  state_->subscriber.start();
}

RedisAdapter::~RedisAdapter() { disconnect(); }

void RedisAdapter::disconnect() {
  {
    std::lock_guard lock(state_->mutex);
    state_->joined = false;
  }
  state_->commands.stop();
  state_->inbox_reader.stop();
  state_->reply_reader.stop();
  state_->subscriber.stop();
}

// One Redis channel per cluster channel: a node receives only what it subscribed to.
void RedisAdapter::subscribe(const NodeRef&, const std::string& channel) {
  state_->subscriber.subscribe(state_->channel(channel));
}

void RedisAdapter::unsubscribe(const NodeRef&, const std::string& channel) {
  state_->subscriber.unsubscribe(state_->channel(channel));
}

void RedisAdapter::join(const NodeRef& self, Sink sink) {
  auto s = state_;
  bool start_inbox, start_replies;
  {
    std::lock_guard lock(s->mutex);
    if (!s->self || !(*s->self == self)) s->last_reply = "0-0";
    s->self = self;
    s->sink = std::move(sink);
    s->joined = true;
    start_inbox = !std::exchange(s->reading_inbox, true);
    start_replies = !std::exchange(s->reading_replies, true);
  }
  // What earlier incarnations took and never finished may have run: unknown_outcome. What this one
  // took and has not finished is delivered again: after a failover its answer may be gone.
  const auto inbox = s->inbox_of(self.name);
  s->commands.eval(scripts::join(), {inbox}, {std::to_string(self.incarnation)},
                   [weak = std::weak_ptr<State>(s), inbox](redis::Result r) {
                     auto s = weak.lock();
                     if (!s) return;
                     if (!r) return s->logged_failure("join", r.error());
                     s->answer_all(inbox, (*r)[0], Outcome::unknown_outcome);
                     s->on_inbox((*r)[1], true);
                   });
  if (start_inbox) s->read_inbox();
  if (start_replies) s->read_replies();
}

void RedisAdapter::State::read_inbox() {
  std::string inbox, consumer;
  {
    std::lock_guard lock(mutex);
    if (!joined) {
      reading_inbox = false;
      return;
    }
    inbox = inbox_of(self->name);
    consumer = std::to_string(self->incarnation);
  }
  const auto timeout = options.block + options.connection.command_timeout;
  inbox_reader.command(inbox,
                       {"XREADGROUP", "GROUP", group, consumer, "COUNT", std::to_string(options.batch), "BLOCK",
                        std::to_string(options.block.count()), "STREAMS", inbox, ">"},
                       timeout, [weak = weak_from_this(), inbox](redis::Result r) {
                         auto self = weak.lock();
                         if (!self) return;
                         if (r) {
                           self->on_inbox(*r);
                           return self->read_inbox();
                         }
                         if (r.error().code() == "NOGROUP")  // the store lost its data: make the group again
                           self->commands.command(inbox, {"XGROUP", "CREATE", inbox, group, "0", "MKSTREAM"}, [](redis::Result) {});
                         else
                           self->logged_failure("inbox read", r.error());
                         self->again_later(&State::read_inbox);
                       });
}

void RedisAdapter::State::on_inbox(const Reply& streams, bool again) {
  // [[inbox, [[id, [field, value, ...]], ...]]]
  for (const auto& stream : streams.elements()) {
    const auto& inbox = stream[0].str();
    for (const auto& entry : stream[1].elements()) {
      const auto& id = entry[0].str();
      auto f = fields_of(entry[1]);
      std::unique_lock lock(mutex);
      if (!joined || !self) {
        lock.unlock();
        // Taken after this node left: answered as never delivered.
        if (get(f, "k") == "c")
          answer_and_remove(inbox, id, get(f, "ik"), NodeRef{get(f, "cn"), to_u64(get(f, "ci"))},
                            {"id", get(f, "id"), "o", std::to_string(static_cast<int>(Outcome::node_down))});
        continue;
      }
      if (get(f, "k") == "v") {
        auto evict = sink.evict;
        lock.unlock();
        commands.eval(scripts::done(), {inbox}, {id, ""}, [](redis::Result) {});
        if (evict) evict(get(f, "i"), to_u64(get(f, "e")));
        continue;
      }
      RoutedCall call{get(f, "id"), NodeRef{get(f, "cn"), to_u64(get(f, "ci"))}, get(f, "i"), get(f, "p"), get(f, "a"),
                      get(f, "d"), get(f, "m"), static_cast<std::int64_t>(to_u64(get(f, "dl"))), to_u64(get(f, "e")),
                      again};
      taken[call.id] = Taken{id, get(f, "ik")};
      auto deliver = sink.call;
      lock.unlock();
      if (deliver) deliver(std::move(call));
    }
  }
}

void RedisAdapter::State::read_replies() {
  std::string stream, from;
  {
    std::lock_guard lock(mutex);
    if (!joined) {
      reading_replies = false;
      return;
    }
    stream = reply_of(*self);
    from = last_reply;
  }
  const auto timeout = options.block + options.connection.command_timeout;
  reply_reader.command(stream,
                       {"XREAD", "COUNT", std::to_string(options.batch), "BLOCK", std::to_string(options.block.count()),
                        "STREAMS", stream, from},
                       timeout, [weak = weak_from_this()](redis::Result r) {
                         auto self = weak.lock();
                         if (!self) return;
                         if (r) {
                           self->on_replies(*r);
                           return self->read_replies();
                         }
                         self->logged_failure("reply read", r.error());
                         self->again_later(&State::read_replies);
                       });
}

void RedisAdapter::State::on_replies(const Reply& streams) {
  std::function<void(RoutedReply)> sink_reply;
  std::vector<RoutedReply> replies;
  std::string stream, trim_to;
  {
    std::lock_guard lock(mutex);
    if (!joined) return;
    sink_reply = sink.reply;
    stream = reply_of(*self);
    for (const auto& s : streams.elements()) {
      for (const auto& entry : s[1].elements()) {
        last_reply = entry[0].str();
        auto f = fields_of(entry[1]);
        RoutedReply reply{get(f, "id"), static_cast<Outcome>(to_u64(get(f, "o"))), get(f, "d"), get(f, "c"), get(f, "s")};
        routed.erase(reply.id);
        replies.push_back(std::move(reply));
      }
    }
    // What was read is not needed again: trimmed at most once a second, not per reply.
    const auto now = std::chrono::steady_clock::now();
    if (!replies.empty() && now - last_trim >= std::chrono::seconds(1)) {
      last_trim = now;
      trim_to = last_reply;
    }
  }
  if (!trim_to.empty()) commands.command(stream, {"XTRIM", stream, "MINID", trim_to}, [](redis::Result) {});
  if (sink_reply)
    for (auto& r : replies) sink_reply(std::move(r));
}

// The new master of a failover may lack what the old one acknowledged last: a routed request whose
// entry is neither in its target's inbox nor answered in our reply stream is gone, and its caller
// learns it now (unknown_outcome: the target may have taken it from the old master and run it)
// instead of at its deadline. The inboxes are asked first and the reply stream after: an answer is
// written before its entry is removed, so an entry found gone has its answer in the stream by then.
void RedisAdapter::State::find_lost() {
  std::unordered_map<std::string, std::vector<std::string>> by_node;  // node -> entry ids
  std::unordered_map<std::string, std::string> id_of;                 // node + entry -> correlation id
  {
    std::lock_guard lock(mutex);
    if (!joined || routed.empty()) return;
    for (const auto& [id, r] : routed) {
      by_node[r.node].push_back(r.entry);
      id_of[r.node + ' ' + r.entry] = id;
    }
  }
  struct Survey {
    std::atomic<std::size_t> left;
    std::vector<std::string> gone;  // correlation ids of entries no longer queued
    bool failed = false;
  };
  auto survey = std::make_shared<Survey>();
  survey->left = by_node.size();
  for (auto& [node, entries] : by_node) {
    commands.eval(scripts::present(), {inbox_of(node)}, entries,
                  [weak = weak_from_this(), survey, node, entries, id_of](redis::Result r) {
                    auto s = weak.lock();
                    if (!s) return;
                    if (!r) {
                      survey->failed = true;
                      s->logged_failure("the check for calls lost in a failover", r.error());
                    } else {
                      std::unordered_set<std::string> present;
                      for (const auto& e : r->elements()) present.insert(e.str());
                      for (const auto& e : entries)
                        if (!present.contains(e)) survey->gone.push_back(id_of.at(node + ' ' + e));
                    }
                    if (--survey->left == 0 && !survey->failed && !survey->gone.empty()) s->settle_lost(survey->gone);
                  });
  }
}

void RedisAdapter::State::settle_lost(std::vector<std::string> gone) {
  std::string stream, from;
  {
    std::lock_guard lock(mutex);
    if (!joined) return;
    stream = reply_of(*self);
    from = last_reply;
  }
  commands.command(stream, {"XRANGE", stream, "(" + from, "+"}, [weak = weak_from_this(), gone = std::move(gone)](redis::Result r) {
    auto s = weak.lock();
    if (!s) return;
    if (!r) return s->logged_failure("the check for calls lost in a failover", r.error());
    std::unordered_set<std::string> answered;
    for (const auto& entry : r->elements()) answered.insert(get(fields_of(entry[1]), "id"));
    std::vector<RoutedReply> lost;
    std::function<void(RoutedReply)> sink_reply;
    {
      std::lock_guard lock(s->mutex);
      if (!s->joined) return;
      sink_reply = s->sink.reply;
      for (const auto& id : gone)
        if (!answered.contains(id) && s->routed.erase(id))
          lost.push_back(RoutedReply{id, Outcome::unknown_outcome, {}, {}, "lost in a Redis failover"});
    }
    if (lost.empty()) return;
    s->logger()->log(LogLevel::warn, "cluster", {},
                     std::to_string(lost.size()) + " routed calls were lost in a Redis failover: unknown_outcome");
    if (sink_reply)
      for (auto& reply : lost) sink_reply(std::move(reply));
  });
}

void RedisAdapter::leave(const NodeRef& self, Done<Ok> done) {
  auto s = state_;
  {
    std::lock_guard lock(s->mutex);
    s->joined = false;
  }
  // What was never taken is answered node_down; the lease goes first, so nothing is queued after.
  const auto inbox = s->inbox_of(self.name);
  s->commands.eval(scripts::leave(), {inbox, s->lease_of(self.name)}, {},
                   [weak = std::weak_ptr<State>(s), inbox, done = std::move(done)](redis::Result r) mutable {
                     auto s = weak.lock();
                     if (!r || !s) return done(failure_of(r));
                     s->answer_all(inbox, *r, Outcome::node_down, [done = std::move(done)]() mutable { done(Ok{}); });
                   });
}

void RedisAdapter::renew_lease(const NodeRef& self, milliseconds ttl, Done<Lease> done) {
  auto s = state_;
  s->lease_ttl_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(ttl).count();
  s->commands.eval(scripts::renew(), {s->lease_of(self.name)}, {std::to_string(self.incarnation), std::to_string(ttl.count())},
                   [weak = std::weak_ptr<State>(s), name = self.name, done = std::move(done)](redis::Result r) {
                     if (!r) return done(failure_of(r.error()));
                     const auto& v = r->str();
                     if (v == "taken") return done(Lease::taken);
                     auto s = weak.lock();
                     if (s && v == "restored")
                       s->commands.command(s->nodes_key(), {"SADD", s->nodes_key(), name}, s->log_failure("node list"));
                     const bool failed_over = s && s->failed_over.exchange(false);
                     done(v == "held" && !failed_over ? Lease::held : Lease::restored);
                   });
}

// Three steps, since the owner and the old owner's lease live in other slots: read the owner, ask
// whether its lease lives, and write the claim only if the owner is still the one read (else again).
void RedisAdapter::claim(const std::string& identity, const NodeRef& self, bool take_over, Done<Claimed> done) {
  state_->claim(identity, self, take_over, 0, std::move(done));
}

void RedisAdapter::State::claim(std::string identity, NodeRef me, bool take_over, int attempt, Done<Claimed> done) {
  constexpr int kAttempts = 16;  // each lost only to another claim of the same station
  if (attempt == kAttempts) return done(AdapterFailure{"the claim lost to other claims " + std::to_string(kAttempts) + " times", false});
  const auto owner = owner_of(identity);
  commands.command(owner, {"HMGET", owner, "n", "i", "e"}, [weak = weak_from_this(), identity, me, take_over, attempt,
                                                              done = std::move(done)](redis::Result r) mutable {
    auto s = weak.lock();
    if (!r || !s) return done(failure_of(r));
    std::optional<Owner> old;
    if (!(*r)[0].is_nil()) old = Owner{NodeRef{(*r)[0].str(), to_u64((*r)[1].str())}, to_u64((*r)[2].str())};
    auto write = [weak, identity, me, take_over, attempt, old, done = std::move(done)](bool alive) mutable {
      auto s = weak.lock();
      if (!s) return done(kGone);
      std::vector<std::string> args{old ? old->node.name : "", old ? std::to_string(old->node.incarnation) : "", me.name,
                                    std::to_string(me.incarnation), take_over ? "1" : "0", alive ? "1" : "0"};
      s->commands.eval(scripts::claim(), {s->owner_of(identity)}, std::move(args),
                       [weak, identity, me, take_over, attempt, old, alive, done = std::move(done)](redis::Result r) mutable {
                         auto s = weak.lock();
                         if (!r || !s) return done(failure_of(r));
                         const auto epoch = (*r)[0].integer();
                         if (epoch < 0) return s->claim(identity, me, take_over, attempt + 1, std::move(done));
                         Claimed claimed;
                         claimed.epoch = static_cast<std::uint64_t>(epoch);
                         claimed.refused = epoch == 0;
                         if (alive) claimed.previous = old;
                         if (!claimed.refused) {  // the stations per node, for `ocpp cluster` and /metrics
                           s->commands.command(s->count_of(me.name), {"INCR", s->count_of(me.name)}, s->log_failure("count"));
                           if (old)
                             s->commands.command(s->count_of(old->node.name), {"DECR", s->count_of(old->node.name)},
                                                 s->log_failure("count"));
                         }
                         done(std::move(claimed));
                       });
    };
    if (!old || old->node == me) return write(old.has_value());
    const auto lease = s->lease_of(old->node.name);
    s->commands.command(lease, {"GET", lease}, [old, write = std::move(write)](redis::Result r) mutable {
      write(r && r->is_string() && r->str() == std::to_string(old->node.incarnation));
    });
  });
}

void RedisAdapter::release(const std::string& identity, const Owner& claim, Done<bool> done) {
  state_->commands.eval(scripts::release(), {state_->owner_of(identity)},
                        {claim.node.name, std::to_string(claim.node.incarnation), std::to_string(claim.epoch)},
                        [weak = std::weak_ptr<State>(state_), name = claim.node.name, done = std::move(done)](redis::Result r) {
                          if (!r) return done(failure_of(r.error()));
                          auto s = weak.lock();
                          if (s && r->integer() == 1)
                            s->commands.command(s->count_of(name), {"DECR", s->count_of(name)}, s->log_failure("count"));
                          done(r->integer() == 1);
                        });
}

void RedisAdapter::evict(const Owner& owner, const std::string& identity) {
  const auto inbox = state_->inbox_of(owner.node.name);
  state_->commands.command(inbox, {"XADD", inbox, "*", "k", "v", "i", identity, "e", std::to_string(owner.epoch)},
                           state_->log_failure("evict"));
}

// The owners (one command each, pipelined), then the leases of the nodes they name.
void RedisAdapter::lookup(std::vector<std::string> identities, Done<std::vector<std::optional<Owner>>> done) {
  struct Lookup {
    std::vector<std::optional<Owner>> owners;
    std::atomic<std::size_t> left;
    std::optional<AdapterFailure> failure;
    Done<std::vector<std::optional<Owner>>> done;
  };
  auto l = std::make_shared<Lookup>();
  l->owners.resize(identities.size());
  l->left = identities.size() + 1;
  l->done = std::move(done);
  auto s = state_;
  auto leases = [weak = std::weak_ptr<State>(s), l] {
    auto s = weak.lock();
    if (l->failure || !s) return l->done(l->failure ? *l->failure : kGone);
    std::map<std::string, std::vector<std::size_t>> by_node;
    for (std::size_t i = 0; i < l->owners.size(); ++i)
      if (l->owners[i]) by_node[l->owners[i]->node.name].push_back(i);
    l->left = by_node.size() + 1;
    auto one_done = [l] {
      if (--l->left > 0) return;
      if (l->failure) return l->done(*l->failure);
      l->done(std::move(l->owners));
    };
    for (auto& [node, at] : by_node) {
      const auto lease = s->lease_of(node);
      s->commands.command(lease, {"GET", lease}, [l, at, one_done](redis::Result r) {
        if (!r) l->failure = failure_of(r.error());
        for (auto i : at)
          if (r && !(r->is_string() && r->str() == std::to_string(l->owners[i]->node.incarnation))) l->owners[i].reset();
        one_done();
      });
    }
    one_done();
  };
  for (std::size_t i = 0; i < identities.size(); ++i) {
    const auto owner = s->owner_of(identities[i]);
    s->commands.command(owner, {"HMGET", owner, "n", "i", "e"}, [l, i, leases](redis::Result r) {
      if (!r) l->failure = failure_of(r.error());
      else if (!(*r)[0].is_nil()) l->owners[i] = Owner{NodeRef{(*r)[0].str(), to_u64((*r)[1].str())}, to_u64((*r)[2].str())};
      if (--l->left == 0) leases();
    });
  }
  if (--l->left == 0) leases();
}

// On one server one script routes a call: it reads the owner, checks its lease, the inbox bound and
// the idempotency key, and queues: one round trip. On a Redis Cluster the owner lives in the
// station's slot and the inbox in its node's: the owner is read first, then the same checks and the
// queueing run in the node's slot. An owner that changes in between gets the request as if it had
// changed just after: the entry carries the epoch read.
void RedisAdapter::enqueue(RoutedCall call, std::size_t max_inbox, Done<Enqueued> done) {
  auto s = state_;
  const auto no_time = [] { return AdapterFailure{"too close to its deadline to route", false}; };
  const auto budget = s->budget(call.deadline_ms);
  if (budget < State::kMinBudget) return done(no_time());
  const auto owner = s->owner_of(call.identity);
  const auto ttl = std::to_string(std::max<std::int64_t>(1, call.deadline_ms - system_wall_clock()));
  const std::string idempotency = call.message_id.empty() ? std::string() : call.identity + ':' + call.message_id;
  const std::vector<std::string> fields{"k", "c", "id", call.id, "cn", call.caller.name, "ci",
                                        std::to_string(call.caller.incarnation), "i", call.identity, "p", call.protocol,
                                        "a", call.action, "d", call.payload, "m", call.message_id, "dl",
                                        std::to_string(call.deadline_ms)};
  if (!s->commands.cluster()) {
    std::vector<std::string> args{s->options.prefix, std::to_string(max_inbox), idempotency, ttl};
    args.insert(args.end(), fields.begin(), fields.end());
    return s->commands.eval(scripts::route(), {owner}, std::move(args), budget,
                            [weak = std::weak_ptr<State>(s), id = call.id, done = std::move(done)](redis::Result r) mutable {
                              if (!r) return done(failure_of(r.error()));
                              Enqueued out;
                              if (r->elements().size() >= 4)
                                out.owner = Owner{NodeRef{(*r)[1].str(), to_u64((*r)[2].str())}, to_u64((*r)[3].str())};
                              State::enqueued(weak, id, *r, 4, std::move(out), done);
                            });
  }
  s->commands.command(owner, {"HMGET", owner, "n", "i", "e"}, budget,
                      [no_time, weak = std::weak_ptr<State>(s), id = call.id, deadline_ms = call.deadline_ms, max_inbox,
                       idempotency, ttl, fields, done = std::move(done)](redis::Result r) mutable {
    auto s = weak.lock();
    // A read: whatever became of it, nothing was queued.
    if (!r || !s) return done(AdapterFailure{r ? "the adapter is gone" : r.error().to_string(), false});
    Enqueued out;
    if ((*r)[0].is_nil()) {
      out.status = Routed::not_connected;
      out.claims_in_doubt = s->claims_in_doubt();
      return done(std::move(out));
    }
    out.owner = Owner{NodeRef{(*r)[0].str(), to_u64((*r)[1].str())}, to_u64((*r)[2].str())};
    const auto& node = out.owner.node.name;
    std::vector<std::string> keys{s->lease_of(node), s->inbox_of(node)};
    if (!idempotency.empty()) keys.push_back(s->key("idem", node, ':' + idempotency));
    std::vector<std::string> args{std::to_string(out.owner.node.incarnation), std::to_string(max_inbox), ttl,
                                  std::to_string(out.owner.epoch)};
    args.insert(args.end(), fields.begin(), fields.end());
    const auto budget = s->budget(deadline_ms);
    if (budget < State::kMinBudget) return done(no_time());
    s->commands.eval(scripts::enqueue(), std::move(keys), std::move(args), budget,
                     [weak, id, out, done = std::move(done)](redis::Result r) mutable {
                       if (!r) return done(failure_of(r.error()));
                       State::enqueued(weak, id, *r, 1, std::move(out), done);
                     });
  });
}

void RedisAdapter::State::enqueued(const std::weak_ptr<State>& weak, const std::string& id, const Reply& r,
                                   std::size_t entry_at, Enqueued out, Done<Enqueued>& done) {
  const auto& status = r[0].str();
  if (status == "enqueued") {
    out.status = Adapter::Routed::enqueued;
    if (auto s = weak.lock()) {
      std::lock_guard lock(s->mutex);
      s->routed[id] = State::Routed{out.owner.node.name, r[entry_at].str()};
    }
  } else {
    out.status = status == "not_connected" ? Adapter::Routed::not_connected
                 : status == "node_down"   ? Adapter::Routed::node_down
                 : status == "overloaded"  ? Adapter::Routed::overloaded
                                           : Adapter::Routed::duplicate;
    if (auto s = weak.lock(); s && out.status == Adapter::Routed::not_connected) out.claims_in_doubt = s->claims_in_doubt();
  }
  done(std::move(out));
}

void RedisAdapter::finish(const NodeRef& self, RoutedReply reply, const NodeRef& caller) {
  auto s = state_;
  State::Taken taken;
  {
    std::lock_guard lock(s->mutex);
    if (auto it = s->taken.find(reply.id); it != s->taken.end()) {
      taken = std::move(it->second);
      s->taken.erase(it);
    }
  }
  s->answer_and_remove(s->inbox_of(self.name), taken.entry, taken.idempotency_key, caller,
                       {"id", reply.id, "o", std::to_string(static_cast<int>(reply.outcome)), "d", reply.payload, "c",
                        reply.error_code, "s", reply.description});
}

void RedisAdapter::settle(const NodeRef& target, std::vector<std::string> ids, Done<std::vector<Outcome>> done) {
  auto s = state_;
  std::vector<std::string> entries;
  std::vector<std::size_t> index;  // ids[index[k]] has entries[k]
  {
    std::lock_guard lock(s->mutex);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto it = s->routed.find(ids[i]);
      if (it == s->routed.end()) continue;
      entries.push_back(it->second.entry);
      index.push_back(i);
      s->routed.erase(it);
    }
  }
  if (entries.empty()) return done(std::vector<Outcome>(ids.size(), Outcome::unknown_outcome));
  s->commands.eval(scripts::settle(), {s->inbox_of(target.name)}, entries,
                   [n = ids.size(), index, done = std::move(done)](redis::Result r) {
                     if (!r) return done(failure_of(r.error()));
                     std::vector<Outcome> out(n, Outcome::unknown_outcome);
                     for (std::size_t k = 0; k < index.size() && k < r->elements().size(); ++k)
                       if ((*r)[k].str() == "node_down") out[index[k]] = Outcome::node_down;
                     done(std::move(out));
                   });
}

// The names, then each node's lease, inbox and station count (one script in its slot).
void RedisAdapter::nodes(Done<std::vector<NodeInfo>> done) {
  auto s = state_;
  s->commands.command(s->nodes_key(), {"SMEMBERS", s->nodes_key()}, [weak = std::weak_ptr<State>(s),
                                                                       done = std::move(done)](redis::Result r) mutable {
    auto s = weak.lock();
    if (!r || !s) return done(failure_of(r));
    struct Survey {
      std::vector<NodeInfo> alive;
      std::atomic<std::size_t> left;
      std::optional<AdapterFailure> failure;
      Done<std::vector<NodeInfo>> done;
    };
    auto survey = std::make_shared<Survey>();
    survey->left = r->elements().size() + 1;
    survey->done = std::move(done);
    auto one_done = [survey] {
      if (--survey->left > 0) return;
      if (survey->failure) return survey->done(*survey->failure);
      std::sort(survey->alive.begin(), survey->alive.end(), [](auto& a, auto& b) { return a.node.name < b.node.name; });
      survey->done(std::move(survey->alive));
    };
    for (const auto& member : r->elements()) {
      const auto name = member.str();
      s->commands.eval(scripts::node_info(), {s->lease_of(name), s->inbox_of(name), s->count_of(name)}, {},
                       [weak, survey, name, one_done](redis::Result r) {
                         if (!r) {
                           survey->failure = failure_of(r.error());
                         } else if (r->elements().size() == 4) {
                           survey->alive.push_back(NodeInfo{NodeRef{name, to_u64((*r)[0].str())}, system_wall_clock() + (*r)[1].integer(),
                                                            static_cast<std::size_t>(std::max(0LL, (*r)[3].integer())),
                                                            static_cast<std::size_t>((*r)[2].integer())});
                         } else if (r->elements().empty()) {
                           if (auto s = weak.lock())  // gone, with nothing queued for a restart to take over
                             s->commands.command(s->nodes_key(), {"SREM", s->nodes_key(), name}, [](redis::Result) {});
                         }
                         one_done();
                       });
    }
    one_done();
  });
}

void RedisAdapter::publish(std::string channel, std::string message) {
  auto name = state_->channel(channel);
  state_->commands.command(name, {"PUBLISH", name, std::move(message)}, state_->log_failure("publish"));
}

void RedisAdapter::publish_batch(std::vector<std::pair<std::string, std::string>> messages) {
  // Pipelined: the connection writes what is queued together.
  for (auto& [channel, message] : messages) publish(std::move(channel), std::move(message));
}

void RedisAdapter::save_state(const std::string& identity, std::string state, milliseconds ttl) {
  const auto key = state_->key("state", identity);
  state_->commands.command(key, {"SET", key, std::move(state), "PX", std::to_string(ttl.count())}, state_->log_failure("save state"));
}

void RedisAdapter::load_state(const std::string& identity, Done<std::optional<std::string>> done) {
  const auto key = state_->key("state", identity);
  state_->commands.command(key, {"GET", key}, [done = std::move(done)](redis::Result r) {
    if (!r) return done(failure_of(r.error()));
    if (r->is_nil()) return done(std::optional<std::string>());
    done(std::optional<std::string>(r->str()));
  });
}

void RedisAdapter::owner(const std::string& identity, Done<std::optional<Owner>> done) {
  const auto key = state_->owner_of(identity);
  state_->commands.command(key, {"HMGET", key, "n", "i", "e"}, [done = std::move(done)](redis::Result r) {
    if (!r) return done(failure_of(r.error()));
    if ((*r)[0].is_nil()) return done(std::optional<Owner>());
    done(std::optional<Owner>(Owner{NodeRef{(*r)[0].str(), to_u64((*r)[1].str())}, to_u64((*r)[2].str())}));
  });
}

AdapterMetrics RedisAdapter::metrics() const {
  AdapterMetrics m;
  for (const auto* c : {&state_->commands, &state_->inbox_reader, &state_->reply_reader}) {
    auto st = c->stats();
    m.commands += st.commands;
    m.failures += st.server_errors + st.timeouts + st.disconnected;
    m.latency_us_sum += st.latency_sum_us;
    m.latency_count += st.latency_count;
  }
  return m;
}

}  // namespace ocpp::cluster
