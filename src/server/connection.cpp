#include "ocpp/server/connection.hpp"

#include "server/chain.hpp"
#include "server/handshake.hpp"

namespace ocpp {

std::string_view HandshakeInfo::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (detail::iequals(k, name)) return v;
  return {};
}

UpgradeContext::UpgradeContext(std::shared_ptr<detail::UpgradeChain> chain, std::size_t step,
                               std::shared_ptr<const HandshakeInfo> handshake, boost::json::object state)
    : chain_(std::move(chain)), step_(step), state_(std::move(state)), handshake_(std::move(handshake)) {}

UpgradeContext::~UpgradeContext() = default;

bool UpgradeContext::decide() noexcept { return !decided_.exchange(true); }

void UpgradeContext::reject(unsigned status, std::string message) {
  if (decide()) chain_->reject(step_, status, std::move(message));
}

bool UpgradeContext::aborted() const noexcept { return chain_->aborted.load(); }

boost::asio::cancellation_slot UpgradeContext::cancellation_slot() const noexcept {
  return chain_->abort_signal.slot();
}

ConnectionContext::~ConnectionContext() {
  if (decide()) chain_->reject(step_, 500, "A connection middleware neither went on nor rejected");
}

void ConnectionContext::next(boost::json::object state) {
  if (!decide()) return;
  boost::json::object merged = state_;
  for (auto& kv : state) merged[kv.key()] = std::move(kv.value());
  chain_->next(step_, std::move(merged));
}

AuthContext::~AuthContext() {
  if (decide()) chain_->reject(step_, 401, "Unauthorized");
}

void AuthContext::accept(AcceptOptions options) {
  if (decide()) chain_->accept(step_, std::move(options));
}

std::string_view to_string(SecurityEventType t) noexcept {
  switch (t) {
    case SecurityEventType::auth_failed: return "AUTH_FAILED";
    case SecurityEventType::upgrade_aborted: return "UPGRADE_ABORTED";
    case SecurityEventType::connection_rate_limit: return "CONNECTION_RATE_LIMIT";
    case SecurityEventType::connection_limit: return "CONNECTION_LIMIT";
    case SecurityEventType::rate_limit_exceeded: return "RATE_LIMIT_EXCEEDED";
    case SecurityEventType::tls_handshake_failed: return "TLS_HANDSHAKE_FAILED";
  }
  return {};
}

}  // namespace ocpp
