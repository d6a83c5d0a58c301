#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ocpp/server/metrics.hpp"

using namespace ocpp;

namespace {

// A sample of the text exposition format: name{labels} value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family -> counter/gauge/histogram

  // The value of the one sample with this name and these labels (NaN when absent).
  double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels) return s.value;
    return std::nan("");
  }
  std::set<std::string> label_values(const std::string& name, const std::string& label) const {
    std::set<std::string> out;
    for (const auto& s : samples)
      if (s.name == name && s.labels.count(label)) out.insert(s.labels.at(label));
    return out;
  }
};

std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string sfx = suffix;
    if (name.size() > sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
      const std::string base = name.substr(0, name.size() - sfx.size());
      if (types.count(base) && types.at(base) == "histogram") return base;
    }
  }
  return name;
}

// Parses the text format strictly enough to catch what a scraper would reject: every line is a
// comment or `name{labels} value`; HELP then TYPE come before a family's samples; no series twice.
Exposition parse(const std::string& text) {
  Exposition e;
  std::set<std::string> helped;
  std::set<std::string> series;
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([-+0-9.eE]+|\+Inf|NaN))");
  const std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)\"(,|$))");
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      EXPECT_FALSE(e.types.count(m[1])) << "HELP after TYPE: " << line;
      helped.insert(m[1]);
      continue;
    }
    if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(helped.count(m[1])) << "TYPE without HELP: " << line;
      EXPECT_FALSE(e.types.count(m[1])) << "family twice: " << line;
      e.types[m[1]] = m[2];
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not a sample: " << line;
      continue;
    }
    Sample s;
    s.name = m[1];
    s.value = m[4] == "+Inf" ? INFINITY : std::stod(m[4]);
    std::string labels = m[3];
    for (std::smatch lm; !labels.empty() && std::regex_search(labels, lm, label) && lm.position(0) == 0;
         labels = lm.suffix()) {
      std::string v;
      const std::string raw = lm[2];
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size()) {
          ++i;
          v.push_back(raw[i] == 'n' ? '\n' : raw[i]);
        } else {
          v.push_back(raw[i]);
        }
      }
      s.labels[lm[1]] = v;
    }
    EXPECT_TRUE(labels.empty()) << "bad labels: " << line;
    EXPECT_TRUE(e.types.count(family_of(s.name, e.types))) << "sample before its TYPE: " << line;
    EXPECT_TRUE(series.insert(line.substr(0, line.rfind(' '))).second) << "series twice: " << line;
    e.samples.push_back(std::move(s));
  }
  return e;
}

// Buckets cumulative, ending in +Inf equal to _count, for every action.
void check_histograms(const Exposition& e) {
  for (const std::string& action : e.label_values("ocpp_call_latency_seconds_count", "action")) {
    double previous = 0;
    double previous_le = 0;
    double inf = -1;
    for (const auto& s : e.samples) {
      if (s.name != "ocpp_call_latency_seconds_bucket" || s.labels.at("action") != action) continue;
      EXPECT_GE(s.value, previous) << action;
      previous = s.value;
      const double le = s.labels.at("le") == "+Inf" ? INFINITY : std::stod(s.labels.at("le"));
      EXPECT_GT(le, previous_le) << action;
      previous_le = le;
      if (s.labels.at("le") == "+Inf") inf = s.value;
    }
    EXPECT_EQ(inf, e.value("ocpp_call_latency_seconds_count", {{"action", action}})) << action;
  }
}

}  // namespace

TEST(Metrics, EmptyExpositionHasEveryFamily) {
  Metrics m;
  const auto e = parse(m.prometheus());
  for (const char* family : {"ocpp_connections", "ocpp_connections_total", "ocpp_calls_total", "ocpp_errors_total",
                             "ocpp_call_latency_seconds", "ocpp_bytes_total", "ocpp_dropped_messages_total",
                             "ocpp_security_events_total", "ocpp_callback_errors_total", "ocpp_uptime_seconds"})
    EXPECT_TRUE(e.types.count(family)) << family;
  EXPECT_EQ(e.types.at("ocpp_connections"), "gauge");
  EXPECT_EQ(e.types.at("ocpp_call_latency_seconds"), "histogram");
  EXPECT_EQ(e.types.at("ocpp_calls_total"), "counter");
  EXPECT_EQ(e.value("ocpp_connections"), 0);
  EXPECT_EQ(e.value("ocpp_bytes_total", {{"direction", "in"}}), 0);
  EXPECT_GE(e.value("ocpp_uptime_seconds"), 0);
}

TEST(Metrics, CountsEveryFamily) {
  Metrics m;
  m.connection_opened();
  m.connection_opened();
  m.connection_opened();
  m.connection_closed();
  for (int i = 0; i < 3; ++i) m.call_in("BootNotification");
  m.call_in("Heartbeat");
  m.call_out("Reset");
  m.call_out("Reset");
  m.error("Reset", "NotImplemented");
  m.error("Reset", "NotImplemented");
  m.error("Heartbeat", "FormationViolation");
  m.latency("BootNotification", 0.5);    // 0.0005 s: first bucket
  m.latency("BootNotification", 45);     // 0.045 s
  m.latency("BootNotification", 20000);  // 20 s: only +Inf
  m.latency("Reset", 1000);              // exactly 1 s: le="1" includes it
  m.bytes_in(100);
  m.bytes_in(23);
  m.bytes_out(7);
  m.dropped("queue_full");
  m.dropped("queue_full");
  m.dropped("rate_limit");
  m.security_event("AUTH_FAILED");
  m.security_event("CONNECTION_LIMIT");
  m.callback_error("on_message");
  m.callback_error("on_message");
  m.callback_error("on_client");

  const std::string text = m.prometheus();
  const auto e = parse(text);
  check_histograms(e);
  EXPECT_EQ(m.connections(), 2);
  EXPECT_EQ(e.value("ocpp_connections"), 2);
  EXPECT_EQ(e.value("ocpp_connections_total"), 3);
  EXPECT_EQ(e.value("ocpp_calls_total", {{"direction", "in"}, {"action", "BootNotification"}}), 3);
  EXPECT_EQ(e.value("ocpp_calls_total", {{"direction", "out"}, {"action", "BootNotification"}}), 0);
  EXPECT_EQ(e.value("ocpp_calls_total", {{"direction", "in"}, {"action", "Heartbeat"}}), 1);
  EXPECT_EQ(e.value("ocpp_calls_total", {{"direction", "out"}, {"action", "Reset"}}), 2);
  EXPECT_EQ(e.value("ocpp_errors_total", {{"action", "Reset"}, {"code", "NotImplemented"}}), 2);
  EXPECT_EQ(e.value("ocpp_errors_total", {{"action", "Heartbeat"}, {"code", "FormationViolation"}}), 1);
  EXPECT_EQ(e.value("ocpp_bytes_total", {{"direction", "in"}}), 123);
  EXPECT_EQ(e.value("ocpp_bytes_total", {{"direction", "out"}}), 7);
  EXPECT_EQ(e.value("ocpp_dropped_messages_total", {{"reason", "queue_full"}}), 2);
  EXPECT_EQ(e.value("ocpp_dropped_messages_total", {{"reason", "rate_limit"}}), 1);
  EXPECT_EQ(e.value("ocpp_security_events_total", {{"type", "AUTH_FAILED"}}), 1);
  EXPECT_EQ(e.value("ocpp_callback_errors_total", {{"event", "on_message"}}), 2);
  EXPECT_EQ(e.value("ocpp_callback_errors_total", {{"event", "on_client"}}), 1);

  const auto boot = [&](const char* le) {
    return e.value("ocpp_call_latency_seconds_bucket", {{"action", "BootNotification"}, {"le", le}});
  };
  EXPECT_EQ(boot("0.001"), 1);
  EXPECT_EQ(boot("0.025"), 1);
  EXPECT_EQ(boot("0.05"), 2);
  EXPECT_EQ(boot("10"), 2);
  EXPECT_EQ(boot("+Inf"), 3);
  EXPECT_EQ(e.value("ocpp_call_latency_seconds_count", {{"action", "BootNotification"}}), 3);
  EXPECT_NEAR(e.value("ocpp_call_latency_seconds_sum", {{"action", "BootNotification"}}), 20.0455, 1e-6);
  EXPECT_EQ(e.value("ocpp_call_latency_seconds_bucket", {{"action", "Reset"}, {"le", "0.5"}}), 0);
  EXPECT_EQ(e.value("ocpp_call_latency_seconds_bucket", {{"action", "Reset"}, {"le", "1"}}), 1);
  // Actions without latencies have no histogram.
  EXPECT_TRUE(std::isnan(e.value("ocpp_call_latency_seconds_count", {{"action", "Heartbeat"}})));
}

TEST(Metrics, SendQueueBytesAreAGaugeTheTransportsFeedAndOverflowsACounter) {
  Metrics m;
  auto e = parse(m.prometheus());
  EXPECT_EQ(e.types.at("ocpp_send_queue_bytes"), "gauge");
  EXPECT_EQ(e.types.at("ocpp_send_queue_overflows_total"), "counter");
  EXPECT_EQ(e.value("ocpp_send_queue_bytes"), 0);
  EXPECT_EQ(e.value("ocpp_send_queue_overflows_total"), 0);
  m.send_queue_bytes()->fetch_add(5000);  // as two transports queue and write
  m.send_queue_bytes()->fetch_add(300);
  m.send_queue_bytes()->fetch_sub(1000);
  m.send_queue_overflow();
  e = parse(m.prometheus());
  EXPECT_EQ(e.value("ocpp_send_queue_bytes"), 4300);
  EXPECT_EQ(e.value("ocpp_send_queue_overflows_total"), 1);
}

TEST(Metrics, HandshakesInFlightAreAGaugeAndRefusalsACounterByReason) {
  Metrics m;
  auto e = parse(m.prometheus());
  EXPECT_EQ(e.types.at("ocpp_handshakes_in_flight"), "gauge");
  EXPECT_EQ(e.types.at("ocpp_handshakes_refused_total"), "counter");
  EXPECT_EQ(e.value("ocpp_handshakes_in_flight"), 0);
  m.handshake_started();
  m.handshake_started();
  m.handshake_started();
  m.handshake_ended();
  m.handshake_refused("max_handshakes_per_address");
  m.handshake_refused("max_handshakes_per_address");
  m.handshake_refused("max_handshakes");
  e = parse(m.prometheus());
  EXPECT_EQ(m.handshakes_in_flight(), 2);
  EXPECT_EQ(e.value("ocpp_handshakes_in_flight"), 2);
  EXPECT_EQ(e.value("ocpp_handshakes_refused_total", {{"reason", "max_handshakes_per_address"}}), 2);
  EXPECT_EQ(e.value("ocpp_handshakes_refused_total", {{"reason", "max_handshakes"}}), 1);
}

TEST(Metrics, ActionLabelsAreCapped) {
  Metrics m(MetricsOptions{.max_actions = 4, .max_label_values = 2});
  for (int i = 0; i < 10; ++i) m.call_in("Action" + std::to_string(i));
  m.call_in("Action0");
  m.call_in("other");  // a peer's action named like the overflow shares its series
  m.call_in("");
  m.call_in("Bad\nAction");
  m.call_in("Caf\xc3\xa9");
  m.call_in(std::string(200, 'A'));
  m.latency("Action9", 1);
  m.error("Action0", "A");
  m.error("Action0", "B");
  m.error("Action0", "C");  // third distinct code
  m.dropped("r1");
  m.dropped("r2");
  m.dropped("r3");
  m.security_event("bad\"type");

  const auto e = parse(m.prometheus());
  check_histograms(e);
  const auto actions = e.label_values("ocpp_calls_total", "action");
  EXPECT_EQ(actions, (std::set<std::string>{"Action0", "Action1", "Action2", "Action3", "other"}));
  EXPECT_EQ(e.value("ocpp_calls_total", {{"direction", "in"}, {"action", "Action0"}}), 2);
  // Action4..Action9, "other", "", "Bad\nAction", "Café", 200 × A.
  EXPECT_EQ(e.value("ocpp_calls_total", {{"direction", "in"}, {"action", "other"}}), 11);
  EXPECT_EQ(e.value("ocpp_call_latency_seconds_count", {{"action", "other"}}), 1);
  EXPECT_EQ(e.label_values("ocpp_errors_total", "code"), (std::set<std::string>{"A", "B", "other"}));
  EXPECT_EQ(e.label_values("ocpp_dropped_messages_total", "reason"), (std::set<std::string>{"r1", "r2", "other"}));
  EXPECT_EQ(e.value("ocpp_security_events_total", {{"type", "bad\"type"}}), 1);
}

TEST(Metrics, LabelValuesAreEscaped) {
  Metrics m;
  m.call_in(R"(Quote"Back\slash)");
  const std::string text = m.prometheus();
  EXPECT_NE(text.find(R"(action="Quote\"Back\\slash")"), std::string::npos) << text;
  const auto e = parse(text);
  EXPECT_EQ(e.value("ocpp_calls_total", {{"direction", "in"}, {"action", R"(Quote"Back\slash)"}}), 1);
}

TEST(Metrics, Health) {
  Metrics m;
  m.connection_opened();
  const auto h = m.health();
  EXPECT_EQ(h.at("status"), "ok");
  EXPECT_EQ(h.at("connections"), 1);
  EXPECT_TRUE(h.at("uptime_seconds").is_int64());
  EXPECT_GE(h.at("uptime_seconds").get_int64(), 0);
}

TEST(Metrics, ConcurrentUpdatesAreExact) {
  Metrics m(MetricsOptions{.max_actions = 6});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  const std::vector<std::string> actions{"A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7"};  // two overflow
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string& action = actions[(i + t) % actions.size()];
        m.call_in(action);
        m.call_out(action);
        m.latency(action, double(i % 100));
        m.bytes_in(3);
        if (i % 100 == 0) {
          m.error(action, "GenericError");
          m.connection_opened();
        }
      }
    });
  }
  // Scrapes while updating must always parse.
  for (int i = 0; i < 20; ++i) check_histograms(parse(m.prometheus()));
  for (auto& th : threads) th.join();

  const auto e = parse(m.prometheus());
  check_histograms(e);
  double calls_in = 0;
  double latencies = 0;
  double errors = 0;
  for (const auto& s : e.samples) {
    if (s.name == "ocpp_calls_total" && s.labels.at("direction") == "in") calls_in += s.value;
    if (s.name == "ocpp_call_latency_seconds_count") latencies += s.value;
    if (s.name == "ocpp_errors_total") errors += s.value;
  }
  EXPECT_EQ(calls_in, kThreads * kPerThread);
  EXPECT_EQ(latencies, kThreads * kPerThread);
  EXPECT_EQ(errors, kThreads * kPerThread / 100);
  EXPECT_EQ(e.value("ocpp_calls_total", {{"direction", "in"}, {"action", "other"}}), kThreads * kPerThread / 4);
  EXPECT_EQ(e.value("ocpp_bytes_total", {{"direction", "in"}}), 3.0 * kThreads * kPerThread);
  EXPECT_EQ(e.value("ocpp_connections_total"), kThreads * kPerThread / 100);
  EXPECT_EQ(e.label_values("ocpp_calls_total", "action").size(), 7u);  // A0..A5 and other
}
