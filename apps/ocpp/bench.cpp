// `ocpp bench`: a load generator for any OCPP-J server. C connections, each keeping K calls in
// flight, until N calls in total have completed; prints calls/s and latency percentiles.
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>

#include "commands.hpp"
#include "ocpp/ocpp.hpp"
#include "progress.hpp"

namespace ocpp::app {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Lane {
  std::shared_ptr<Client> client;
  std::vector<float> latencies_us;
};

struct Run {
  std::atomic<std::size_t> issued{0};
  std::atomic<std::size_t> completed{0};
  std::atomic<std::size_t> errors{0};
  std::size_t total = 0;
  std::string action;
  json::value payload;
  std::promise<void> done;
  std::atomic<bool> done_set{false};
  std::string first_error;
  std::mutex error_mutex;
};

void issue(Lane& lane, Run& run) {
  if (run.issued.fetch_add(1, std::memory_order_relaxed) >= run.total) return;
  const auto start = Clock::now();
  lane.client->call(run.action, run.payload, [&lane, &run, start](std::exception_ptr e, json::value) {
    lane.latencies_us.push_back(std::chrono::duration<float, std::micro>(Clock::now() - start).count());
    if (e) {
      if (run.errors++ == 0) {
        std::lock_guard lock(run.error_mutex);
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          run.first_error = ex.what();
        }
      }
    }
    if (run.completed.fetch_add(1, std::memory_order_relaxed) + 1 == run.total) {
      if (!run.done_set.exchange(true)) run.done.set_value();
      return;
    }
    issue(lane, run);
  });
}

double percentile(std::vector<float>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * double(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

}  // namespace

int bench(const BenchArgs& args) {
  IoPool pool(args.threads);
  auto executors = pool.executors();
  std::vector<Lane> lanes(args.clients);
  ClientOptions o;
  o.endpoint = args.url;
  o.protocols = {args.protocol};
  o.reconnect = false;
  o.ping_interval = milliseconds(0);
  o.call_concurrency = std::max<std::size_t>(1, args.concurrency);
  o.logger = null_logger();
  if (!args.password.empty()) o.password = args.password;
  o.tls.ca_file = args.ca;
  o.tls.verify_server = !args.no_verify;
  for (std::size_t i = 0; i < args.clients; ++i) {
    o.identity = "BENCH" + std::to_string(i + 1);
    lanes[i].client = Client::create(executors[i % executors.size()], o);
    lanes[i].latencies_us.reserve(args.calls / std::max<std::size_t>(1, args.clients) + 16);
  }
  pool.start();

  std::vector<std::future<void>> connects;
  for (auto& lane : lanes) connects.push_back(lane.client->connect(boost::asio::use_future));
  std::size_t connect_errors = 0;
  for (auto& f : connects) {
    try {
      f.get();
    } catch (const std::exception& e) {
      if (connect_errors++ == 0) std::cerr << "ocpp bench: connect failed: " << e.what() << "\n";
    }
  }
  if (connect_errors) return 1;

  Run run;
  run.total = args.calls;
  run.action = args.action;
  run.payload = json::parse(args.payload);
  auto done = run.done.get_future();
  const auto t0 = Clock::now();
  for (auto& lane : lanes)
    for (std::size_t k = 0; k < o.call_concurrency; ++k) issue(lane, run);
  if (run.total == 0) run.done.set_value();
  {
    Progress progress("ocpp bench", [&] {
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      char text[128];
      std::snprintf(text, sizeof text, "%zu/%zu calls, %.0f calls/s, %zu errors", std::size_t(run.completed),
                    run.total, double(run.completed) / s, std::size_t(run.errors));
      return std::string(text);
    });
    done.wait();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  for (auto& lane : lanes) lane.client->close(CloseOptions{});
  pool.stop();
  pool.join();

  std::vector<float> all;
  for (auto& lane : lanes) all.insert(all.end(), lane.latencies_us.begin(), lane.latencies_us.end());
  const double rate = double(run.completed) / seconds;
  const double p50 = percentile(all, 0.50) / 1000, p90 = percentile(all, 0.90) / 1000,
               p99 = percentile(all, 0.99) / 1000;
  char line[512];
  if (args.json) {
    std::snprintf(line, sizeof line,
                  "{\"clients\":%zu,\"calls\":%zu,\"concurrency\":%zu,\"seconds\":%.3f,\"calls_per_s\":%.0f,"
                  "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%zu}",
                  args.clients, std::size_t(run.completed), o.call_concurrency, seconds, rate, p50, p90, p99,
                  std::size_t(run.errors));
  } else {
    std::snprintf(line, sizeof line,
                  "ocpp bench: %zu calls over %zu connections (%zu in flight each) in %.2f s\n"
                  "  %.0f calls/s   latency p50 %.3f ms  p90 %.3f ms  p99 %.3f ms   errors %zu",
                  std::size_t(run.completed), args.clients, o.call_concurrency, seconds, rate, p50, p90, p99,
                  std::size_t(run.errors));
  }
  std::cout << line << "\n";
  if (run.errors) std::cerr << "first error: " << run.first_error << "\n";
  return run.errors ? 1 : 0;
}

}  // namespace ocpp::app
