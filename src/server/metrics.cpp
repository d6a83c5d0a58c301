#include "ocpp/server/metrics.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace ocpp {

namespace {

constexpr std::size_t kMaxLabelLength = 128;
constexpr std::string_view kOther = "other";
constexpr std::size_t kBuckets = Metrics::kLatencyBuckets.size();

// Label values that reach the exposition: printable ASCII of sane length, so no two distinct
// values can render alike and no scraper sees invalid UTF-8.
bool is_label_value(std::string_view v) noexcept {
  if (v.empty() || v.size() > kMaxLabelLength) return false;
  for (char c : v)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

void append_label_value(std::string& out, std::string_view v) {
  out.push_back('"');
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
void append_number(std::string& out, std::int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
void append_number(std::string& out, double v) {
  char buf[32];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out.push_back(' ');
  out += help;
  out += "\n# TYPE ";
  out += name;
  out.push_back(' ');
  out += type;
  out.push_back('\n');
}

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

template <typename Number>
void sample(std::string& out, std::string_view name, const Labels& labels, Number value) {
  out += name;
  if (!labels.empty()) {
    out.push_back('{');
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out.push_back(',');
      first = false;
      out += k;
      out.push_back('=');
      append_label_value(out, v);
    }
    out.push_back('}');
  }
  out.push_back(' ');
  append_number(out, value);
  out.push_back('\n');
}

struct ActionSlot {
  explicit ActionSlot(std::string n) : name(std::move(n)) {}
  const std::string name;
  std::atomic<std::uint64_t> calls_in{0};
  std::atomic<std::uint64_t> calls_out{0};
  std::array<std::atomic<std::uint64_t>, kBuckets + 1> buckets{};  // not cumulative; last: above 10 s
  std::atomic<std::uint64_t> latency_sum_us{0};
};

// Counters keyed by one or two rarely changing labels (errors, drops, security events): a mutex is
// fine there, and the number of keys is capped like the actions.
class LabeledCounters {
 public:
  explicit LabeledCounters(std::size_t max_keys) : max_keys_(max_keys) {}

  void add(std::string_view a, std::string_view b = {}) noexcept {
    try {
      std::lock_guard lock(mutex_);
      auto key = std::make_pair(std::string(a), std::string(b));
      auto it = counts_.find(key);
      if (it == counts_.end()) {
        if (counts_.size() >= max_keys_) key = {std::string(kOther), b.empty() ? std::string() : std::string(kOther)};
        it = counts_.try_emplace(std::move(key), 0).first;
      }
      ++it->second;
    } catch (...) {
      // Out of memory: a lost count is better than a failed message.
    }
  }
  std::map<std::pair<std::string, std::string>, std::uint64_t> snapshot() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> counts_;
};

// A label value from a peer, or "other" once `seen` holds `cap` distinct values.
class LabelSet {
 public:
  explicit LabelSet(std::size_t cap) : cap_(cap) {}
  std::string_view admit(std::string_view v) {
    if (!is_label_value(v)) return kOther;
    std::lock_guard lock(mutex_);
    if (auto it = seen_.find(v); it != seen_.end()) return *it;
    if (seen_.size() >= cap_) return kOther;
    return *seen_.emplace(v).first;
  }

 private:
  std::size_t cap_;
  std::mutex mutex_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace

struct Metrics::Impl {
  explicit Impl(MetricsOptions o)
      : options(o),
        table_size(std::bit_ceil(std::max<std::size_t>(16, 2 * (o.max_actions + 1)))),
        table(std::make_unique<std::atomic<ActionSlot*>[]>(table_size)),
        errors(std::max<std::size_t>(1, o.max_actions) * 4),
        error_codes(o.max_label_values),
        drops(o.max_label_values),
        security(o.max_label_values),
        callback_errors(o.max_label_values),
        handshakes_refused(o.max_label_values) {
    for (std::size_t i = 0; i < table_size; ++i) table[i].store(nullptr, std::memory_order_relaxed);
    // "other" is an ordinary entry, so a peer's action named "other" shares it instead of
    // producing a second series with the same label.
    other = &insert_locked(kOther, hash(kOther));
  }

  static std::size_t hash(std::string_view s) noexcept { return std::hash<std::string_view>{}(s); }

  ActionSlot& slot(std::string_view action) noexcept {
    const std::size_t h = hash(action);
    for (std::size_t i = h & (table_size - 1);; i = (i + 1) & (table_size - 1)) {
      ActionSlot* s = table[i].load(std::memory_order_acquire);
      if (!s) break;
      if (s->name == action) return *s;
    }
    if (!is_label_value(action) || count.load(std::memory_order_relaxed) > options.max_actions) return *other;
    try {
      std::lock_guard lock(insert_mutex);
      return insert_locked(action, h);
    } catch (...) {
      return *other;
    }
  }

  ActionSlot& insert_locked(std::string_view action, std::size_t h) {
    for (std::size_t i = h & (table_size - 1);; i = (i + 1) & (table_size - 1)) {
      ActionSlot* s = table[i].load(std::memory_order_relaxed);
      if (s && s->name == action) return *s;
      if (s) continue;
      // The table is twice the cap, so an empty entry is always found.
      if (count.load(std::memory_order_relaxed) > options.max_actions) return *other;
      owned.push_back(std::make_unique<ActionSlot>(std::string(action)));
      table[i].store(owned.back().get(), std::memory_order_release);
      count.fetch_add(1, std::memory_order_relaxed);
      return *owned.back();
    }
  }

  std::vector<const ActionSlot*> slots_by_name() const {
    std::vector<const ActionSlot*> v;
    {
      std::lock_guard lock(insert_mutex);
      for (const auto& s : owned) v.push_back(s.get());
    }
    std::sort(v.begin(), v.end(), [](const ActionSlot* a, const ActionSlot* b) { return a->name < b->name; });
    return v;
  }

  const MetricsOptions options;
  const std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  std::atomic<std::int64_t> connections{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  const std::shared_ptr<std::atomic<std::int64_t>> send_queue_bytes = std::make_shared<std::atomic<std::int64_t>>(0);
  std::atomic<std::uint64_t> send_queue_overflows{0};
  std::atomic<std::int64_t> handshakes_in_flight{0};

  // Open addressing, entries never removed: readers probe without a lock.
  const std::size_t table_size;
  std::unique_ptr<std::atomic<ActionSlot*>[]> table;
  mutable std::mutex insert_mutex;
  std::vector<std::unique_ptr<ActionSlot>> owned;  // guarded by insert_mutex
  std::atomic<std::size_t> count{0};               // entries, "other" included
  ActionSlot* other = nullptr;

  LabeledCounters errors;
  LabelSet error_codes;
  LabeledCounters drops;
  LabeledCounters security;
  LabeledCounters callback_errors;
  LabeledCounters handshakes_refused;
  std::vector<std::function<std::vector<Metrics::Family>()>> sources;  // set before listening
};

Metrics::Metrics(MetricsOptions options) : impl_(std::make_unique<Impl>(options)) {}
Metrics::~Metrics() = default;

void Metrics::connection_opened() noexcept {
  impl_->connections.fetch_add(1, std::memory_order_relaxed);
  impl_->connections_total.fetch_add(1, std::memory_order_relaxed);
}
void Metrics::connection_closed() noexcept { impl_->connections.fetch_sub(1, std::memory_order_relaxed); }

void Metrics::call_in(std::string_view action) noexcept {
  impl_->slot(action).calls_in.fetch_add(1, std::memory_order_relaxed);
}
void Metrics::call_out(std::string_view action) noexcept {
  impl_->slot(action).calls_out.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::error(std::string_view action, std::string_view code) noexcept {
  try {
    impl_->errors.add(impl_->slot(action).name, impl_->error_codes.admit(code));
  } catch (...) {
  }
}

void Metrics::latency(std::string_view action, double ms) noexcept {
  if (!(ms >= 0)) ms = 0;  // NaN and clock steps backwards
  const double seconds = ms / 1000.0;
  std::size_t bucket = 0;
  while (bucket < kBuckets && seconds > kLatencyBuckets[bucket]) ++bucket;
  const double us = std::min(ms * 1000.0, 1e15);
  ActionSlot& s = impl_->slot(action);
  s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  s.latency_sum_us.fetch_add(static_cast<std::uint64_t>(std::llround(us)), std::memory_order_relaxed);
}

void Metrics::bytes_in(std::size_t n) noexcept { impl_->bytes_in.fetch_add(n, std::memory_order_relaxed); }
void Metrics::bytes_out(std::size_t n) noexcept { impl_->bytes_out.fetch_add(n, std::memory_order_relaxed); }

void Metrics::dropped(std::string_view reason) noexcept {
  impl_->drops.add(is_label_value(reason) ? reason : kOther);
}
void Metrics::security_event(std::string_view type) noexcept {
  impl_->security.add(is_label_value(type) ? type : kOther);
}

void Metrics::callback_error(std::string_view event) noexcept {
  impl_->callback_errors.add(is_label_value(event) ? event : kOther);
}

void Metrics::send_queue_overflow() noexcept {
  impl_->send_queue_overflows.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::handshake_started() noexcept { impl_->handshakes_in_flight.fetch_add(1, std::memory_order_relaxed); }
void Metrics::handshake_ended() noexcept { impl_->handshakes_in_flight.fetch_sub(1, std::memory_order_relaxed); }
void Metrics::handshake_refused(std::string_view reason) noexcept {
  impl_->handshakes_refused.add(is_label_value(reason) ? reason : kOther);
}
std::int64_t Metrics::handshakes_in_flight() const noexcept {
  return impl_->handshakes_in_flight.load(std::memory_order_relaxed);
}

const std::shared_ptr<std::atomic<std::int64_t>>& Metrics::send_queue_bytes() const noexcept {
  return impl_->send_queue_bytes;
}

void Metrics::add_source(std::function<std::vector<Family>()> source) { impl_->sources.push_back(std::move(source)); }

std::int64_t Metrics::connections() const noexcept { return impl_->connections.load(std::memory_order_relaxed); }

double Metrics::uptime_seconds() const noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - impl_->start).count();
}

std::string Metrics::prometheus() const {
  std::string out;
  out.reserve(4096);
  const auto slots = impl_->slots_by_name();

  family(out, "ocpp_connections", "gauge", "Open OCPP connections.");
  sample(out, "ocpp_connections", {}, connections());

  family(out, "ocpp_connections_total", "counter", "OCPP connections accepted since start.");
  sample(out, "ocpp_connections_total", {}, impl_->connections_total.load(std::memory_order_relaxed));

  family(out, "ocpp_calls_total", "counter", "CALL messages by direction and action.");
  for (const ActionSlot* s : slots) {
    const std::uint64_t in = s->calls_in.load(std::memory_order_relaxed);
    const std::uint64_t out_calls = s->calls_out.load(std::memory_order_relaxed);
    if (in == 0 && out_calls == 0) continue;
    sample(out, "ocpp_calls_total", {{"direction", "in"}, {"action", s->name}}, in);
    sample(out, "ocpp_calls_total", {{"direction", "out"}, {"action", s->name}}, out_calls);
  }

  family(out, "ocpp_errors_total", "counter", "CALLERROR and CALLRESULTERROR messages by action and error code.");
  for (const auto& [key, n] : impl_->errors.snapshot())
    sample(out, "ocpp_errors_total", {{"action", key.first}, {"code", key.second}}, n);

  family(out, "ocpp_call_latency_seconds", "histogram", "Time from a CALL to its response, by action.");
  for (const ActionSlot* s : slots) {
    // Read each bucket once; _count is the cumulative total, so it always equals the +Inf bucket.
    std::array<std::uint64_t, kBuckets + 1> counts;
    for (std::size_t i = 0; i <= kBuckets; ++i) counts[i] = s->buckets[i].load(std::memory_order_relaxed);
    std::uint64_t total = 0;
    for (std::uint64_t c : counts) total += c;
    if (total == 0) continue;
    std::uint64_t cumulative = 0;
    char le[32];
    for (std::size_t i = 0; i < kBuckets; ++i) {
      cumulative += counts[i];
      // Pointer and length: the libc++ of the WebAssembly build has no (first, last) constructor.
      const char* end = std::to_chars(le, le + sizeof le, kLatencyBuckets[i]).ptr;
      const std::string_view bound(le, static_cast<std::size_t>(end - le));
      sample(out, "ocpp_call_latency_seconds_bucket", {{"action", s->name}, {"le", bound}}, cumulative);
    }
    sample(out, "ocpp_call_latency_seconds_bucket", {{"action", s->name}, {"le", "+Inf"}}, total);
    sample(out, "ocpp_call_latency_seconds_sum", {{"action", s->name}},
           double(s->latency_sum_us.load(std::memory_order_relaxed)) / 1e6);
    sample(out, "ocpp_call_latency_seconds_count", {{"action", s->name}}, total);
  }

  family(out, "ocpp_bytes_total", "counter", "WebSocket message bytes by direction.");
  sample(out, "ocpp_bytes_total", {{"direction", "in"}}, impl_->bytes_in.load(std::memory_order_relaxed));
  sample(out, "ocpp_bytes_total", {{"direction", "out"}}, impl_->bytes_out.load(std::memory_order_relaxed));

  family(out, "ocpp_send_queue_bytes", "gauge", "Outbound bytes queued and not yet written to the sockets.");
  sample(out, "ocpp_send_queue_bytes", {}, impl_->send_queue_bytes->load(std::memory_order_relaxed));

  family(out, "ocpp_send_queue_overflows_total", "counter",
         "Connections closed because a frame did not fit max_send_queue_bytes.");
  sample(out, "ocpp_send_queue_overflows_total", {}, impl_->send_queue_overflows.load(std::memory_order_relaxed));

  family(out, "ocpp_handshakes_in_flight", "gauge",
         "Connections accepted and not yet upgraded or answered (this scrape's own included).");
  sample(out, "ocpp_handshakes_in_flight", {}, handshakes_in_flight());

  family(out, "ocpp_handshakes_refused_total", "counter",
         "Connections closed at accept by max_handshakes or max_handshakes_per_address, by reason.");
  for (const auto& [key, n] : impl_->handshakes_refused.snapshot())
    sample(out, "ocpp_handshakes_refused_total", {{"reason", key.first}}, n);

  family(out, "ocpp_dropped_messages_total", "counter", "Messages dropped, by reason.");
  for (const auto& [key, n] : impl_->drops.snapshot())
    sample(out, "ocpp_dropped_messages_total", {{"reason", key.first}}, n);

  family(out, "ocpp_security_events_total", "counter", "Security events, by type.");
  for (const auto& [key, n] : impl_->security.snapshot())
    sample(out, "ocpp_security_events_total", {{"type", key.first}}, n);

  family(out, "ocpp_callback_errors_total", "counter", "Exceptions thrown by user callbacks, by event.");
  for (const auto& [key, n] : impl_->callback_errors.snapshot())
    sample(out, "ocpp_callback_errors_total", {{"event", key.first}}, n);

  for (const auto& source : impl_->sources)
    for (const auto& f : source()) {
      family(out, f.name, f.type, f.help);
      for (const auto& s : f.samples)
        sample(out, f.name, s.label_value.empty() ? Labels{} : Labels{{f.label, s.label_value}}, s.value);
    }

  family(out, "ocpp_uptime_seconds", "gauge", "Seconds since the metrics started.");
  sample(out, "ocpp_uptime_seconds", {}, uptime_seconds());
  return out;
}

boost::json::object Metrics::health() const {
  boost::json::object h;
  h.emplace("status", "ok");
  h.emplace("connections", connections());
  h.emplace("uptime_seconds", static_cast<std::int64_t>(uptime_seconds()));
  return h;
}

}  // namespace ocpp
