#pragma once
// Where the server reports what it sees: the log, the opt-in Metrics, the user's callbacks, and the
// /health and /metrics answers. One per server, shared by its upgrades and connections, which may
// outlive the Server object.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "ocpp/log/logger.hpp"
#include "ocpp/server/connection.hpp"
#include "ocpp/server/metrics.hpp"
#include "ocpp/engine/events.hpp"
#include "ocpp/engine/hooks.hpp"
#include "ocpp/engine/rate_limit.hpp"
#include "server/admission.hpp"

namespace ocpp::detail {

class Observability {
 public:
  // Metrics only with health_endpoint: they cost a probe per message.
  Observability(std::shared_ptr<Logger> logger, bool health_endpoint, std::shared_ptr<CallbackGate> gate);

  Logger& logger() const noexcept { return *logger_; }
  const std::shared_ptr<Logger>& logger_ptr() const noexcept { return logger_; }
  const std::shared_ptr<Metrics>& metrics() const noexcept { return metrics_; }
  // The server's callback gate (ServerCore::gate).
  CallbackGate* gate() const noexcept { return gate_.get(); }

  void security_event(SecurityEventType type, std::string identity, std::string ip, std::string details) const;
  void upgrade_aborted(std::string identity, std::string ip, std::string reason) const;
  void upgrade_error(std::string identity, std::string ip, std::string what) const;

  // Hooks a connection's session reports to.
  std::function<void(const MessageEvent&)> message_hook() const;  // empty without metrics
  void rate_limited(std::string identity, std::string ip, const RateLimitEvent& e) const;
  // A user callback threw (logged already): counted in /metrics.
  void callback_error(std::string_view event) const noexcept;
  std::function<void(std::string_view)> callback_error_hook() const;  // empty without metrics
  // A connection's send queue overflowed (logged already): counted in /metrics.
  std::function<void(const SendQueueOverflowEvent&)> send_queue_overflow_hook() const;  // empty without metrics
  // Runs the user's callback `f` for `event`: what it throws is logged and counted, not propagated.
  template <class F, class... Args>
  void emit(std::string_view identity, std::string_view event, const F& f, Args&&... args) const {
    CallbackGate::Scope scope(gate_.get());
    if (!scope) return;
    if (!invoke_event(*logger_, identity, event, f, std::forward<Args>(args)...)) callback_error(event);
  }
  void connection_opened() const noexcept;
  void connection_closed() const noexcept;
  // The ocpp_handshakes_in_flight gauge.
  void handshake_started() const noexcept;
  void handshake_ended() const noexcept;
  // A connection closed at accept by max_handshakes or max_handshakes_per_address (`reason`, the
  // option's name): counted, and logged at most once a second with the number refused meanwhile, so
  // a flood of half-open peers cannot flood the log as well.
  void handshake_refused(std::string_view reason, std::string_view peer) const;

  struct Answer {
    std::string body;
    std::string_view content_type;
  };
  Answer answer(Endpoint endpoint) const;

  // Set before listen(); read by every connection afterwards without a lock.
  std::function<void(const UpgradeAbortedEvent&)> on_upgrade_aborted;
  std::function<void(const UpgradeErrorEvent&)> on_upgrade_error;
  std::function<void(const SecurityEvent&)> on_security_event;

 private:
  std::shared_ptr<Logger> logger_;
  std::shared_ptr<Metrics> metrics_;
  std::shared_ptr<CallbackGate> gate_;
  mutable std::mutex refusal_log_mutex_;
  mutable LogThrottle refusal_log_{LogLimit{1, std::chrono::seconds(1)}, std::chrono::steady_clock::now()};
};

}  // namespace ocpp::detail
