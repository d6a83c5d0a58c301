#pragma once
/// @file
/// Counters behind the server's opt-in /metrics (Prometheus text exposition format 0.0.4) and
/// /health. IO-free and thread-safe; the server updates it per message, so an update is a lock-free
/// table probe and a relaxed atomic add (a lock only the first time an action is seen).
#include <boost/json/object.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <functional>
#include <vector>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// The Content-Type of prometheus()'s text.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/// Bounds on the metrics' label values, so peers cannot grow them at will.
struct MetricsOptions {
  /// Distinct action labels at most. Actions come from peers: the ones beyond this, and any that is
  /// empty, longer than 128 bytes or not printable ASCII, are counted as action="other".
  std::size_t max_actions = 256;
  /// The same cap for the values of each other label (error code, drop reason, security event type,
  /// callback event).
  std::size_t max_label_values = 64;
};

/// The server's Prometheus metrics (Server::metrics); counters may be updated and read from any thread.
class Metrics {
 public:
  /// ocpp_call_latency_seconds' upper bounds (and +Inf).
  static constexpr std::array<double, 13> kLatencyBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                          0.25,  0.5,    1,     2.5,  5,     10};

  /// Metrics bounded by `options`.
  explicit Metrics(MetricsOptions options = {});
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void connection_opened() noexcept;  ///< ocpp_connections + 1, ocpp_connections_total + 1
  void connection_closed() noexcept;  ///< ocpp_connections - 1
  void call_in(std::string_view action) noexcept;   ///< ocpp_calls_total{direction="in",action}
  void call_out(std::string_view action) noexcept;  ///< ocpp_calls_total{direction="out",action}
  void error(std::string_view action, std::string_view code) noexcept;  ///< ocpp_errors_total{action,code}
  void latency(std::string_view action, double ms) noexcept;  ///< ocpp_call_latency_seconds{action}
  void bytes_in(std::size_t n) noexcept;                      ///< ocpp_bytes_total{direction="in"}
  void bytes_out(std::size_t n) noexcept;                     ///< ocpp_bytes_total{direction="out"}
  void dropped(std::string_view reason) noexcept;             ///< ocpp_dropped_messages_total{reason}
  void security_event(std::string_view type) noexcept;        ///< ocpp_security_events_total{type}
  void callback_error(std::string_view event) noexcept;       ///< ocpp_callback_errors_total{event}
  void send_queue_overflow() noexcept;                        ///< ocpp_send_queue_overflows_total
  void handshake_started() noexcept;  ///< ocpp_handshakes_in_flight + 1
  void handshake_ended() noexcept;    ///< ocpp_handshakes_in_flight - 1
  /// ocpp_handshakes_refused_total{reason}: "max_handshakes" or "max_handshakes_per_address".
  void handshake_refused(std::string_view reason) noexcept;
  /// ocpp_send_queue_bytes: the connections' transports add the bytes they queue and subtract what
  /// they write to their sockets (Transport::count_queued_bytes_in).
  const std::shared_ptr<std::atomic<std::int64_t>>& send_queue_bytes() const noexcept;

  /// A sample of a Family. Families another part computes at each scrape (the cluster's): samples
  /// with at most one label.
  struct Sample {
    std::string label_value;  ///< empty: no label
    double value = 0;  ///< the sample's value
  };
  /// A metric family: name, type, help and label name, with its samples.
  struct Family {
    /// The family's name, TYPE, HELP and label name.
    ///@{
    std::string name, type, help, label;
    ///@}
    std::vector<Sample> samples;  ///< the family's samples
  };
  /// Set before the server listens; called once per scrape, from the scraping connection's thread.
  void add_source(std::function<std::vector<Family>()> source);

  /// Open connections now.
  std::int64_t connections() const noexcept;
  /// Upgrades in their handshake now.
  std::int64_t handshakes_in_flight() const noexcept;
  /// Seconds since the metrics were made.
  double uptime_seconds() const noexcept;

  /// Every family with HELP and TYPE, samples sorted by label; also ocpp_uptime_seconds.
  std::string prometheus() const;
  /// {"status":"ok","connections":N,"uptime_seconds":S}
  boost::json::object health() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocpp
OCPP_API_END
