// cluster_bench: routed calls between two clustered ocpp::Servers, against local calls, in one run.
//
//   cluster_bench [--redis URL [--redis-pid PID[,PID...]]] [--stations 100] [--rate 1000] [--seconds 10] [--in-flight 4]
//                 [--unknown-seconds 3] [--warmup-calls 5000] [--only redis,memory] [--json-out FILE]
//
// Node A is an ocpp::Server with its own I/O thread and --stations ocpp::Client stations on
// loopback (one I/O thread for all stations), which answer GetConfiguration synchronously. Node B
// (the backend) is another ocpp::Server on a third I/O thread with --stations stations of its own.
// Both share a cluster adapter: a RedisAdapter each on one redis-server (started here on a free
// port unless --redis is given; that one should be empty, as its INFO commandstats are read; a
// redis-cluster:// URL's seeds should be its masters, whose INFO and CPU are summed), or
// one MemoryAdapter (both servers in this process: the reference line). Everything but Redis runs
// in this process; on a 2-core machine the four threads and redis-server share the cores.
//
// Runs, calls issued from B's I/O thread, latency from send_to_client() to its completion there:
//   latency     open loop: --rate calls/s on a timer for --seconds (calls do not wait for each
//               other; a late timer issues what is due at once), round-robin over the stations
//   throughput  closed loop: --in-flight calls per station for --seconds, each completion issuing
//               the next call to the same station; calls/s = calls completed within the window
//   unknown     open loop at --rate for --unknown-seconds to "NOBODY" (not connected anywhere)
// each against A's stations (routed) and B's own stations (local: no cluster involved). With
// Redis, INFO commandstats is read before and after every run: Redis commands per call, by
// command (background work such as lease renewals included; the INFO calls themselves not), and
// redis-server's CPU per call from /proc.
//
// Prints a table; --json-out writes every figure as one JSON object.
#include <sys/resource.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "ocpp/cluster/memory_adapter.hpp"
#include "ocpp/cluster/redis_adapter.hpp"
#include "ocpp/ocpp.hpp"
#include "ocpp/redis/url.hpp"
#include "support/redis_server.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace ocpp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Args {
  std::string redis_url;
  std::vector<pid_t> redis_pids;  // with --redis: the servers' pids, for their CPU per call
  std::size_t stations = 100;
  double rate = 1000;
  double seconds = 10;
  std::size_t in_flight = 4;
  double unknown_seconds = 3;
  std::size_t warmup_calls = 5000;
  std::vector<std::string> only{"redis", "memory"};
  std::string json_out;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "cluster_bench: " << why
            << "\nusage: cluster_bench [--redis URL [--redis-pid PID[,PID...]]] [--stations 100] [--rate 1000] [--seconds 10] [--in-flight 4]"
               " [--unknown-seconds 3] [--warmup-calls 5000] [--only redis,memory] [--json-out FILE]\n";
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(k + " needs a value");
      return argv[++i];
    };
    if (k == "--redis") a.redis_url = value();
    else if (k == "--redis-pid") {
      std::stringstream s(value());
      for (std::string pid; std::getline(s, pid, ',');) a.redis_pids.push_back(static_cast<pid_t>(std::stol(pid)));
    }
    else if (k == "--stations") a.stations = std::stoul(value());
    else if (k == "--rate") a.rate = std::stod(value());
    else if (k == "--seconds") a.seconds = std::stod(value());
    else if (k == "--in-flight") a.in_flight = std::stoul(value());
    else if (k == "--unknown-seconds") a.unknown_seconds = std::stod(value());
    else if (k == "--warmup-calls") a.warmup_calls = std::stoul(value());
    else if (k == "--json-out") a.json_out = value();
    else if (k == "--only") {
      a.only.clear();
      std::stringstream s(value());
      for (std::string item; std::getline(s, item, ',');) a.only.push_back(item);
    } else usage("unknown argument " + k);
  }
  if (a.stations == 0 || a.rate <= 0 || a.seconds <= 0 || a.in_flight == 0) usage("counts and rates must be positive");
  return a;
}

template <class T>
T get(std::future<T> f, milliseconds limit = milliseconds(30000)) {
  if (f.wait_for(limit) != std::future_status::ready) throw std::runtime_error("timed out waiting");
  return f.get();
}

// redis-server's utime + stime in µs, from /proc (0 when not ours to read).
double proc_cpu_us(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  auto rest = stat.find(") ");
  if (rest == std::string::npos) return 0;
  std::stringstream s(stat.substr(rest + 2));
  std::string field;
  double ticks = 0;
  for (int i = 1; i <= 13 && s >> field; ++i)
    if (i == 12 || i == 13) ticks += std::stod(field);
  return ticks * 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double self_cpu_us() {
  rusage r{};
  ::getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

// INFO commandstats as command -> calls.
std::map<std::string, std::uint64_t> commandstats(redis::Connection& c) {
  std::promise<std::string> p;
  c.command({"INFO", "commandstats"}, [&](redis::Result r) { p.set_value(r ? r->str() : std::string()); });
  std::map<std::string, std::uint64_t> out;
  std::stringstream s(get(p.get_future()));
  for (std::string line; std::getline(s, line);) {
    // cmdstat_evalsha:calls=12,usec=...
    if (!line.starts_with("cmdstat_")) continue;
    auto colon = line.find(':'), calls = line.find("calls=");
    if (colon == std::string::npos || calls == std::string::npos) continue;
    out[line.substr(8, colon - 8)] = std::stoull(line.substr(calls + 6));
  }
  return out;
}

struct RunResult {
  std::string setup, target, shape;  // redis|memory, routed|local|unknown, latency|throughput
  double seconds = 0;
  std::uint64_t calls = 0, errors = 0;
  std::map<std::string, std::uint64_t> error_kinds;
  std::vector<double> latency_ms;  // sorted
  double calls_per_s = 0;
  double max_issue_lag_ms = 0;  // open loop: how late the timer issued a call
  std::map<std::string, double> redis_per_call;        // top-level commands, by INFO commandstats
  std::map<std::string, double> redis_in_scripts_per_call;  // commands the Lua scripts ran
  double redis_total_per_call = 0;  // commands the nodes sent (their adapters' count)
  double redis_cpu_us_per_call = 0;
  double process_cpu_us_per_call = 0;
  bool has_redis = false;

  double pct(double p) const {
    if (latency_ms.empty()) return 0;
    auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(latency_ms.size() - 1) + 0.5);
    return latency_ms[std::min(i, latency_ms.size() - 1)];
  }
};

std::string error_kind(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const cluster::RouteError& r) {
    return std::string(cluster::to_string(r.outcome()));
  } catch (const RpcError& r) {
    return "call_error:" + r.wire_code();
  } catch (const TimeoutError&) {
    return "timeout";
  } catch (const std::exception& x) {
    return x.what();
  }
}

// Two clustered servers (A with stations, B the backend with stations of its own) and the stations.
class Cluster {
 public:
  Cluster(const Args& args, std::string setup, const std::string& redis_url) : args_(args), setup_(std::move(setup)) {
    for (auto* p : {&pool_a_, &pool_b_, &pool_s_}) p->start();
    std::shared_ptr<cluster::Adapter> adapter_a, adapter_b;
    if (setup_ == "redis") {
      cluster::RedisAdapterOptions r;
      r.connection.url = redis_url;
      r.connection.logger = make_pretty_logger(LogLevel::warn, stderr);
      adapter_a = std::make_shared<cluster::RedisAdapter>(pool_a_.executor(), r);
      adapter_b = std::make_shared<cluster::RedisAdapter>(pool_b_.executor(), r);
    } else {
      adapter_a = adapter_b = std::make_shared<cluster::MemoryAdapter>();
    }
    lookup_ = adapter_b;
    if (setup_ == "redis") adapters_ = {adapter_a, adapter_b};
    a_ = make_server(pool_a_, adapter_a, "bench-A");
    b_ = make_server(pool_b_, adapter_b, "bench-B");
    const auto port_a = a_->listen(0, "127.0.0.1"), port_b = b_->listen(0, "127.0.0.1");
    std::vector<std::future<void>> connected;
    for (std::size_t i = 0; i < args_.stations; ++i) {
      connected.push_back(station(port_a, "A-CP" + std::to_string(i)));
      connected.push_back(station(port_b, "B-CP" + std::to_string(i)));
    }
    for (auto& f : connected) get(std::move(f));
    wait_claimed();
  }
  ~Cluster() {
    for (auto& c : stations_) c->close(CloseOptions{}, [](CloseResult) {});
    a_.reset();
    b_.reset();
    stations_.clear();
    for (auto* p : {&pool_a_, &pool_b_, &pool_s_}) {
      p->stop();
      p->join();
    }
  }

  std::vector<std::string> targets(const std::string& prefix) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < args_.stations; ++i) out.push_back(prefix + "-CP" + std::to_string(i));
    return out;
  }

  // Open loop: `rate` calls/s for `seconds`, round-robin over `ids`, issued on B's thread.
  RunResult open_loop(const std::vector<std::string>& ids, double rate, double seconds) {
    RunResult r;
    const auto total = static_cast<std::size_t>(rate * seconds);
    const auto period = std::chrono::duration<double>(1.0 / rate);
    struct Loop {
      RunResult* r;
      std::size_t total, issued = 0, done = 0;
      Clock::time_point t0;
      std::promise<void> finished;
      std::unique_ptr<asio::steady_timer> timer;
      std::function<void()> tick;  // refers to the loop: reset once every call has completed
    };
    auto loop = std::make_shared<Loop>();
    loop->r = &r;
    loop->total = total;
    r.latency_ms.reserve(total);
    auto finished = loop->finished.get_future();
    asio::post(pool_b_.executor(), [this, loop, ids, period] {
      loop->timer = std::make_unique<asio::steady_timer>(pool_b_.executor());
      loop->t0 = Clock::now();
      loop->tick = [this, loop, ids, period] {
        const auto now = Clock::now();
        while (loop->issued < loop->total) {
          const auto due = loop->t0 + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(loop->issued));
          if (due > now) break;
          loop->r->max_issue_lag_ms = std::max(loop->r->max_issue_lag_ms, std::chrono::duration<double, std::milli>(now - due).count());
          issue(ids[loop->issued % ids.size()], [this, loop](double ms, std::exception_ptr e) {
            note(*loop->r, ms, e);
            if (++loop->done < loop->total) return;
            // Not inline: this may run inside `tick`.
            asio::post(pool_b_.executor(), [loop] { loop->tick = nullptr; });
            loop->finished.set_value();
          });
          ++loop->issued;
        }
        if (loop->issued == loop->total) return;
        loop->timer->expires_at(loop->t0 + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(loop->issued)));
        loop->timer->async_wait([loop](boost::system::error_code ec) {
          if (!ec && loop->tick) loop->tick();
        });
      };
      loop->tick();
    });
    const auto start = Clock::now();
    get(std::move(finished), milliseconds(static_cast<long>(seconds * 1000) + 60000));
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    r.calls = total;
    r.calls_per_s = static_cast<double>(total) / r.seconds;
    return r;
  }

  // Closed loop: `in_flight` chains per station for `seconds`.
  RunResult closed_loop(const std::vector<std::string>& ids, std::size_t in_flight, double seconds) {
    RunResult r;
    struct Loop {
      RunResult* r;
      Clock::time_point end;
      std::size_t chains = 0, completed_in_window = 0;
      std::promise<void> finished;
    };
    auto loop = std::make_shared<Loop>();
    loop->r = &r;
    loop->chains = ids.size() * in_flight;
    auto finished = loop->finished.get_future();
    asio::post(pool_b_.executor(), [this, loop, ids, in_flight, seconds] {
      loop->end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
      for (std::size_t k = 0; k < in_flight; ++k)
        for (const auto& id : ids) chain(loop, id);
    });
    get(std::move(finished), milliseconds(static_cast<long>(seconds * 1000) + 60000));
    r.seconds = seconds;
    r.calls = loop->completed_in_window;
    r.calls_per_s = static_cast<double>(r.calls) / seconds;
    return r;
  }

  void warm_up(const std::vector<std::string>& ids, std::size_t calls) {
    if (calls == 0) return;
    (void)closed_loop(ids, 1, std::max(0.5, static_cast<double>(calls) / 5000.0));
  }

  const std::string& setup() const { return setup_; }
  // Commands the nodes' Redis adapters have issued (not those their scripts run inside Redis).
  std::uint64_t adapter_commands() const {
    std::uint64_t n = 0;
    for (auto& a : adapters_) n += a->metrics().commands;
    return n;
  }

 private:
  template <class Loop>
  void chain(const std::shared_ptr<Loop>& loop, const std::string& id) {
    issue(id, [this, loop, id](double ms, std::exception_ptr e) {
      if (Clock::now() <= loop->end) {
        note(*loop->r, ms, e);
        ++loop->completed_in_window;
        return chain(loop, id);
      }
      if (--loop->chains == 0) loop->finished.set_value();
    });
  }

  // On B's thread; `done(latency ms, error)` runs there too.
  template <class Done>
  void issue(const std::string& id, Done done) {
    const auto t = Clock::now();
    b_->send_to_client(id, "GetConfiguration", json::object{}, CallOptions{},
                       [t, done = std::move(done)](std::exception_ptr e, json::value) mutable {
                         done(std::chrono::duration<double, std::milli>(Clock::now() - t).count(), e);
                       });
  }

  static void note(RunResult& r, double ms, std::exception_ptr e) {
    r.latency_ms.push_back(ms);
    if (e) {
      ++r.errors;
      ++r.error_kinds[error_kind(e)];
    }
  }

  std::unique_ptr<Server> make_server(IoPool& pool, std::shared_ptr<cluster::Adapter> adapter, const std::string& name) {
    ServerOptions o;
    o.protocols = {"ocpp1.6"};
    o.logger = make_pretty_logger(LogLevel::warn, stderr);
    o.cluster.adapter = std::move(adapter);
    o.cluster.node_id = name;
    return std::make_unique<Server>(pool.executor(), o);
  }

  std::future<void> station(std::uint16_t port, const std::string& identity) {
    ClientOptions o;
    o.endpoint = "ws://127.0.0.1:" + std::to_string(port) + "/ocpp";
    o.identity = identity;
    o.protocols = {"ocpp1.6"};
    o.logger = make_pretty_logger(LogLevel::warn, stderr);
    o.reconnect = false;
    auto c = Client::create(pool_s_.executor(), o);
    c->handle("GetConfiguration", [identity](CallContext&) -> HandlerResult {
      return json::object{{"configurationKey", json::array{json::object{{"key", "Identity"}, {"readonly", true}, {"value", identity}}}}};
    });
    stations_.push_back(c);
    return c->connect(asio::use_future);
  }

  // Routed calls find a station once its node's claim is in the store.
  void wait_claimed() {
    auto ids = targets("A");
    for (int attempt = 0; attempt < 1000; ++attempt) {
      std::promise<bool> all;
      lookup_->lookup(ids, [&](cluster::Result<std::vector<std::optional<cluster::Owner>>> r) {
        auto* owners = std::get_if<std::vector<std::optional<cluster::Owner>>>(&r);
        bool ok = owners != nullptr;
        if (ok)
          for (auto& o : *owners) ok = ok && o && o->node.name == "bench-A";
        all.set_value(ok);
      });
      if (get(all.get_future())) return;
      std::this_thread::sleep_for(milliseconds(10));  // a claim has no event outside its node
    }
    throw std::runtime_error("the stations of node A were never all claimed");
  }

  const Args& args_;
  std::string setup_;
  IoPool pool_a_{1}, pool_b_{1}, pool_s_{1};
  std::shared_ptr<cluster::Adapter> lookup_;
  std::vector<std::shared_ptr<cluster::Adapter>> adapters_;  // Redis: A's and B's
  std::unique_ptr<Server> a_, b_;
  std::vector<std::shared_ptr<Client>> stations_;
};

// Measures `run` with INFO commandstats, redis-server's and this process's CPU around it.
// Commands that reach Redis only from clients, never from the adapter's scripts; INFO commandstats
// counts what a script runs too, so the others are reported as run inside scripts (in the steady
// state of routed calls the adapter sends none of them itself).
// HMGET is sent on its own to a Redis Cluster (the owner, before queueing), run in a script on one server.
bool top_level(const std::string& cmd, bool cluster) {
  if (cmd == "hmget") return cluster;
  static const std::vector<std::string> names{"evalsha", "eval", "xreadgroup", "xread", "xtrim", "ping",
                                              "publish", "client|setname", "info", "hello", "auth", "select"};
  return std::find(names.begin(), names.end(), cmd) != names.end();
}

// Summed over the servers (the masters of a cluster).
std::map<std::string, std::uint64_t> commandstats(const std::vector<std::unique_ptr<redis::Connection>>& servers) {
  std::map<std::string, std::uint64_t> sum;
  for (const auto& c : servers)
    for (auto& [cmd, calls] : commandstats(*c)) sum[cmd] += calls;
  return sum;
}

double proc_cpu_us(const std::vector<pid_t>& pids) {
  double sum = 0;
  for (auto pid : pids) sum += proc_cpu_us(pid);
  return sum;
}

template <class F>
RunResult measured(const std::vector<std::unique_ptr<redis::Connection>>& info, const std::vector<pid_t>& redis_pids,
                   const Cluster& cluster, F run) {
  std::map<std::string, std::uint64_t> before;
  if (!info.empty()) before = commandstats(info);
  const auto sent_before = cluster.adapter_commands();
  const double redis_before = proc_cpu_us(redis_pids), self_before = self_cpu_us();
  RunResult r = run();
  const double self_after = self_cpu_us(), redis_after = proc_cpu_us(redis_pids);
  const auto sent_after = cluster.adapter_commands();
  const double n = std::max<double>(1, static_cast<double>(r.calls));
  r.process_cpu_us_per_call = (self_after - self_before) / n;
  if (!info.empty()) {
    auto after = commandstats(info);
    r.has_redis = true;
    for (auto& [cmd, calls] : after) {
      auto delta = static_cast<double>(calls - (before.contains(cmd) ? before[cmd] : 0));
      if (cmd == "info") delta -= static_cast<double>(info.size());  // the INFOs that read `before`
      if (delta <= 0) continue;
      (top_level(cmd, /*cluster: an INFO connection per master*/ info.size() > 1) ? r.redis_per_call : r.redis_in_scripts_per_call)[cmd] = delta / n;
    }
    r.redis_total_per_call = static_cast<double>(sent_after - sent_before) / n;
    if (!redis_pids.empty()) r.redis_cpu_us_per_call = (redis_after - redis_before) / n;
  }
  std::sort(r.latency_ms.begin(), r.latency_ms.end());
  return r;
}

json::object to_json(const RunResult& r) {
  json::object o{{"setup", r.setup},
                 {"target", r.target},
                 {"shape", r.shape},
                 {"seconds", r.seconds},
                 {"calls", r.calls},
                 {"errors", r.errors},
                 {"calls_per_s", r.calls_per_s},
                 {"latency_ms", json::object{{"p50", r.pct(50)}, {"p90", r.pct(90)}, {"p99", r.pct(99)},
                                             {"p999", r.pct(99.9)}, {"max", r.latency_ms.empty() ? 0.0 : r.latency_ms.back()}}},
                 {"process_cpu_us_per_call", r.process_cpu_us_per_call}};
  if (r.shape == "latency") o["max_issue_lag_ms"] = r.max_issue_lag_ms;
  json::object kinds;
  for (auto& [k, n] : r.error_kinds) kinds[k] = n;
  o["error_kinds"] = kinds;
  if (r.has_redis) {
    json::object per;
    for (auto& [k, v] : r.redis_per_call) per[k] = v;
    o["redis_commands_per_call"] = per;
    o["redis_commands_per_call_total"] = r.redis_total_per_call;
    json::object inner;
    for (auto& [k, v] : r.redis_in_scripts_per_call) inner[k] = v;
    o["redis_commands_in_scripts_per_call"] = inner;
    o["redis_cpu_us_per_call"] = r.redis_cpu_us_per_call;
  }
  return o;
}

std::string fmt(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  std::unique_ptr<ocpp_test::RedisServer> own_redis;
  std::string redis_url = args.redis_url;
  std::vector<pid_t> redis_pids = args.redis_pids;
  const bool want_redis = std::find(args.only.begin(), args.only.end(), "redis") != args.only.end();
  if (want_redis && redis_url.empty()) {
    own_redis = std::make_unique<ocpp_test::RedisServer>();
    redis_url = own_redis->url();
    redis_pids = {own_redis->pid()};
  }

  std::vector<RunResult> results;
  for (const auto& setup : args.only) {
    if (setup != "redis" && setup != "memory") throw std::invalid_argument("--only takes redis and memory");
    std::cerr << "[" << setup << "] connecting " << 2 * args.stations << " stations\n";
    Cluster cluster(args, setup, redis_url);
    IoPool info_pool{1};
    info_pool.start();
    std::vector<std::unique_ptr<redis::Connection>> info;  // one per server
    if (setup == "redis") {
      redis::ConnectionOptions o;
      o.client_name = "cluster-bench-info";
      o.logger = make_pretty_logger(LogLevel::warn, stderr);
      const auto url = redis::parse_url(redis_url);
      std::vector<std::string> servers{redis_url};
      if (url.cluster()) {
        servers.clear();
        for (const auto& seed : url.seeds) servers.push_back((url.tls ? "rediss://" : "redis://") + redis::to_string(seed));
      }
      for (const auto& server : servers) {
        o.url = server;
        info.push_back(std::make_unique<redis::Connection>(info_pool.executor(), o));
        info.back()->start();
      }
    }
    auto routed = cluster.targets("A"), local = cluster.targets("B");
    cluster.warm_up(routed, args.warmup_calls);
    cluster.warm_up(local, args.warmup_calls);
    // Local calls involve no cluster; with Redis they are measured in its setup only.
    std::vector<std::pair<std::string, const std::vector<std::string>*>> targets{{"routed", &routed}};
    if (setup == "redis" || std::find(args.only.begin(), args.only.end(), "redis") == args.only.end())
      targets.emplace_back("local", &local);
    for (auto& [name, ids] : targets) {
      std::cerr << "[" << setup << "] " << name << ": " << args.rate << " calls/s for " << args.seconds << " s\n";
      auto r = measured(info, redis_pids, cluster, [&] { return cluster.open_loop(*ids, args.rate, args.seconds); });
      r.setup = setup, r.target = name, r.shape = "latency";
      results.push_back(std::move(r));
      std::cerr << "[" << setup << "] " << name << ": closed loop, " << args.in_flight << " in flight per station for "
                << args.seconds << " s\n";
      r = measured(info, redis_pids, cluster, [&] { return cluster.closed_loop(*ids, args.in_flight, args.seconds); });
      r.setup = setup, r.target = name, r.shape = "throughput";
      results.push_back(std::move(r));
    }
    std::cerr << "[" << setup << "] unknown station: " << args.rate << " calls/s for " << args.unknown_seconds << " s\n";
    const std::vector<std::string> nobody{"NOBODY"};
    auto r = measured(info, redis_pids, cluster, [&] { return cluster.open_loop(nobody, args.rate, args.unknown_seconds); });
    r.setup = setup, r.target = "unknown", r.shape = "latency";
    results.push_back(std::move(r));
    for (auto& c : info) c->stop();
    info_pool.stop();
    info_pool.join();
  }

  // Table.
  std::printf("%-7s %-8s %-10s %9s %10s %8s %8s %8s %8s %7s %9s %9s\n", "setup", "target", "shape", "calls", "calls/s",
              "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "redis/cl", "redis us");
  for (const auto& r : results)
    std::printf("%-7s %-8s %-10s %9llu %10.0f %8.3f %8.3f %8.3f %8.2f %7llu %9s %9s\n", r.setup.c_str(), r.target.c_str(),
                r.shape.c_str(), static_cast<unsigned long long>(r.calls), r.calls_per_s, r.pct(50), r.pct(90), r.pct(99),
                r.latency_ms.empty() ? 0.0 : r.latency_ms.back(), static_cast<unsigned long long>(r.errors),
                r.has_redis ? fmt(r.redis_total_per_call, 2).c_str() : "-",
                r.has_redis ? fmt(r.redis_cpu_us_per_call, 1).c_str() : "-");
  for (const auto& r : results) {
    for (auto& [k, n] : r.error_kinds)
      std::printf("%s %s %s: %llu errors %s\n", r.setup.c_str(), r.target.c_str(), r.shape.c_str(),
                  static_cast<unsigned long long>(n), k.c_str());
    if (!r.has_redis) continue;
    std::printf("redis commands per call, %s %s %s: %.3f sent:", r.setup.c_str(), r.target.c_str(), r.shape.c_str(),
                r.redis_total_per_call);
    for (auto& [cmd, v] : r.redis_per_call) std::printf(" %s %.3f", cmd.c_str(), v);
    std::printf("; inside scripts:");
    for (auto& [cmd, v] : r.redis_in_scripts_per_call) std::printf(" %s %.3f", cmd.c_str(), v);
    std::printf("\n");
  }

  if (!args.json_out.empty()) {
    json::array runs;
    for (const auto& r : results) runs.push_back(to_json(r));
    json::object out{{"config", json::object{{"stations", args.stations},
                                             {"rate", args.rate},
                                             {"seconds", args.seconds},
                                             {"in_flight", args.in_flight},
                                             {"unknown_seconds", args.unknown_seconds},
                                             {"redis", args.redis_url.empty() ? "own redis-server" : args.redis_url}}},
                     {"runs", runs}};
    std::ofstream(args.json_out) << json::serialize(out) << '\n';
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "cluster_bench: " << e.what() << "\n";
  return 1;
}
