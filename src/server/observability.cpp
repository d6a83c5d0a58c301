#include "server/observability.hpp"

#include <boost/json/serialize.hpp>

#include <string>
#include <utility>

#include "ocpp/session/session.hpp"

namespace ocpp::detail {

Observability::Observability(std::shared_ptr<Logger> logger, bool health_endpoint, std::shared_ptr<CallbackGate> gate)
    : logger_(logger ? std::move(logger) : default_logger()),
      metrics_(health_endpoint ? std::make_shared<Metrics>() : nullptr),
      gate_(std::move(gate)) {}

void Observability::security_event(SecurityEventType type, std::string identity, std::string ip,
                                   std::string details) const {
  SecurityEvent e{type, std::move(identity), std::move(ip), iso_timestamp(), std::move(details)};
  log_security_event(*logger_, to_string(type), e.identity, e.ip, e.timestamp, e.details);
  if (metrics_) metrics_->security_event(to_string(type));
  emit(e.identity, "on_security_event", on_security_event, e);
}

void Observability::upgrade_aborted(std::string identity, std::string ip, std::string reason) const {
  security_event(SecurityEventType::upgrade_aborted, identity, ip, reason);
  if (on_upgrade_aborted)
    emit(identity, "on_upgrade_aborted", on_upgrade_aborted, UpgradeAbortedEvent{identity, std::move(ip), std::move(reason)});
}

void Observability::upgrade_error(std::string identity, std::string ip, std::string what) const {
  if (on_upgrade_error)
    emit(identity, "on_upgrade_error", on_upgrade_error, UpgradeErrorEvent{identity, std::move(ip), std::move(what)});
}

std::function<void(const MessageEvent&)> Observability::message_hook() const {
  if (!metrics_) return {};
  return [m = metrics_](const MessageEvent& e) {
    const bool in = e.direction == MessageDirection::in;
    in ? m->bytes_in(e.raw.size()) : m->bytes_out(e.raw.size());
    switch (e.type) {
      case MessageType::Call:
      case MessageType::Send:
        in ? m->call_in(e.action) : m->call_out(e.action);
        break;
      case MessageType::CallResult:
        if (e.latency_ms) m->latency(e.action, *e.latency_ms);
        break;
      case MessageType::CallError:
      case MessageType::CallResultError:
        m->error(e.action, e.error_code);
        if (e.latency_ms) m->latency(e.action, *e.latency_ms);
        break;
    }
  };
}

void Observability::rate_limited(std::string identity, std::string ip, const RateLimitEvent& e) const {
  // A message the rate-limit callback let through is not dropped; the limit was exceeded all the same.
  if (metrics_ && e.decision != RateLimitDecision::allow) metrics_->dropped("rate_limit");
  security_event(SecurityEventType::rate_limit_exceeded, std::move(identity), std::move(ip), std::string(e.action));
}

void Observability::callback_error(std::string_view event) const noexcept {
  if (metrics_) metrics_->callback_error(event);
}

std::function<void(std::string_view)> Observability::callback_error_hook() const {
  if (!metrics_) return {};
  return [m = metrics_](std::string_view event) { m->callback_error(event); };
}

std::function<void(const SendQueueOverflowEvent&)> Observability::send_queue_overflow_hook() const {
  if (!metrics_) return {};
  return [m = metrics_](const SendQueueOverflowEvent&) { m->send_queue_overflow(); };
}

void Observability::connection_opened() const noexcept {
  if (metrics_) metrics_->connection_opened();
}

void Observability::handshake_started() const noexcept {
  if (metrics_) metrics_->handshake_started();
}
void Observability::handshake_ended() const noexcept {
  if (metrics_) metrics_->handshake_ended();
}

void Observability::handshake_refused(std::string_view reason, std::string_view peer) const {
  if (metrics_) metrics_->handshake_refused(reason);
  std::optional<std::size_t> suppressed;
  {
    std::lock_guard lock(refusal_log_mutex_);
    suppressed = refusal_log_.admit(std::chrono::steady_clock::now());
  }
  if (!suppressed) return;
  logger_->log(LogLevel::warn, "server", "",
               "connection from " + std::string(peer) + " closed at accept: " + std::string(reason) + " reached (" +
                   std::to_string(*suppressed + 1) + " refused since the previous such line, this one included)");
}

void Observability::connection_closed() const noexcept {
  if (metrics_) metrics_->connection_closed();
}

Observability::Answer Observability::answer(Endpoint endpoint) const {
  if (endpoint == Endpoint::health) return {boost::json::serialize(metrics_->health()), "application/json"};
  return {metrics_->prometheus(), kPrometheusContentType};
}

}  // namespace ocpp::detail
