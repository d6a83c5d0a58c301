#include "redis/core.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>

#include "http/text.hpp"
#include "ocpp/log/logger.hpp"
#include "ocpp/redis/subscriber.hpp"
#include "ocpp/redis/url.hpp"
#include "redis/resp.hpp"
#include "tls/context.hpp"

namespace ocpp::redis {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = asio::ssl::stream<tcp::socket>;
constexpr auto kNever = Clock::time_point::max();
constexpr auto kNoLateness = Clock::time_point::min();  // for fail_all: none fails as a timeout

// A command whose reply is awaited (in flight) or that waits for a connection (with its bytes).
struct Pending {
  Completion done;
  Clock::time_point issued;
  Clock::time_point deadline;  // kNever: a handshake command, under the connect deadline instead
  Clock::time_point sent{};    // when it was written (in flight only)
};
struct Queued {
  std::string bytes;
  Pending pending;
};

// One TCP (or TLS) connection. Handlers hold it, so a closed link's buffers outlive its last
// operation; a handler whose link is not the core's current one has nothing left to do.
struct Link {
  explicit Link(const asio::any_io_executor& ex) : resolver(ex), socket(ex) {}

  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }
  template <class Fn>
  void io(Fn&& fn) {
    if (tls)
      fn(*tls);
    else
      fn(socket);
  }
  void close() {
    resolver.cancel();
    boost::system::error_code ignored;
    lowest().close(ignored);
  }

  tcp::resolver resolver;
  tcp::socket socket;  // moved into `tls` for rediss://
  std::unique_ptr<TlsStream> tls;
  ReplyReader reader;
  std::string out;      // commands appended while a write runs
  std::string writing;  // the batch being written
  bool write_busy = false;
  std::array<char, 16 * 1024> buffer;
};

struct Counters {
  std::atomic<std::uint64_t> commands{0}, sent{0}, replies{0}, server_errors{0}, timeouts{0}, disconnected{0},
      protocol_errors{0}, tls_errors{0}, connects{0}, reconnects{0}, connection_losses{0}, master_changes{0},
      latency_count{0}, latency_sum_us{0};
  std::array<std::atomic<std::uint64_t>, Stats::kLatencyBoundsUs.size() + 1> buckets{};

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  void count_failure(ErrorKind kind) noexcept {
    switch (kind) {
      case ErrorKind::disconnected: bump(disconnected); break;
      case ErrorKind::timeout: bump(timeouts); break;
      case ErrorKind::server: bump(server_errors); break;
      case ErrorKind::protocol: bump(protocol_errors); break;
      case ErrorKind::tls: bump(tls_errors); break;
    }
  }
  void latency(Clock::duration d) noexcept {
    const auto us = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    const auto& bounds = Stats::kLatencyBoundsUs;
    const auto i = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), us) - bounds.begin());
    bump(buckets[i]);
    bump(latency_count);
    bump(latency_sum_us, us);
  }
};

class CoreImpl final : public Core, public std::enable_shared_from_this<CoreImpl> {
 public:
  CoreImpl(asio::any_io_executor ex, ConnectionOptions options, bool any_node)
      : ex_(std::move(ex)),
        options_(std::move(options)),
        url_(parse_url(options_.url)),
        logger_(options_.logger ? options_.logger : default_logger()),
        where_(url_.sentinel() ? url_.master_name + " (master)" : to_string({url_.host, url_.port})),
        deadline_timer_(ex_),
        connect_timer_(ex_),
        health_timer_(ex_),
        random_(std::random_device{}()) {
    if (url_.cluster() && !any_node) throw UrlError("a redis-cluster:// URL is for ocpp::redis::ClusterClient, not one connection");
    if (url_.tls) tls_context_ = detail::make_client_context(options_.tls);  // throws TlsError early
  }

  void start() override {
    run([this] {
      stopped_ = false;
      if (state_ == State::idle) {
        attempt_ = 0;
        connect();
      }
    });
  }

  void stop() override {
    run([this] {
      stopped_ = true;
      ++epoch_;
      connect_timer_.cancel();
      deadline_timer_.cancel();
      health_timer_.cancel();
      armed_ = kNever;
      const bool had_link = link_ != nullptr;
      close_link();
      switches_.reset();
      state_ = State::idle;
      definite_.reset();
      const Error why{ErrorKind::disconnected, "stopped"};
      fail_all(take(inflight_), why, kNoLateness);
      fail_all(take_queued(), unsent(why), kNoLateness);
      if (had_link) logger_->log(LogLevel::info, "redis", where_, "stopped");
    });
  }

  void command(std::string encoded, std::chrono::milliseconds timeout, Completion done) override {
    counters_.bump(counters_.commands);
    const auto now = Clock::now();
    Queued q{std::move(encoded), {std::move(done), now, now + timeout}};
    run([this, q = std::move(q)]() mutable { submit(std::move(q)); });
  }

  bool connected() const noexcept override { return ready_.load(std::memory_order_acquire); }
  const asio::any_io_executor& executor() const noexcept override { return ex_; }
  const ConnectionOptions& options() const noexcept override { return options_; }

  Stats stats() const override {
    const auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
    Stats s;
    s.commands = get(counters_.commands);
    s.sent = get(counters_.sent);
    s.replies = get(counters_.replies);
    s.server_errors = get(counters_.server_errors);
    s.timeouts = get(counters_.timeouts);
    s.disconnected = get(counters_.disconnected);
    s.protocol_errors = get(counters_.protocol_errors);
    s.tls_errors = get(counters_.tls_errors);
    s.connects = get(counters_.connects);
    s.reconnects = get(counters_.reconnects);
    s.connection_losses = get(counters_.connection_losses);
    s.master_changes = get(counters_.master_changes);
    s.latency_count = get(counters_.latency_count);
    s.latency_sum_us = get(counters_.latency_sum_us);
    for (std::size_t i = 0; i < s.latency_buckets.size(); ++i) s.latency_buckets[i] = get(counters_.buckets[i]);
    return s;
  }

  void run(std::function<void()> fn) override {
    asio::dispatch(ex_, [self = shared_from_this(), fn = std::move(fn)] { self->guarded("a task", fn); });
  }

 private:
  enum class State { idle, connecting, handshaking, ready, retrying };

  // ---- commands ------------------------------------------------------------------------------

  void submit(Queued q) {
    if (stopped_) return fail_later(std::move(q.pending.done), {ErrorKind::disconnected, "stopped", false});
    // After a definite failure (wrong password, untrusted certificate) the next attempt would most
    // likely fail the same way: waiting for it would turn a clear error into a timeout.
    if (definite_ && state_ != State::ready) return fail_later(std::move(q.pending.done), unsent(*definite_));
    arm(q.pending.deadline);
    if (state_ == State::ready) {
      send(*link_, q.bytes);
      q.pending.sent = Clock::now();
      inflight_.push_back(std::move(q.pending));
      flush(link_);
    } else {
      queued_.push_back(std::move(q));
    }
  }

  void send(Link& link, const std::string& bytes) {
    link.out += bytes;
    counters_.bump(counters_.sent);
  }

  // One write at a time; what is appended meanwhile goes out as the next batch.
  void flush(const std::shared_ptr<Link>& link) {
    if (link->write_busy || link->out.empty()) return;
    link->writing.swap(link->out);
    link->out.clear();
    link->write_busy = true;
    link->io([&](auto& stream) {
      asio::async_write(stream, asio::buffer(link->writing),
                        [self = shared_from_this(), link](boost::system::error_code ec, std::size_t) {
                          link->write_busy = false;
                          if (link != self->link_) return;
                          if (ec) return self->drop({ErrorKind::disconnected, "write failed: " + ec.message()});
                          link->writing.clear();
                          self->flush(link);
                        });
    });
  }

  void read(const std::shared_ptr<Link>& link) {
    link->io([&](auto& stream) {
      stream.async_read_some(asio::buffer(link->buffer),
                             [self = shared_from_this(), link](boost::system::error_code ec, std::size_t n) {
                               if (link != self->link_) return;
                               if (ec) return self->drop({ErrorKind::disconnected, "connection lost: " + ec.message()});
                               if (!link->reader.feed(link->buffer.data(), n))
                                 return self->drop({ErrorKind::protocol, "bad reply: " + link->reader.error()});
                               while (auto reply = link->reader.next()) {
                                 self->on_reply(std::move(*reply));
                                 if (link != self->link_) return;  // a completion stopped or dropped the connection
                               }
                               if (auto error = link->reader.error(); !error.empty())
                                 return self->drop({ErrorKind::protocol, "bad reply: " + error});
                               self->read(link);
                             });
    });
  }

  void on_reply(Reply&& reply) {
    if (hooks.push) {
      bool pushed = true;  // a hook that throws threw from the message handler, after telling a message
      guarded("the message handler", [&] { pushed = hooks.push(reply); });
      if (pushed) return;
    }
    if (inflight_.empty()) return drop({ErrorKind::protocol, "a reply that no command asked for"});
    Pending p = std::move(inflight_.front());
    inflight_.pop_front();
    counters_.bump(counters_.replies);
    if (p.deadline != kNever) counters_.latency(Clock::now() - p.issued);
    if (reply.is_error()) {
      // The master was turned into a replica under us (a failover we were not told of, or were told
      // of too late): what follows on this connection would fail alike, so ask the sentinels again.
      const bool demoted = url_.sentinel() && reply.str().starts_with("READONLY");
      complete(p.done, Error{ErrorKind::server, std::move(reply.str())});
      if (demoted && link_) drop({ErrorKind::disconnected, "the master became a replica"});
    } else {
      complete(p.done, std::move(reply));
    }
  }

  // ---- deadlines -----------------------------------------------------------------------------

  // One timer for the earliest deadline; it is re-armed from a scan when it fires, which happens
  // about once per command timeout under a steady load, not once per command.
  void arm(Clock::time_point deadline) {
    if (deadline >= armed_) return;
    armed_ = deadline;
    deadline_timer_.expires_at(deadline);
    deadline_timer_.async_wait([self = shared_from_this(), epoch = epoch_](boost::system::error_code ec) {
      if (ec != asio::error::operation_aborted && epoch == self->epoch_) self->on_deadline();
    });
  }

  // Queued commands past their deadline leave the queue and fail: never sent, they did not run,
  // and the connection is the reason they did not.
  void fail_expired_queued(Clock::time_point now) {
    std::deque<Pending> expired;
    std::erase_if(queued_, [&](Queued& q) {
      if (q.pending.deadline > now) return false;
      expired.push_back(std::move(q.pending));
      return true;
    });
    fail_all(std::move(expired), {ErrorKind::disconnected, "not connected before the deadline", false}, kNoLateness);
  }

  void on_deadline() {
    const auto now = Clock::now();
    armed_ = kNever;
    fail_expired_queued(now);
    // A command past a deadline of its own, shorter than command_timeout, fails alone and its reply
    // is skipped when it comes: the others on the connection are not its hostages. Only a command
    // unanswered for command_timeout since it was written says the server is silent: then the
    // connection is dropped.
    bool silent = false;
    std::vector<Completion> overdue;
    for (auto& p : inflight_) {
      if (p.deadline > now) continue;
      if (now - p.sent >= options_.command_timeout) {
        silent = true;
        continue;
      }
      if (p.done) overdue.push_back(std::exchange(p.done, nullptr));
      p.deadline = p.sent + options_.command_timeout;
    }
    for (auto& done : overdue) complete(done, Error{ErrorKind::timeout, "no reply before the deadline"});
    if (silent) drop({ErrorKind::timeout, "no reply before the deadline"});
    auto next = kNever;
    for (const auto& q : queued_) next = std::min(next, q.pending.deadline);
    for (const auto& p : inflight_) next = std::min(next, p.deadline);
    if (next != kNever) arm(next);
  }

  // ---- connecting ----------------------------------------------------------------------------

  void connect() {
    state_ = State::connecting;
    ++epoch_connect_;
    link_ = std::make_shared<Link>(ex_);
    if (url_.sentinel()) return ask_sentinel(link_, 0, {});
    if (url_.cluster()) {  // any node will do: after a loss, the next one
      const auto& node = url_.seeds[next_seed_++ % url_.seeds.size()];
      url_.host = node.host;
      url_.port = node.port;
      where_ = to_string(node);
    }
    open(link_);
  }

  // ---- Sentinel ------------------------------------------------------------------------------

  // Sentinel `at`; with `rotate`, all of them from that one on, as a URL of several nodes (the mode
  // of pub/sub on a cluster): its connection goes to the next after each loss.
  ConnectionOptions sentinel_options(std::size_t at, bool rotate = false) const {
    ConnectionOptions o;
    o.url = url_.tls ? (rotate ? "rediss-cluster://" : "rediss://") : (rotate ? "redis-cluster://" : "redis://");
    if (!options_.sentinel_password.empty())
      o.url += detail::percent_encode(options_.sentinel_user) + ":" + detail::percent_encode(options_.sentinel_password) + "@";
    o.url += to_string(url_.sentinels[at]);
    for (std::size_t i = 1; rotate && i < url_.sentinels.size(); ++i)
      o.url += "," + to_string(url_.sentinels[(at + i) % url_.sentinels.size()]);
    o.command_timeout = o.connect_timeout = options_.connect_timeout;
    o.reconnect_min = options_.reconnect_min;
    o.reconnect_max = options_.reconnect_max;
    o.tls = options_.tls;
    o.logger = logger_;
    return o;
  }

  // Asks the sentinels in turn, from the last one that answered, where the master is. One that is
  // down, does not know the name or answers oddly passes the question to the next; each has the
  // connect timeout to answer.
  void ask_sentinel(const std::shared_ptr<Link>& link, std::size_t tried, std::string failures) {
    if (tried == url_.sentinels.size())
      return drop({ErrorKind::disconnected, "no sentinel named the master " + url_.master_name + ": " + failures});
    auto options = sentinel_options(sentinel_at_);
    options.logger = null_logger();  // one line per question would flood the log while Redis is away
    options.reconnect_min = options.reconnect_max = std::chrono::hours(1);  // one attempt: the next sentinel is the retry
    asking_ = make_core(ex_, std::move(options));
    auto answered = std::make_shared<bool>(false);
    auto answer = [weak = weak_from_this(), link, tried, failures, answered](Result r) mutable {
      auto self = weak.lock();
      if (!self || *answered) return;
      *answered = true;
      if (link != self->link_) return;  // the attempt is over (stopped, or timed out)
      if (auto asking = std::move(self->asking_)) asking->stop();
      const Endpoint& from = self->url_.sentinels[self->sentinel_at_];
      std::uint16_t port = 0;
      if (r && r->is_array() && r->elements().size() == 2 && (*r)[0].is_string() && (*r)[1].is_string() &&
          parse_port((*r)[1].str(), port))
        return self->found_master(link, {(*r)[0].str(), port});
      const std::string why = !r ? r.error().to_string()
                              : r->is_nil() ? "does not know the name"
                                            : "an answer that is not an address";
      failures += (failures.empty() ? "" : "; ") + to_string(from) + " " + why;
      self->sentinel_at_ = (self->sentinel_at_ + 1) % self->url_.sentinels.size();
      self->ask_sentinel(link, tried + 1, std::move(failures));
    };
    asking_->hooks.disconnected = [answer](const Error& e) mutable { answer(e); };
    asking_->start();
    asking_->command(encode_command(std::array<std::string_view, 3>{"SENTINEL", "get-master-addr-by-name",
                                                                    url_.master_name}),
                     options_.connect_timeout, answer);
  }

  static bool parse_port(const std::string& text, std::uint16_t& port) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    return ec == std::errc() && end == text.data() + text.size() && port != 0;
  }

  void found_master(const std::shared_ptr<Link>& link, Endpoint master) {
    if (!url_.host.empty() && (master.host != url_.host || master.port != url_.port)) {
      counters_.bump(counters_.master_changes);
      logger_->log(LogLevel::warn, "redis", where_, "the master is now " + to_string(master));
    }
    url_.host = std::move(master.host);
    url_.port = master.port;
    where_ = to_string({url_.host, url_.port});
    follow_switches();
    open(link);
  }

  // +switch-master from the sentinel that answered last, and from the next one when that one is
  // lost: a failover ends the connection to the old master at once instead of at its first
  // READONLY reply or lost connection.
  void follow_switches() {
    if (switches_ && switches_from_ == sentinel_at_) return;
    switches_.reset();
    switches_from_ = sentinel_at_;
    switches_ = std::make_unique<Subscriber>(ex_, sentinel_options(sentinel_at_, true));
    switches_->on_message([weak = weak_from_this()](std::string_view, std::string_view message) {
      // <master name> <old ip> <old port> <new ip> <new port>
      auto self = weak.lock();
      if (!self || self->state_ != State::ready) return;
      std::vector<std::string_view> words;
      for (std::size_t at = 0; at <= message.size();) {
        const auto space = std::min(message.find(' ', at), message.size());
        words.push_back(message.substr(at, space - at));
        at = space + 1;
      }
      if (words.size() != 5 || words[0] != self->url_.master_name) return;
      if (words[3] == self->url_.host && words[4] == std::to_string(self->url_.port)) return;
      self->drop({ErrorKind::disconnected, "failover: the master moved to " + std::string(words[3]) + ":" +
                                               std::string(words[4])});
    });
    switches_->start();
    switches_->subscribe("+switch-master");
  }

  // ---- the server ----------------------------------------------------------------------------

  void open(const std::shared_ptr<Link>& link) {
    connect_timer_.expires_after(options_.connect_timeout);
    connect_timer_.async_wait([self = shared_from_this(), link](boost::system::error_code ec) {
      if (!ec && link == self->link_ && self->state_ != State::ready)
        self->drop({ErrorKind::disconnected, "connect timed out"});
    });
    link->resolver.async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this(), link](boost::system::error_code ec, const tcp::resolver::results_type& endpoints) {
          if (link != self->link_) return;
          if (ec)
            return self->drop({ErrorKind::disconnected, "cannot resolve " + self->url_.host + ": " + ec.message()});
          asio::async_connect(link->socket, endpoints,
                              [self, link](boost::system::error_code ec, const tcp::endpoint&) {
                                if (link != self->link_) return;
                                if (ec) return self->drop({ErrorKind::disconnected, "cannot connect: " + ec.message()});
                                self->connected_tcp(link);
                              });
        });
  }

  void connected_tcp(const std::shared_ptr<Link>& link) {
    boost::system::error_code ignored;
    link->socket.set_option(tcp::no_delay(true), ignored);
    ::fcntl(link->socket.native_handle(), F_SETFD, FD_CLOEXEC);  // not into children we spawn
    if (!url_.tls) return handshake(link);
    try {
      const auto& name = options_.tls.server_name.empty() ? url_.host : options_.tls.server_name;
      auto ssl = detail::make_client_ssl(tls_context_.get(), name);
      link->tls = std::make_unique<TlsStream>(std::move(link->socket), ssl.release());
    } catch (const std::exception& e) {
      return drop({ErrorKind::tls, e.what()}, true);
    }
    link->tls->async_handshake(asio::ssl::stream_base::client,
                               [self = shared_from_this(), link](boost::system::error_code ec) {
                                 if (link != self->link_) return;
                                 if (!ec) return self->handshake(link);
                                 // An untrusted certificate stays so on the next attempt; a reset may not.
                                 SSL* ssl = link->tls->native_handle();
                                 self->drop({ErrorKind::tls, "TLS handshake failed: " + detail::tls_failure(ssl, ec)},
                                            detail::certificate_rejected(ssl));
                               });
  }

  // AUTH, SELECT, CLIENT SETNAME (and a subscriber's subscriptions) before any user command.
  void handshake(const std::shared_ptr<Link>& link) {
    state_ = State::handshaking;
    read(link);
    std::vector<std::string> commands;
    if (!url_.password.empty()) {
      std::vector<std::string_view> auth{"AUTH"};
      if (!url_.user.empty()) auth.push_back(url_.user);
      auth.push_back(url_.password);
      commands.push_back(encode_command(auth));
    }
    // A sentinel's answer may be stale (a failover under way): only a master will do.
    const std::size_t role_at = url_.sentinel() ? commands.size() : SIZE_MAX;
    if (url_.sentinel()) commands.push_back(encode_command(std::array<std::string_view, 1>{"ROLE"}));
    if (url_.db != 0) commands.push_back(encode_command(std::array<std::string, 2>{"SELECT", std::to_string(url_.db)}));
    if (!options_.client_name.empty())
      commands.push_back(encode_command(std::array<std::string_view, 3>{"CLIENT", "SETNAME", options_.client_name}));
    if (hooks.handshake)
      guarded("the handshake hook", [&] {
        for (auto& c : hooks.handshake()) commands.push_back(std::move(c));
      });
    handshake_left_ = commands.size();
    if (commands.empty()) return ready(link);
    for (std::size_t i = 0; i < commands.size(); ++i) {
      send(*link, commands[i]);
      const bool role = i == role_at;
      inflight_.push_back({[this, link, role](Result r) {
                             if (link != link_) return;  // the attempt already failed
                             if (!r) return drop(r.error(), r.error().kind == ErrorKind::server && !role);
                             if (role && !(r->is_array() && !r->elements().empty() && (*r)[0].is_string() &&
                                           (*r)[0].str() == "master"))
                               return drop({ErrorKind::disconnected, where_ + " is not the master"});
                             if (--handshake_left_ == 0) ready(link);
                           },
                           Clock::now(), kNever});
    }
    flush(link);
  }

  void ready(const std::shared_ptr<Link>& link) {
    connect_timer_.cancel();
    state_ = State::ready;
    ready_.store(true, std::memory_order_release);
    definite_.reset();
    attempt_ = 0;
    counters_.bump(counters_.connects);
    if (ever_connected_) counters_.bump(counters_.reconnects);
    ever_connected_ = true;
    logger_->log(LogLevel::info, "redis", where_, "connected");
    if (hooks.connected) guarded("the on_connected hook", hooks.connected);
    if (link != link_) return;  // the hook stopped it
    // What waited past its deadline is not sent: it would only be late.
    const auto now = Clock::now();
    fail_expired_queued(now);
    if (link != link_) return;  // a completion stopped it
    for (auto& q : take(queued_)) {
      send(*link, q.bytes);
      q.pending.sent = now;
      inflight_.push_back(std::move(q.pending));
    }
    flush(link);
    check_health(link);
  }

  // An idle connection gets a PING now and then, so that a peer gone silent (a paused server, a
  // lost network) is noticed through the PING's deadline even when no command is sent: the
  // subscriber's case. Not while commands are in flight: their deadlines do the same, and a PING
  // behind an XREADGROUP ... BLOCK would time out for nothing.
  void check_health(const std::shared_ptr<Link>& link) {
    if (options_.health_check_interval.count() <= 0) return;
    health_timer_.expires_after(options_.health_check_interval);
    health_timer_.async_wait([self = shared_from_this(), link](boost::system::error_code ec) {
      if (ec || link != self->link_ || self->state_ != State::ready) return;
      if (self->inflight_.empty()) {
        static const std::string kPing = encode_command(std::array<std::string_view, 1>{"PING"});
        const auto now = Clock::now();
        self->send(*link, kPing);
        self->inflight_.push_back({nullptr, now, now + self->options_.command_timeout, now});
        self->arm(self->inflight_.back().deadline);
        self->flush(link);
      }
      self->check_health(link);
    });
  }

  // The connection (or the attempt) is over: commands sent on it fail (timeout for those past
  // their deadline, `why` for the others), the queued ones keep waiting unless the failure is
  // definite, and the next attempt is scheduled.
  void drop(const Error& why, bool definite = false) {
    if (!link_) return;
    const bool was_ready = state_ == State::ready;
    close_link();
    const auto now = Clock::now();
    if (was_ready) counters_.bump(counters_.connection_losses);
    logger_->log(was_ready ? LogLevel::warn : LogLevel::info, "redis", where_,
                 (was_ready ? "connection lost: " : "connect attempt failed: ") + why.to_string());
    if (definite) {
      definite_ = why;
      fail_all(take_queued(), unsent(why), kNoLateness);
    }
    const Error lost =
        why.kind == ErrorKind::timeout ? Error{ErrorKind::disconnected, "connection dropped: " + why.message} : why;
    fail_all(take(inflight_), lost, now);
    if (stopped_) return;  // a completion called stop()
    if (hooks.disconnected) guarded("the on_disconnected hook", [&] { hooks.disconnected(why); });
    if (stopped_ || link_) return;  // the hook stopped or restarted it
    retry();
  }

  void retry() {
    state_ = State::retrying;
    ++attempt_;
    connect_timer_.expires_after(backoff(attempt_));
    connect_timer_.async_wait([self = shared_from_this(), epoch = epoch_connect_](boost::system::error_code ec) {
      if (!ec && epoch == self->epoch_connect_ && self->state_ == State::retrying && !self->stopped_) self->connect();
    });
  }

  std::chrono::milliseconds backoff(unsigned attempt) {
    const auto min = std::max<std::int64_t>(options_.reconnect_min.count(), 1);
    const auto max = std::max<std::int64_t>(options_.reconnect_max.count(), min);
    std::int64_t wait = min;
    for (unsigned i = 1; i < attempt && wait < max; ++i) wait *= 2;
    wait = std::min(wait, max);
    const double jitter = std::clamp(options_.reconnect_jitter, 0.0, 1.0);
    const double r = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(wait) * (1.0 - jitter * r)));
  }

  void close_link() {
    if (link_) link_->close();
    link_.reset();
    if (auto asking = std::move(asking_)) asking->stop();
    ready_.store(false, std::memory_order_release);
    if (state_ != State::idle) state_ = State::retrying;
  }

  // ---- completions ---------------------------------------------------------------------------

  template <class T>
  static T take(T& from) {
    T out;
    out.swap(from);
    return out;
  }

  std::deque<Pending> take_queued() {
    std::deque<Pending> out;
    for (auto& q : take(queued_)) out.push_back(std::move(q.pending));
    return out;
  }

  static Error unsent(Error e) {
    e.sent = false;
    return e;
  }

  // Late (deadline <= now) ones fail with timeout, the others with `why`; in order.
  void fail_all(std::deque<Pending> pending, const Error& why, Clock::time_point now) {
    for (auto& p : pending) {
      if (p.deadline <= now && p.deadline != kNever)
        complete(p.done, Error{ErrorKind::timeout, "no reply before the deadline", why.sent});
      else
        complete(p.done, why);
    }
  }

  void complete(Completion& done, Result result) {
    if (!result.ok()) counters_.count_failure(result.error().kind);
    if (done) guarded("a command's completion", [&] { done(std::move(result)); });
  }

  // Never inline in command(): the caller may hold a lock the completion wants.
  void fail_later(Completion done, Error why) {
    asio::post(ex_, [self = shared_from_this(), done = std::move(done), why = std::move(why)]() mutable {
      self->complete(done, std::move(why));
    });
  }

  template <class Fn>
  void guarded(const char* what, Fn&& fn) noexcept {
    try {
      fn();
    } catch (const std::exception& e) {
      logger_->log(LogLevel::error, "redis", where_, std::string(what) + " threw: " + e.what());
    } catch (...) {
      logger_->log(LogLevel::error, "redis", where_, std::string(what) + " threw a non-exception");
    }
  }

  asio::any_io_executor ex_;
  ConnectionOptions options_;
  Url url_;
  std::shared_ptr<Logger> logger_;
  std::string where_;  // host:port, the identity in log records
  detail::SslContext tls_context_;

  State state_ = State::idle;
  bool stopped_ = false;
  bool ever_connected_ = false;
  std::shared_ptr<Link> link_;
  std::deque<Pending> inflight_;  // replies come in this order
  std::deque<Queued> queued_;     // waiting for a connection
  std::size_t handshake_left_ = 0;
  std::optional<Error> definite_;  // why the last attempt failed, while it stands
  unsigned attempt_ = 0;           // attempts since the last connect

  asio::steady_timer deadline_timer_;
  Clock::time_point armed_ = kNever;
  std::uint64_t epoch_ = 0;           // bumped by stop(): the deadline timer's old waits are void
  asio::steady_timer connect_timer_;  // the connect deadline, then the wait before the next attempt
  std::uint64_t epoch_connect_ = 0;
  asio::steady_timer health_timer_;
  std::minstd_rand random_;

  std::size_t next_seed_ = 0;             // a cluster URL's node connected to next
  std::size_t sentinel_at_ = 0;           // the sentinel asked first: the last that answered
  std::shared_ptr<Core> asking_;          // the connection to the sentinel being asked
  std::unique_ptr<Subscriber> switches_;  // +switch-master from url_.sentinels[switches_from_]
  std::size_t switches_from_ = 0;

  std::atomic<bool> ready_{false};
  Counters counters_;
};

}  // namespace

std::shared_ptr<Core> make_core(boost::asio::any_io_executor executor, ConnectionOptions options, bool any_node) {
  return std::make_shared<CoreImpl>(std::move(executor), std::move(options), any_node);
}

}  // namespace ocpp::redis
