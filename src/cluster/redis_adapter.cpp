#include "ocpp/cluster/redis_adapter.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mutex>
#include <unordered_map>

#include "cluster/redis_scripts.hpp"
#include "ocpp/redis/subscriber.hpp"
#include "ocpp/log/logger.hpp"

namespace ocpp::cluster {
namespace asio = boost::asio;
using redis::Reply;
using std::chrono::milliseconds;

namespace {

const std::string group = "nodes";

AdapterFailure failure_of(const redis::Error& e) {
  // A command that timed out or whose connection dropped may have run.
  const bool maybe = e.kind == redis::ErrorKind::timeout || e.kind == redis::ErrorKind::disconnected;
  return AdapterFailure{e.to_string(), maybe};
}

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
  std::string key(std::string_view a, std::string_view b = {}) const {
    std::string k = options.prefix;
    k += a;
    k += b;
    return k;
  }
  std::string inbox_of(const std::string& node) const { return key("inbox:", node); }
  std::string reply_of(const NodeRef& node) const { return key("reply:", node.name + ':' + std::to_string(node.incarnation)); }

  RedisAdapterOptions options;
  asio::any_io_executor executor;
  redis::Connection commands, inbox_reader, reply_reader;
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
    std::string inbox;
    std::string entry;
  };
  std::unordered_map<std::string, Routed> routed;  // calls this node routed, by correlation id
  struct Taken {
    std::string entry;
    std::string idempotency_key;
  };
  std::unordered_map<std::string, Taken> taken;  // requests this node took, by correlation id
  std::atomic<std::uint64_t> failures{0};
  std::uint64_t master_changes = 0;  // followed by `commands`, as of its last connect
  // A failover was followed: the new master may lack the latest claims, so the next renewal reports
  // the lease restored and the node claims its stations again.
  std::atomic<bool> failed_over{false};

  std::shared_ptr<Logger> logger() const {
    return options.connection.logger ? options.connection.logger : default_logger();
  }
  void logged_failure(const char* what, const redis::Error& e) {
    ++failures;
    logger()->log(LogLevel::warn, "cluster", {}, std::string("redis ") + what + ": " + e.to_string());
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
  void on_inbox(const Reply& streams);
  void on_replies(const Reply& streams);
  void find_lost();
};

RedisAdapter::RedisAdapter(asio::any_io_executor executor, RedisAdapterOptions options)
    : state_(std::make_shared<State>(executor, std::move(options))) {
  auto weak = std::weak_ptr<State>(state_);
  state_->subscriber.on_message([weak](std::string_view channel, std::string_view message) {
    auto s = weak.lock();
    if (!s) return;
    const auto prefix = s->key("ch:");
    if (channel.substr(0, prefix.size()) != prefix) return;
    std::function<void(std::string, std::string)> sink;
    {
      std::lock_guard lock(s->mutex);
      if (!s->joined) return;
      sink = s->sink.message;
    }
    if (sink) sink(std::string(channel.substr(prefix.size())), std::string(message));
  });
  state_->commands.on_connected([weak] {
    auto s = weak.lock();
    if (!s) return;
    const auto changes = s->commands.stats().master_changes;
    if (changes == std::exchange(s->master_changes, changes)) return;
    s->failed_over = true;
    s->find_lost();
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
  state_->subscriber.subscribe(state_->key("ch:", channel));
}

void RedisAdapter::unsubscribe(const NodeRef&, const std::string& channel) {
  state_->subscriber.unsubscribe(state_->key("ch:", channel));
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
  s->commands.eval(scripts::join(), {s->inbox_of(self.name)}, {s->options.prefix, std::to_string(self.incarnation)},
                   [weak = std::weak_ptr<State>(s)](redis::Result r) {
                     if (auto s = weak.lock(); s && !r) s->logged_failure("join", r.error());
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
  inbox_reader.command({"XREADGROUP", "GROUP", group, consumer, "COUNT", std::to_string(options.batch), "BLOCK",
                        std::to_string(options.block.count()), "STREAMS", inbox, ">"},
                       timeout, [weak = weak_from_this(), inbox](redis::Result r) {
                         auto self = weak.lock();
                         if (!self) return;
                         if (r) {
                           self->on_inbox(*r);
                           return self->read_inbox();
                         }
                         if (r.error().code() == "NOGROUP")  // the store lost its data: make the group again
                           self->commands.command({"XGROUP", "CREATE", inbox, group, "0", "MKSTREAM"}, [](redis::Result) {});
                         else
                           self->logged_failure("inbox read", r.error());
                         self->again_later(&State::read_inbox);
                       });
}

void RedisAdapter::State::on_inbox(const Reply& streams) {
  // [[inbox, [[id, [field, value, ...]], ...]]]
  for (const auto& stream : streams.elements()) {
    for (const auto& entry : stream[1].elements()) {
      const auto& id = entry[0].str();
      auto f = fields_of(entry[1]);
      std::unique_lock lock(mutex);
      if (!joined || !self) {
        lock.unlock();
        // Taken after this node left: answered as never delivered.
        if (get(f, "k") == "c")
          commands.eval(scripts::finish(), {inbox_of(self ? self->name : ""), key("reply:", get(f, "cn") + ':' + get(f, "ci"))},
                        {id, get(f, "ik"), "id", get(f, "id"), "o", "3"}, [](redis::Result) {});
        continue;
      }
      if (get(f, "k") == "v") {
        auto evict = sink.evict;
        auto inbox = inbox_of(self->name);
        lock.unlock();
        commands.command({"XACK", inbox, group, id}, [](redis::Result) {});
        commands.command({"XDEL", inbox, id}, [](redis::Result) {});
        if (evict) evict(get(f, "i"), to_u64(get(f, "e")));
        continue;
      }
      RoutedCall call{get(f, "id"), NodeRef{get(f, "cn"), to_u64(get(f, "ci"))}, get(f, "i"), get(f, "p"), get(f, "a"),
                      get(f, "d"), get(f, "m"), static_cast<std::int64_t>(to_u64(get(f, "dl"))), to_u64(get(f, "e"))};
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
  reply_reader.command({"XREAD", "COUNT", std::to_string(options.batch), "BLOCK", std::to_string(options.block.count()),
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
  if (!trim_to.empty()) commands.command({"XTRIM", stream, "MINID", trim_to}, [](redis::Result) {});
  if (sink_reply)
    for (auto& r : replies) sink_reply(std::move(r));
}

// The new master of a failover may lack what the old one acknowledged last: a routed request whose
// entry is neither in its target's inbox nor answered in our reply stream is gone, and its caller
// learns it now (unknown_outcome: the target may have taken it from the old master and run it)
// instead of at its deadline. Replies read up to `last_reply` have left `routed` under the same
// lock, and an answer and the deletion of its entry are one script: no answered call looks lost.
void RedisAdapter::State::find_lost() {
  std::vector<std::string> args;
  std::string stream;
  {
    std::lock_guard lock(mutex);
    if (!joined || routed.empty()) return;
    stream = reply_of(*self);
    args.push_back(last_reply);
    for (const auto& [id, r] : routed) args.insert(args.end(), {r.inbox, r.entry, id});
  }
  commands.eval(scripts::lost(), {stream}, args, [weak = weak_from_this()](redis::Result r) {
    auto s = weak.lock();
    if (!s) return;
    if (!r) return s->logged_failure("the check for calls lost in a failover", r.error());
    std::vector<RoutedReply> lost;
    std::function<void(RoutedReply)> sink_reply;
    {
      std::lock_guard lock(s->mutex);
      if (!s->joined) return;
      sink_reply = s->sink.reply;
      for (const auto& id : r->elements())
        if (s->routed.erase(id.str()))
          lost.push_back(RoutedReply{id.str(), Outcome::unknown_outcome, {}, {}, "lost in a Redis failover"});
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
  s->commands.eval(scripts::leave(), {s->inbox_of(self.name), s->key("lease:", self.name)}, {s->options.prefix},
                   [done = std::move(done)](redis::Result r) {
                     if (!r) return done(failure_of(r.error()));
                     done(Ok{});
                   });
}

void RedisAdapter::renew_lease(const NodeRef& self, milliseconds ttl, Done<Lease> done) {
  state_->commands.eval(scripts::renew(), {state_->key("lease:", self.name), state_->key("nodes")},
                        {std::to_string(self.incarnation), std::to_string(ttl.count()), self.name},
                        [weak = std::weak_ptr<State>(state_), done = std::move(done)](redis::Result r) {
                          if (!r) return done(failure_of(r.error()));
                          const auto& v = r->str();
                          if (v == "taken") return done(Lease::taken);
                          auto s = weak.lock();
                          const bool failed_over = s && s->failed_over.exchange(false);
                          done(v == "held" && !failed_over ? Lease::held : Lease::restored);
                        });
}

void RedisAdapter::claim(const std::string& identity, const NodeRef& self, bool take_over, Done<Claimed> done) {
  state_->commands.eval(scripts::claim(), {state_->key("owner:", identity), state_->key("epoch"), state_->key("count")},
                        {state_->options.prefix, self.name, std::to_string(self.incarnation), take_over ? "1" : "0"},
                        [done = std::move(done)](redis::Result r) {
                          if (!r) return done(failure_of(r.error()));
                          Claimed claimed;
                          claimed.epoch = static_cast<std::uint64_t>((*r)[0].integer());
                          claimed.refused = claimed.epoch == 0;
                          if (r->elements().size() >= 4)
                            claimed.previous = Owner{NodeRef{(*r)[1].str(), to_u64((*r)[2].str())}, to_u64((*r)[3].str())};
                          done(std::move(claimed));
                        });
}

void RedisAdapter::release(const std::string& identity, const Owner& claim, Done<bool> done) {
  state_->commands.eval(scripts::release(), {state_->key("owner:", identity), state_->key("count")},
                        {claim.node.name, std::to_string(claim.node.incarnation), std::to_string(claim.epoch)},
                        [done = std::move(done)](redis::Result r) {
                          if (!r) return done(failure_of(r.error()));
                          done(r->integer() == 1);
                        });
}

void RedisAdapter::evict(const Owner& owner, const std::string& identity) {
  state_->commands.command({"XADD", state_->inbox_of(owner.node.name), "*", "k", "v", "i", identity, "e",
                            std::to_string(owner.epoch)},
                           [weak = std::weak_ptr<State>(state_)](redis::Result r) {
                             if (auto s = weak.lock(); s && !r) s->logged_failure("evict", r.error());
                           });
}

void RedisAdapter::lookup(std::vector<std::string> identities, Done<std::vector<std::optional<Owner>>> done) {
  std::vector<std::string> args{state_->options.prefix};
  args.insert(args.end(), identities.begin(), identities.end());
  state_->commands.eval(scripts::lookup(), {}, args, [done = std::move(done), n = identities.size()](redis::Result r) {
    if (!r) return done(failure_of(r.error()));
    std::vector<std::optional<Owner>> owners(n);
    for (std::size_t i = 0; i < n && i < r->elements().size(); ++i) {
      const auto& o = (*r)[i];
      if (o.elements().size() >= 3) owners[i] = Owner{NodeRef{o[0].str(), to_u64(o[1].str())}, to_u64(o[2].str())};
    }
    done(std::move(owners));
  });
}

void RedisAdapter::enqueue(RoutedCall call, std::size_t max_inbox, Done<Enqueued> done) {
  auto s = state_;
  std::string idem = call.message_id.empty() ? std::string() : s->key("idem:", call.identity + ':' + call.message_id);
  const auto ttl = std::max<std::int64_t>(1, call.deadline_ms - system_wall_clock());
  std::vector<std::string> args{s->options.prefix, std::to_string(max_inbox), idem, std::to_string(ttl),
                                "k", "c", "id", call.id, "cn", call.caller.name, "ci", std::to_string(call.caller.incarnation),
                                "i", call.identity, "p", call.protocol, "a", call.action, "d", call.payload,
                                "m", call.message_id, "dl", std::to_string(call.deadline_ms)};
  s->commands.eval(scripts::enqueue(), {s->key("owner:", call.identity)}, args,
                   [weak = std::weak_ptr<State>(s), id = call.id, done = std::move(done)](redis::Result r) {
                     if (!r) return done(failure_of(r.error()));
                     auto s = weak.lock();
                     if (!s) return done(AdapterFailure{"the adapter is gone", true});
                     Enqueued out;
                     const auto& status = (*r)[0].str();
                     if (r->elements().size() >= 4)
                       out.owner = Owner{NodeRef{(*r)[1].str(), to_u64((*r)[2].str())}, to_u64((*r)[3].str())};
                     if (status == "enqueued") {
                       out.status = Routed::enqueued;
                       std::lock_guard lock(s->mutex);
                       s->routed[id] = State::Routed{s->inbox_of(out.owner.node.name), (*r)[4].str()};
                     } else {
                       out.status = status == "not_connected" ? Routed::not_connected
                                    : status == "node_down"   ? Routed::node_down
                                    : status == "overloaded"  ? Routed::overloaded
                                                              : Routed::duplicate;
                     }
                     done(std::move(out));
                   });
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
  s->commands.eval(scripts::finish(), {s->inbox_of(self.name), s->reply_of(caller)},
                   {taken.entry, taken.idempotency_key, "id", reply.id, "o",
                    std::to_string(static_cast<int>(reply.outcome)), "d", reply.payload, "c", reply.error_code, "s",
                    reply.description},
                   [weak = std::weak_ptr<State>(s)](redis::Result r) {
                     if (auto s = weak.lock(); s && !r) s->logged_failure("finish", r.error());
                   });
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

void RedisAdapter::nodes(Done<std::vector<NodeInfo>> done) {
  state_->commands.eval(scripts::nodes(), {state_->key("nodes"), state_->key("count")}, {state_->options.prefix},
                        [done = std::move(done)](redis::Result r) {
                          if (!r) return done(failure_of(r.error()));
                          std::vector<NodeInfo> out;
                          const auto now = system_wall_clock();
                          for (const auto& n : r->elements())
                            out.push_back(NodeInfo{NodeRef{n[0].str(), to_u64(n[1].str())}, now + n[2].integer(),
                                                   static_cast<std::size_t>(std::max(0LL, n[4].integer())),
                                                   static_cast<std::size_t>(n[3].integer())});
                          std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.node.name < b.node.name; });
                          done(std::move(out));
                        });
}

void RedisAdapter::publish(std::string channel, std::string message) {
  state_->commands.command({"PUBLISH", state_->key("ch:", channel), message}, [weak = std::weak_ptr<State>(state_)](redis::Result r) {
    if (auto s = weak.lock(); s && !r) s->logged_failure("publish", r.error());
  });
}

void RedisAdapter::publish_batch(std::vector<std::pair<std::string, std::string>> messages) {
  // Pipelined: the connection writes what is queued together.
  for (auto& [channel, message] : messages) publish(std::move(channel), std::move(message));
}

void RedisAdapter::save_state(const std::string& identity, std::string state, milliseconds ttl) {
  state_->commands.command({"SET", state_->key("state:", identity), state, "PX", std::to_string(ttl.count())},
                           [weak = std::weak_ptr<State>(state_)](redis::Result r) {
                             if (auto s = weak.lock(); s && !r) s->logged_failure("save state", r.error());
                           });
}

void RedisAdapter::load_state(const std::string& identity, Done<std::optional<std::string>> done) {
  state_->commands.command({"GET", state_->key("state:", identity)}, [done = std::move(done)](redis::Result r) {
    if (!r) return done(failure_of(r.error()));
    if (r->is_nil()) return done(std::optional<std::string>());
    done(std::optional<std::string>(r->str()));
  });
}

void RedisAdapter::owner(const std::string& identity, Done<std::optional<Owner>> done) {
  state_->commands.command({"HMGET", state_->key("owner:", identity), "n", "i", "e"}, [done = std::move(done)](redis::Result r) {
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
