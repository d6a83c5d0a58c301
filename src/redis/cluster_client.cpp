#include "ocpp/redis/cluster_client.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>

#include "ocpp/log/logger.hpp"
#include "ocpp/redis/key_slot.hpp"
#include "ocpp/redis/url.hpp"
#include "tls/context.hpp"

namespace ocpp::redis {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Node {
  Endpoint endpoint;
  std::unique_ptr<Connection> connection;
};

// One command on its way, across redirects.
struct Request {
  std::uint16_t slot = 0;
  std::vector<std::string> args;  // the command, or the script's arguments
  std::vector<std::string> keys;  // eval only
  std::optional<Script> script;   // eval only
  bool with_source = false;       // eval: the server lacked the script, EVAL instead of EVALSHA
  bool asking = false;            // the last redirect was an ASK
  std::size_t redirects = 0;
  Clock::time_point deadline;
  Completion done;
};

// "MOVED 3999 127.0.0.1:6381" / "ASK ...": the node; an empty host ("MOVED 3999 :6381", when the
// node does not know its own address) is the one that answered.
std::optional<Endpoint> redirect_target(std::string_view message, const Endpoint& from) {
  const auto space = message.rfind(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view where = message.substr(space + 1);
  const bool no_host = where.starts_with(':');
  try {
    auto e = parse_endpoint(no_host ? "?" + std::string(where) : std::string(where), 0);
    if (e.port == 0) return std::nullopt;
    if (no_host) e.host = from.host;
    return e;
  } catch (const UrlError&) {
    return std::nullopt;
  }
}

void add(Stats& sum, const Stats& s) {
  sum.commands += s.commands;
  sum.sent += s.sent;
  sum.replies += s.replies;
  sum.server_errors += s.server_errors;
  sum.timeouts += s.timeouts;
  sum.disconnected += s.disconnected;
  sum.protocol_errors += s.protocol_errors;
  sum.tls_errors += s.tls_errors;
  sum.connects += s.connects;
  sum.reconnects += s.reconnects;
  sum.connection_losses += s.connection_losses;
  sum.master_changes += s.master_changes;
  sum.latency_count += s.latency_count;
  sum.latency_sum_us += s.latency_sum_us;
  for (std::size_t i = 0; i < sum.latency_buckets.size(); ++i) sum.latency_buckets[i] += s.latency_buckets[i];
}

}  // namespace

class ClusterClient::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor ex, ConnectionOptions options)
      : ex_(std::move(ex)),
        options_(std::move(options)),
        url_(parse_url(options_.url)),
        logger_(options_.logger ? options_.logger : default_logger()),
        refresh_timer_(ex_),
        slots_(kSlots) {
    if (!url_.cluster()) throw UrlError("ClusterClient takes a redis-cluster:// or rediss-cluster:// URL");
    if (url_.tls) detail::make_client_context(options_.tls);  // throws TlsError now, not at the first connect
  }

  const asio::any_io_executor& executor() const noexcept { return ex_; }
  const ConnectionOptions& options() const noexcept { return options_; }

  void start() {
    run([this] {
      if (started_) return;
      started_ = true;
      for (auto& [name, n] : nodes_) n->connection->start();
      refresh();
    });
  }

  void stop() {
    run([this] {
      started_ = false;
      refresh_timer_.cancel();
      timer_armed_ = false;
      for (auto& [name, n] : nodes_) n->connection->stop();
    });
  }

  void submit(std::shared_ptr<Request> r) {
    run([this, r = std::move(r)]() mutable {
      const auto& target = slots_[r->slot];
      send(r, target ? *target : any_node());
    });
  }

  void fail_later(Completion done, Error why) {
    asio::post(ex_, [self = shared_from_this(), done = std::move(done), why = std::move(why)]() mutable {
      self->complete(done, std::move(why));
    });
  }

  std::vector<std::string> masters() const {
    std::lock_guard lock(view_mutex_);
    return masters_;
  }

  void on_masters_changed(std::function<void()> hook) {
    run([this, hook = std::move(hook)]() mutable { masters_changed_ = std::move(hook); });
  }

  ClusterStats stats() const {
    ClusterStats s;
    s.moved = moved_.load(std::memory_order_relaxed);
    s.asked = asked_.load(std::memory_order_relaxed);
    s.retried = retried_.load(std::memory_order_relaxed);
    s.slot_refreshes = refreshes_.load(std::memory_order_relaxed);
    s.refresh_failures = refresh_failures_.load(std::memory_order_relaxed);
    std::lock_guard lock(view_mutex_);
    s.masters = masters_.size();
    for (const auto& [name, n] : nodes_) add(s.connections, n->connection->stats());
    return s;
  }

 private:
  template <class Fn>
  void run(Fn&& fn) {
    asio::dispatch(ex_, [self = shared_from_this(), fn = std::forward<Fn>(fn)]() mutable { fn(); });
  }

  // The node at `e`, connected (and started) on first use.
  const std::shared_ptr<Node>& node(const Endpoint& e) {
    const std::string name = to_string(e);
    if (auto it = nodes_.find(name); it != nodes_.end()) return it->second;
    auto options = options_;
    options.url = server_url(url_, e);
    options.logger = logger_;
    auto n = std::make_shared<Node>(Node{e, std::make_unique<Connection>(ex_, std::move(options))});
    n->connection->on_disconnected([weak = weak_from_this()](const Error&) {
      if (auto self = weak.lock()) self->request_refresh();
    });
    if (started_) n->connection->start();
    std::lock_guard lock(view_mutex_);
    return nodes_.emplace(name, std::move(n)).first->second;
  }

  // Before the slot map is known (or where it has a hole): the node that answered last, else the
  // first seed. Its MOVED corrects the route.
  Node& any_node() {
    if (!last_answered_.host.empty()) return *node(last_answered_);
    return *node(url_.seeds.front());
  }

  void send(const std::shared_ptr<Request>& r, Node& to) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(r->deadline - Clock::now());
    if (left <= std::chrono::milliseconds::zero())
      return complete(r->done, Error{ErrorKind::timeout, "the deadline passed while following cluster redirects", false});
    // Held by the node's connection, which the client holds: weakly, or the two would keep each
    // other alive once the executor stops. A client gone hands the result on as it is.
    auto on_reply = [weak = weak_from_this(), r, from = to.endpoint](Result result) mutable {
      if (auto self = weak.lock()) return self->on_reply(r, from, std::move(result));
      if (!r->done) return;
      try {
        auto done = std::move(r->done);
        done(std::move(result));
      } catch (...) {  // no logger left to say so; a completion must not throw into the connection
      }
    };
    if (r->asking) to.connection->command({"ASKING"}, left, [](Result) {});  // its reply says nothing new
    if (!r->script) return to.connection->command(r->args, left, std::move(on_reply));
    std::vector<std::string> parts;
    parts.reserve(3 + r->keys.size() + r->args.size());
    parts.emplace_back(r->with_source ? "EVAL" : "EVALSHA");
    parts.push_back(r->with_source ? r->script->source() : r->script->sha1());
    parts.push_back(std::to_string(r->keys.size()));
    parts.insert(parts.end(), r->keys.begin(), r->keys.end());
    parts.insert(parts.end(), r->args.begin(), r->args.end());
    to.connection->command(parts, left, std::move(on_reply));
  }

  void on_reply(const std::shared_ptr<Request>& r, const Endpoint& from, Result result) {
    // Never sent, as its node left the slot map (a failover): to the slot's master now, unless
    // too little of its time is left for a round trip (sent anyway, it would end in doubt).
    if (!result && !result.error().sent && started_ && r->deadline - Clock::now() > options_.command_timeout / 10 &&
        ++r->redirects <= options_.max_redirects) {
      const auto& target = slots_[r->slot];
      return send(r, target ? *target : any_node());
    }
    if (result || result.error().kind != ErrorKind::server || !started_) return complete(r->done, std::move(result));
    const std::string_view code = result.error().code();
    if (code == "MOVED" || code == "ASK") {
      const auto target = redirect_target(result.error().message, from);
      if (!target) return complete(r->done, std::move(result));
      if (++r->redirects > options_.max_redirects)
        return complete(r->done, Error{ErrorKind::server, "too many cluster redirects, the last: " +
                                                              result.error().message});
      auto& to = node(*target);
      r->asking = code == "ASK";
      if (r->asking) {
        asked_.fetch_add(1, std::memory_order_relaxed);
      } else {
        moved_.fetch_add(1, std::memory_order_relaxed);
        slots_[r->slot] = to;  // at once for this slot; the others come with the refresh
        request_refresh();
      }
      return send(r, *to);
    }
    if (code == "NOSCRIPT" && r->script && !r->with_source) {
      r->with_source = true;
      return send(r, *node(from));
    }
    if (code == "TRYAGAIN") {  // keys of the slot split between two nodes for a moment
      retried_.fetch_add(1, std::memory_order_relaxed);
      auto timer = std::make_shared<asio::steady_timer>(ex_, std::chrono::milliseconds(20));
      return timer->async_wait([self = shared_from_this(), r, from, timer](boost::system::error_code) {
        if (!self->started_) return self->complete(r->done, Error{ErrorKind::disconnected, "the client stopped", false});
        self->send(r, *self->node(from));
      });
    }
    if (code == "CLUSTERDOWN") request_refresh();
    complete(r->done, std::move(result));
  }

  // ---- the slot map ------------------------------------------------------------------------------

  // At most one refresh at a time and one per slot_refresh_interval; a request meanwhile is kept.
  void request_refresh() {
    if (!started_) return;
    if (refreshing_) {
      again_ = true;
      return;
    }
    const auto due = last_refresh_ + options_.slot_refresh_interval;
    if (Clock::now() >= due) return refresh();
    if (timer_armed_) return;
    timer_armed_ = true;
    refresh_timer_.expires_at(due);
    refresh_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      self->timer_armed_ = false;
      self->request_refresh();
    });
  }

  void refresh() {
    refreshing_ = true;
    again_ = false;
    last_refresh_ = Clock::now();
    // The connected masters first: a dead one would hold the question for a whole deadline.
    auto ask = std::make_shared<std::vector<Endpoint>>();
    auto add_unique = [&](const Endpoint& e) {
      if (std::find(ask->begin(), ask->end(), e) == ask->end()) ask->push_back(e);
    };
    for (const bool connected : {true, false})
      for (const auto& [name, n] : nodes_)
        if (n->connection->connected() == connected) add_unique(n->endpoint);
    for (const auto& seed : url_.seeds) add_unique(seed);
    ask_slots(std::move(ask), 0, {});
  }

  void ask_slots(std::shared_ptr<std::vector<Endpoint>> ask, std::size_t i, std::string failures) {
    if (!started_) {
      refreshing_ = false;
      return;
    }
    if (i == ask->size()) {
      refresh_failures_.fetch_add(1, std::memory_order_relaxed);
      logger_->log(LogLevel::warn, "redis", "cluster", "no node gave the slot map: " + failures);
      return refreshed();
    }
    const Endpoint from = (*ask)[i];
    node(from)->connection->command(
        {"CLUSTER", "SLOTS"}, options_.connect_timeout,
        [weak = weak_from_this(), ask = std::move(ask), i, failures = std::move(failures), from](Result r) mutable {
          auto self = weak.lock();
          if (!self) return;
          std::string why = r ? self->apply(*r, from) : r.error().to_string();
          if (why.empty()) return self->refreshed();
          self->ask_slots(std::move(ask), i + 1, failures + (failures.empty() ? "" : "; ") + to_string(from) + " " + why);
        });
  }

  // Another round when one was asked for meanwhile, or while a master of the map is unreachable.
  void refreshed() {
    refreshing_ = false;
    bool unreachable = false;
    for (const auto& n : slots_) unreachable = unreachable || !n || !n->connection->connected();
    if (again_ || unreachable) request_refresh();
  }

  // CLUSTER SLOTS: [[first, last, [host, port, id, ...], replicas...], ...]. Empty when applied,
  // else what is wrong with it.
  std::string apply(const Reply& reply, const Endpoint& from) {
    if (!reply.is_array() || reply.elements().empty()) return "no slots in its map";
    std::vector<std::shared_ptr<Node>> slots(kSlots);
    std::set<std::string> masters;
    for (const auto& range : reply.elements()) {
      const long long first = range[0].integer(), last = range[1].integer();
      const Reply& master = range[2];
      if (!range[0].is_integer() || !range[1].is_integer() || first < 0 || last < first || last >= kSlots ||
          !master[0].is_string() || !master[1].is_integer() || master[1].integer() <= 0 || master[1].integer() > 65535)
        return "a bad slot range: " + range.to_string();
      Endpoint e{master[0].str().empty() || master[0].str() == "?" ? from.host : master[0].str(),
                 static_cast<std::uint16_t>(master[1].integer())};
      const auto& n = node(e);
      masters.insert(to_string(e));
      for (long long s = first; s <= last; ++s) slots[static_cast<std::size_t>(s)] = n;
    }
    slots_ = std::move(slots);
    last_answered_ = from;
    refreshes_.fetch_add(1, std::memory_order_relaxed);
    // Nodes that serve no slot any more (a master that failed over, a seed that is a replica) are
    // dropped: what waits on them fails now rather than at its deadline. Later, as this may run
    // inside the completion of one of their commands.
    std::vector<std::shared_ptr<Node>> dropped;
    bool changed = false;
    {
      std::lock_guard lock(view_mutex_);
      changed = !masters_.empty() && !std::equal(masters_.begin(), masters_.end(), masters.begin(), masters.end());
      masters_.clear();
      for (auto it = nodes_.begin(); it != nodes_.end();) {
        if (masters.count(it->first)) {
          masters_.push_back(it->first);
          ++it;
        } else {
          dropped.push_back(std::move(it->second));
          it = nodes_.erase(it);
        }
      }
    }
    if (!dropped.empty()) asio::post(ex_, [dropped = std::move(dropped)] {});
    if (changed && masters_changed_)
      asio::post(ex_, [self = shared_from_this()] {
        if (self->started_) self->guarded("the on_masters_changed hook", self->masters_changed_);
      });
    return {};
  }

  void complete(Completion& done, Result result) noexcept {
    if (!done) return;
    guarded("a command's completion", [&] {
      auto fn = std::move(done);
      fn(std::move(result));
    });
  }

  // A user's function: what it throws is logged, never passed to the executor.
  template <class Fn>
  void guarded(const char* what, Fn&& fn) noexcept {
    try {
      fn();
    } catch (const std::exception& e) {
      logger_->log(LogLevel::error, "redis", "cluster", std::string(what) + " threw: " + e.what());
    } catch (...) {
      logger_->log(LogLevel::error, "redis", "cluster", std::string(what) + " threw a non-exception");
    }
  }

  asio::any_io_executor ex_;
  ConnectionOptions options_;
  Url url_;
  std::shared_ptr<Logger> logger_;
  asio::steady_timer refresh_timer_;
  std::vector<std::shared_ptr<Node>> slots_;  // by slot; null: not known to be served
  std::map<std::string, std::shared_ptr<Node>> nodes_;  // by host:port
  Endpoint last_answered_{};
  bool started_ = false;
  bool refreshing_ = false;
  bool again_ = false;
  bool timer_armed_ = false;
  Clock::time_point last_refresh_{};

  std::function<void()> masters_changed_;
  mutable std::mutex view_mutex_;  // nodes_ (changed on the executor only) and masters_, for stats()
  std::vector<std::string> masters_;
  std::atomic<std::uint64_t> moved_{0}, asked_{0}, retried_{0}, refreshes_{0}, refresh_failures_{0};
};

ClusterClient::ClusterClient(boost::asio::any_io_executor executor, ConnectionOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

ClusterClient::~ClusterClient() { impl_->stop(); }

boost::asio::any_io_executor ClusterClient::get_executor() const noexcept { return impl_->executor(); }
void ClusterClient::start() { impl_->start(); }
void ClusterClient::stop() { impl_->stop(); }
std::vector<std::string> ClusterClient::masters() const { return impl_->masters(); }
void ClusterClient::on_masters_changed(std::function<void()> hook) { impl_->on_masters_changed(std::move(hook)); }
ClusterStats ClusterClient::stats() const { return impl_->stats(); }

void ClusterClient::command(std::string_view key, std::vector<std::string> args, Completion done) {
  command(key, std::move(args), impl_->options().command_timeout, std::move(done));
}

void ClusterClient::command(std::string_view key, std::vector<std::string> args, std::chrono::milliseconds timeout,
                            Completion done) {
  if (args.empty()) throw std::invalid_argument("a Redis command needs at least its name");
  auto r = std::make_shared<Request>();
  r->slot = key_slot(key);
  r->args = std::move(args);
  r->deadline = Clock::now() + timeout;
  r->done = std::move(done);
  impl_->submit(std::move(r));
}

void ClusterClient::eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
                         Completion done) {
  eval(script, std::move(keys), std::move(args), impl_->options().command_timeout, std::move(done));
}

void ClusterClient::eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
                         std::chrono::milliseconds timeout, Completion done) {
  if (keys.empty()) throw std::invalid_argument("a script sent to a Redis Cluster needs a key to route it by");
  const auto slot = key_slot(keys.front());
  for (const auto& k : keys)
    if (key_slot(k) != slot)
      return impl_->fail_later(std::move(done), Error{ErrorKind::server, "CROSSSLOT the script's keys " + keys.front() +
                                                                             " and " + k + " are in different slots",
                                                                       false});
  auto r = std::make_shared<Request>();
  r->slot = slot;
  r->keys = std::move(keys);
  r->args = std::move(args);
  r->script.emplace(script);
  r->deadline = Clock::now() + timeout;
  r->done = std::move(done);
  impl_->submit(std::move(r));
}

}  // namespace ocpp::redis
