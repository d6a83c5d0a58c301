// scale_clients: N OCPP-J stations (our ocpp::Client, one I/O thread) for bench/scale.sh's held
// load, reconnect storm and connect/leave cycles. Several of these processes share a run, since
// one process may hold at most 20,000 descriptors here.
//
//   scale_clients --url ws://127.0.0.1:9000 --count N [--prefix S] [--protocol ocpp1.6|ocpp2.0.1]
//                 [--batch 200] [--boot] [--calls 0] [--reconnect] [--connect-retries 0]
//                 [--backoff-min-ms M --backoff-max-ms M]
//                 [--heartbeat-s 10] [--meter-share 0.1] [--meter-s 5] [--latency-out FILE] [--seed 1]
//                 [--password P] [--ca FILE] [--no-verify]
//
// Start: connects the stations in batches (the next batch once each station of this one has
// connected and, with --boot, had its BootNotification answered and then made --calls sequential
// Heartbeats, or failed), then prints `READY <ok> <failed> <connect retries>` (and
// `FAILED <n> <first error>` on stderr). With --boot a station also sends BootNotification after every reconnect. --reconnect
// turns on the library's reconnect with its backoff (ClientOptions defaults unless --backoff-*),
// which covers established connections only; --connect-retries retries a failed first connect
// (e.g. refused by a connection rate limit) after 1-2 s, that many times.
// The clients send no WebSocket pings; they answer the server's, and answer GetConfiguration /
// GetVariables (the CSMS's follow-up to a boot in `ocpp serve`).
//
// Commands on stdin, one per line, each answered by one line on stdout:
//   GO            periodic traffic: every station a Heartbeat every --heartbeat-s, its first at a
//                 uniformly random offset; the first --meter-share of them (spread over the
//                 stations) also MeterValues every --meter-s  -> `GOING`
//   STOP          no new periodic calls; once those in flight are answered (or timed out):
//                 `RESULT {json}` (calls, errors, dropped connections) and the latency of every
//                 periodic call, in µs, one per line, into --latency-out
//   MARK <ms>     storm: <ms> (Unix epoch) is t0 of the event times below; every station that is
//                 open now must drop and boot again -> `MARKED <stations>`; once all of them have:
//                 `ALL_BOOTED <ms since t0>`
//   STATS         `STATS {json}`: the event times since MARK in ms from t0 (disconnect, scheduled
//                 reconnect attempt, open, boot answered), failed attempts by reason, final closes
//   CLOSE / EOF   closes every station (closing handshake), then `CLOSED <closed> <dropped>` and exit
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ocpp/ocpp.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string url = "ws://127.0.0.1:9000";
  std::size_t count = 1000;
  std::string prefix = "SC";
  std::string protocol = "ocpp1.6";
  std::size_t batch = 200;
  bool boot = false;
  std::size_t calls = 0;
  bool reconnect = false;
  std::size_t connect_retries = 0;
  long backoff_min_ms = -1;
  long backoff_max_ms = -1;
  double heartbeat_s = 10;
  double meter_share = 0.1;
  double meter_s = 5;
  std::string latency_out;
  unsigned seed = 1;
  std::string password;
  std::string ca;
  bool verify = true;
};

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr,
               "scale_clients: %s\nusage: scale_clients --url ws://HOST:PORT --count N [--prefix S] "
               "[--protocol ocpp1.6|ocpp2.0.1] [--batch 200] [--boot] [--calls 0] [--reconnect] [--connect-retries 0] "
               "[--backoff-min-ms M] [--backoff-max-ms M] [--heartbeat-s 10] [--meter-share 0.1] [--meter-s 5] "
               "[--latency-out FILE] [--seed 1] [--password P] [--ca FILE] [--no-verify]\n",
               msg.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") usage("help");
    if (k == "--boot") { a.boot = true; continue; }
    if (k == "--reconnect") { a.reconnect = true; continue; }
    if (k == "--no-verify") { a.verify = false; continue; }
    if (i + 1 >= argc) usage("missing value for " + k);
    const std::string v = argv[++i];
    if (k == "--url") a.url = v;
    else if (k == "--count") a.count = std::stoul(v);
    else if (k == "--prefix") a.prefix = v;
    else if (k == "--protocol") a.protocol = v;
    else if (k == "--batch") a.batch = std::max<std::size_t>(1, std::stoul(v));
    else if (k == "--calls") a.calls = std::stoul(v);
    else if (k == "--connect-retries") a.connect_retries = std::stoul(v);
    else if (k == "--backoff-min-ms") a.backoff_min_ms = std::stol(v);
    else if (k == "--backoff-max-ms") a.backoff_max_ms = std::stol(v);
    else if (k == "--heartbeat-s") a.heartbeat_s = std::stod(v);
    else if (k == "--meter-share") a.meter_share = std::stod(v);
    else if (k == "--meter-s") a.meter_s = std::stod(v);
    else if (k == "--latency-out") a.latency_out = v;
    else if (k == "--seed") a.seed = static_cast<unsigned>(std::stoul(v));
    else if (k == "--password") a.password = v;
    else if (k == "--ca") a.ca = v;
    else usage("unknown option " + k);
  }
  if (a.protocol != "ocpp1.6" && a.protocol != "ocpp2.0.1") usage("--protocol must be ocpp1.6 or ocpp2.0.1");
  if (a.heartbeat_s <= 0 || a.meter_s <= 0) usage("--heartbeat-s and --meter-s must be > 0");
  return a;
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Failed reconnect attempts by cause, read from the client's "reconnect failed: <why>" warning
// (the library reports a failed attempt only there).
struct FailureLog : ocpp::Logger {
  FailureLog() : Logger(ocpp::LogLevel::warn) {}
  std::map<std::string, std::size_t> by_reason;
  std::map<std::string, std::string> example;
  std::vector<std::int64_t> at_ms;  // since t0
  std::int64_t t0 = 0;

  static std::string classify(std::string_view why) {
    constexpr std::string_view http = "Unexpected HTTP response ";
    if (auto p = why.find(http); p != std::string_view::npos) return "http_" + std::string(why.substr(p + http.size(), 3));
    if (why.find("refused") != std::string_view::npos) return "refused";
    if (why.find("TLS") != std::string_view::npos) return "tls";
    if (why.find("imed out") != std::string_view::npos || why.find("imeout") != std::string_view::npos) return "timeout";
    if (why.find("reset") != std::string_view::npos || why.find("End of file") != std::string_view::npos) return "reset";
    return "other";
  }

 protected:
  void write(const ocpp::LogRecord& r) override {
    constexpr std::string_view prefix = "reconnect failed: ";
    std::string reason = "log_warning";
    std::string_view why = r.message;
    if (why.starts_with(prefix)) {
      why.remove_prefix(prefix.size());
      reason = classify(why);
      at_ms.push_back(epoch_ms() - t0);
    }
    if (by_reason[reason]++ == 0) example[reason] = std::string(why);
  }
};

struct Station {
  std::shared_ptr<ocpp::Client> client;
  std::unique_ptr<asio::steady_timer> heartbeat, meter;
  bool ever_opened = false;
  bool open = false;
  bool in_setup = true;
  bool down_since_mark = false;
  bool booted_since_mark = false;
};

struct State {
  Args args;
  asio::io_context io;
  std::shared_ptr<FailureLog> failures = std::make_shared<FailureLog>();
  std::vector<Station> stations;
  std::mt19937 rng;
  std::size_t next = 0, in_batch = 0, connected = 0, failed = 0, connect_retries = 0;
  std::string first_error;
  bool closing = false;
  std::size_t dropped = 0;  // final closes we did not ask for (with --reconnect: stations that gave up)

  // Periodic traffic.
  bool going = false;
  std::size_t in_flight = 0;
  bool stop_requested = false;
  std::map<std::string, std::size_t> sent, ok, errors;
  std::map<std::string, std::string> error_example;
  std::vector<std::uint32_t> latency_us;

  // Storm.
  bool marked = false;
  std::int64_t t0 = 0;
  std::size_t mark_target = 0, booted_since_mark = 0;
  std::vector<std::int64_t> disconnect_ms, attempt_ms, open_ms, boot_ms;
  std::size_t boot_errors = 0;
  unsigned max_attempt = 0;

  // Close.
  std::size_t to_close = 0, closed = 0;
};

void say(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string error_text(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

bool v16(const State& s) { return s.args.protocol == "ocpp1.6"; }

json::value boot_payload(const State& s) {
  if (v16(s)) return {{"chargePointVendor", "Bench"}, {"chargePointModel", "Scale"}};
  return {{"reason", "PowerUp"}, {"chargingStation", {{"model", "Scale"}, {"vendorName", "Bench"}}}};
}

json::value meter_payload(const State& s) {
  if (v16(s))
    return {{"connectorId", 1},
            {"meterValue",
             json::array{{{"timestamp", ocpp::iso_timestamp()},
                          {"sampledValue",
                           json::array{{{"value", "1234.5"}, {"measurand", "Energy.Active.Import.Register"}, {"unit", "Wh"}}}}}}}};
  return {{"evseId", 1},
          {"meterValue",
           json::array{{{"timestamp", ocpp::iso_timestamp()},
                        {"sampledValue", json::array{{{"value", 1234.5}, {"measurand", "Energy.Active.Import.Register"}}}}}}}};
}

void start_batch(State& s);

void setup_done(State& s, std::size_t i, std::exception_ptr e) {
  s.stations[i].in_setup = false;
  if (e) {
    if (s.failed++ == 0) s.first_error = error_text(e);
  } else {
    ++s.connected;
  }
  if (--s.in_batch == 0) start_batch(s);
}

// The setup's sequential Heartbeats after the boot (leak cycles: "exchange a few calls").
void setup_calls(State& s, std::size_t i, std::size_t left) {
  if (left == 0) return setup_done(s, i, nullptr);
  s.stations[i].client->call("Heartbeat", json::object{}, [&s, i, left](std::exception_ptr e, json::value) {
    if (e) return setup_done(s, i, e);
    setup_calls(s, i, left - 1);
  });
}

void count_boot(State& s, std::size_t i) {
  auto& st = s.stations[i];
  if (!s.marked || !st.down_since_mark || st.booted_since_mark) return;
  st.booted_since_mark = true;
  s.boot_ms.push_back(epoch_ms() - s.t0);
  if (++s.booted_since_mark == s.mark_target) say("ALL_BOOTED " + std::to_string(epoch_ms() - s.t0));
}

// A reconnect's boot; a boot that fails (the connection dropped again) is repeated on the next open.
void reboot(State& s, std::size_t i) {
  s.stations[i].client->call("BootNotification", boot_payload(s), [&s, i](std::exception_ptr e, json::value) {
    if (e) {
      ++s.boot_errors;
      return;
    }
    count_boot(s, i);
  });
}

void setup_connect(State& s, std::size_t i, std::size_t retries_left) {
  s.stations[i].client->connect([&s, i, retries_left](std::exception_ptr e) {
    if (e && retries_left > 0) {
      ++s.connect_retries;
      auto timer = std::make_shared<asio::steady_timer>(s.io);
      timer->expires_after(std::chrono::milliseconds(1000 + s.rng() % 1000));
      timer->async_wait([&s, i, retries_left, timer](boost::system::error_code) { setup_connect(s, i, retries_left - 1); });
      return;
    }
    if (e) return setup_done(s, i, e);
    if (!s.args.boot) return setup_calls(s, i, s.args.calls);
    s.stations[i].client->call("BootNotification", boot_payload(s), [&s, i](std::exception_ptr e, json::value) {
      if (e) return setup_done(s, i, e);
      setup_calls(s, i, s.args.calls);
    });
  });
}

void start_batch(State& s) {
  if (s.next >= s.stations.size()) {
    if (s.failed) std::fprintf(stderr, "FAILED %zu %s\n", s.failed, s.first_error.c_str());
    say("READY " + std::to_string(s.connected) + " " + std::to_string(s.failed) + " " + std::to_string(s.connect_retries));
    return;
  }
  const std::size_t end = std::min(s.stations.size(), s.next + s.args.batch);
  s.in_batch = end - s.next;
  for (; s.next < end; ++s.next) setup_connect(s, s.next, s.args.connect_retries);
}

void maybe_stopped(State& s) {
  if (!s.stop_requested || s.in_flight) return;
  s.stop_requested = false;
  if (!s.args.latency_out.empty()) {
    std::ofstream out(s.args.latency_out);
    for (auto us : s.latency_us) out << us << '\n';
    if (!out) std::fprintf(stderr, "scale_clients: cannot write %s\n", s.args.latency_out.c_str());
  }
  std::size_t open = 0;
  for (auto& st : s.stations) open += st.open;
  json::object r{{"stations", s.stations.size()}, {"open", open}, {"dropped", s.dropped},
                 {"latency_samples", s.latency_us.size()}};
  auto to_obj = [](const auto& m) {
    json::object o;
    for (const auto& [k, v] : m) o[k] = v;
    return o;
  };
  r["sent"] = to_obj(s.sent);
  r["ok"] = to_obj(s.ok);
  r["errors"] = to_obj(s.errors);
  r["error_examples"] = to_obj(s.error_example);
  say("RESULT " + json::serialize(r));
}

void periodic_call(State& s, std::size_t i, const char* action) {
  auto& st = s.stations[i];
  auto& timer = action[0] == 'H' ? st.heartbeat : st.meter;
  const double period = action[0] == 'H' ? s.args.heartbeat_s : s.args.meter_s;
  timer->expires_at(timer->expiry() + std::chrono::microseconds(static_cast<long long>(period * 1e6)));
  timer->async_wait([&s, i, action](boost::system::error_code ec) {
    if (!ec && s.going) periodic_call(s, i, action);
  });
  if (!st.open) return;
  ++s.sent[action];
  ++s.in_flight;
  const auto t = Clock::now();
  st.client->call(action, action[0] == 'H' ? json::value(json::object{}) : meter_payload(s),
                  [&s, t, action](std::exception_ptr e, json::value) {
                    --s.in_flight;
                    if (e) {
                      const auto what = error_text(e);
                      if (s.errors[action]++ == 0) s.error_example[action] = what;
                    } else {
                      ++s.ok[action];
                      s.latency_us.push_back(static_cast<std::uint32_t>(
                          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count()));
                    }
                    maybe_stopped(s);
                  });
}

void go(State& s) {
  s.going = true;
  std::uniform_real_distribution<double> offset(0.0, 1.0);
  const auto now = Clock::now();
  const std::size_t n = s.stations.size();
  const std::size_t metered = static_cast<std::size_t>(s.args.meter_share * static_cast<double>(n) + 0.5);
  for (std::size_t i = 0; i < n; ++i) {
    auto& st = s.stations[i];
    auto arm = [&](std::unique_ptr<asio::steady_timer>& timer, double period, const char* action) {
      // The first call at a random point of the first period; periodic_call adds the period to the
      // timer's expiry, so the schedule does not drift with the handler's own delay.
      timer = std::make_unique<asio::steady_timer>(s.io);
      timer->expires_at(now + std::chrono::microseconds(static_cast<long long>(period * 1e6 * offset(s.rng))));
      timer->async_wait([&s, i, action](boost::system::error_code ec) {
        if (!ec && s.going) periodic_call(s, i, action);
      });
    };
    arm(st.heartbeat, s.args.heartbeat_s, "Heartbeat");
    // Every (n / metered)-th station meters, so the metered ones spread over the processes' ranges.
    if (metered && (i * metered) / n != ((i + 1) * metered) / n) arm(st.meter, s.args.meter_s, "MeterValues");
  }
  say("GOING");
}

void stop(State& s) {
  s.going = false;
  for (auto& st : s.stations) {
    if (st.heartbeat) st.heartbeat->cancel();
    if (st.meter) st.meter->cancel();
  }
  s.stop_requested = true;
  maybe_stopped(s);
}

void mark(State& s, std::int64_t t0) {
  s.marked = true;
  s.t0 = t0;
  s.failures->t0 = t0;
  s.failures->at_ms.clear();
  s.failures->by_reason.clear();
  s.failures->example.clear();
  s.booted_since_mark = 0;
  s.mark_target = 0;
  s.disconnect_ms.clear();
  s.attempt_ms.clear();
  s.open_ms.clear();
  s.boot_ms.clear();
  s.boot_errors = 0;
  s.max_attempt = 0;
  s.dropped = 0;
  for (auto& st : s.stations) {
    st.down_since_mark = false;
    st.booted_since_mark = false;
    s.mark_target += st.open;
  }
  say("MARKED " + std::to_string(s.mark_target));
}

void stats(State& s) {
  auto arr = [](const std::vector<std::int64_t>& v) { return json::value_from(v); };
  json::object r{{"stations", s.stations.size()},
                 {"mark_target", s.mark_target},
                 {"booted_since_mark", s.booted_since_mark},
                 {"final_closes", s.dropped},
                 {"boot_errors", s.boot_errors},
                 {"max_attempt", s.max_attempt},
                 {"disconnect_ms", arr(s.disconnect_ms)},
                 {"attempt_ms", arr(s.attempt_ms)},
                 {"open_ms", arr(s.open_ms)},
                 {"boot_ms", arr(s.boot_ms)},
                 {"failed_attempt_ms", arr(s.failures->at_ms)}};
  json::object reasons, examples;
  for (const auto& [k, v] : s.failures->by_reason) reasons[k] = v;
  for (const auto& [k, v] : s.failures->example) examples[k] = v;
  r["failures"] = std::move(reasons);
  r["failure_examples"] = std::move(examples);
  std::size_t open = 0;
  for (auto& st : s.stations) open += st.open;
  r["open"] = open;
  say("STATS " + json::serialize(r));
}

void close_all(State& s) {
  if (s.closing) return;
  s.closing = true;
  s.going = false;
  for (auto& st : s.stations) {
    if (st.heartbeat) st.heartbeat->cancel();
    if (st.meter) st.meter->cancel();
  }
  for (auto& st : s.stations) {
    if (st.client->state() == ocpp::ConnectionState::closed) continue;
    ++s.to_close;
    st.client->close(ocpp::CloseOptions{1000, "", false, false});
  }
  if (s.to_close == 0) {
    say("CLOSED 0 " + std::to_string(s.dropped));
    std::_Exit(0);
  }
}

void command(State& s, const std::string& line) {
  if (line == "GO") return go(s);
  if (line == "STOP") return stop(s);
  if (line.starts_with("MARK ")) return mark(s, std::stoll(line.substr(5)));
  if (line == "STATS") return stats(s);
  if (line == "CLOSE") return close_all(s);
  std::fprintf(stderr, "scale_clients: unknown command '%s'\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  State s;
  s.args = parse(argc, argv);
  s.rng.seed(s.args.seed);

  ocpp::ClientOptions o;
  o.endpoint = s.args.url;
  o.protocols = {s.args.protocol};
  o.reconnect = s.args.reconnect;
  if (s.args.backoff_min_ms >= 0) o.backoff_min = std::chrono::milliseconds(s.args.backoff_min_ms);
  if (s.args.backoff_max_ms >= 0) o.backoff_max = std::chrono::milliseconds(s.args.backoff_max_ms);
  o.ping_interval = std::chrono::milliseconds(0);
  o.logger = s.failures;
  if (!s.args.password.empty()) o.password = s.args.password;
  o.tls.ca_file = s.args.ca;
  o.tls.verify_server = s.args.verify;
  s.stations.resize(s.args.count);
  const std::string followup = v16(s) ? "GetConfiguration" : "GetVariables";
  for (std::size_t i = 0; i < s.args.count; ++i) {
    o.identity = s.args.prefix + std::to_string(i + 1);
    auto c = ocpp::Client::create(s.io.get_executor(), o);
    c->handle(followup, [&s](ocpp::CallContext&) -> ocpp::HandlerResult {
      if (v16(s)) return json::value{{"configurationKey", json::array{}}, {"unknownKey", json::array{}}};
      return json::value{{"getVariableResult", json::array{}}};
    });
    c->on_open([&s, i] {
      auto& st = s.stations[i];
      st.open = true;
      if (!st.ever_opened) {  // the first open: the setup chain boots
        st.ever_opened = true;
        return;
      }
      if (s.marked) s.open_ms.push_back(epoch_ms() - s.t0);
      if (s.args.boot && !s.closing) reboot(s, i);
    });
    c->on_disconnect([&s, i](const ocpp::CloseResult&) {
      auto& st = s.stations[i];
      st.open = false;
      if (!s.marked || st.down_since_mark) return;
      st.down_since_mark = true;
      s.disconnect_ms.push_back(epoch_ms() - s.t0);
    });
    c->on_reconnect([&s](const ocpp::ReconnectEvent& e) {
      if (!s.marked) return;
      s.attempt_ms.push_back(epoch_ms() - s.t0 + e.delay.count());
      s.max_attempt = std::max(s.max_attempt, e.attempt);
    });
    c->on_close([&s, i](const ocpp::CloseResult&) {
      auto& st = s.stations[i];
      const bool was_open = st.open;
      st.open = false;
      if (s.closing) {
        if (++s.closed == s.to_close) {
          say("CLOSED " + std::to_string(s.closed) + " " + std::to_string(s.dropped));
          std::_Exit(0);
        }
        return;
      }
      // A failed first connect also ends here; only a station that was up counts (with --reconnect:
      // one that gave up).
      if (was_open || st.ever_opened) ++s.dropped;
      if (!st.in_setup && s.marked && !st.down_since_mark) {
        st.down_since_mark = true;
        s.disconnect_ms.push_back(epoch_ms() - s.t0);
      }
    });
    s.stations[i].client = std::move(c);
  }

  asio::post(s.io, [&s] { start_batch(s); });
  auto guard = asio::make_work_guard(s.io);
  std::thread io_thread([&s] { s.io.run(); });

  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    asio::post(s.io, [&s, line] { command(s, line); });
    if (line == "CLOSE") break;
  }
  // close_all exits once every close has completed; this bounds it (a peer that never finishes
  // the closing handshake is dropped by close_timeout well before).
  asio::post(s.io, [&s] { close_all(s); });
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(20));
    std::fprintf(stderr, "scale_clients: closes did not complete within 20 s\n");
    std::fflush(stderr);
    std::_Exit(3);
  }).detach();
  io_thread.join();
  return 0;
}
