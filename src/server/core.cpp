#include "server/core.hpp"

#include <stdexcept>

#include "ocpp/engine/engine.hpp"
#include "ocpp/engine/validation.hpp"
#include "ocpp/transport/compression.hpp"

namespace ocpp::detail {
namespace {
// Checked before any part is built from them.
std::vector<boost::asio::any_io_executor> checked(std::vector<boost::asio::any_io_executor> executors,
                                                  const ServerOptions& options) {
  if (executors.empty()) throw std::invalid_argument("Server needs at least one executor");
  check_strict_mode_options(options.strict_mode);
  check_compression_options(options.compression, options.max_frame_bytes);
  return executors;
}
}  // namespace

ServerCore::ServerCore(std::vector<boost::asio::any_io_executor> executors_in, ServerOptions options_in)
    : executors(checked(std::move(executors_in), options_in)),
      options(std::move(options_in)),
      observability(std::make_shared<Observability>(options.logger, options.health_endpoint, gate)),
      registry(std::make_shared<LocalRegistry>(executors.front(), options)),
      connection_limiter(options.connection_rate_limit
                             ? std::make_unique<ConnectionRateLimiter>(*options.connection_rate_limit,
                                                                       options.max_tracked_addresses, options.clock)
                             : nullptr),
      trusted_proxies(options.trusted_proxies),
      handshakes(options.max_handshakes, options.max_handshakes_per_address),
      admission(options) {}

std::shared_ptr<const SessionOptions> ServerCore::session_options(const Route* route) {
  std::lock_guard lock(session_options_mutex_);
  auto& made = session_options_[route];
  if (made) return made;
  SessionOptions o = options;
  if (route) {
    const auto& c = route->settings();
    if (c.call_timeout) o.call_timeout = *c.call_timeout;
    if (c.ping_interval) o.ping_interval = *c.ping_interval;
    if (c.call_concurrency) o.call_concurrency = *c.call_concurrency;
    if (c.strict_mode) o.strict_mode = *c.strict_mode;
    if (c.rate_limit) o.rate_limit = *c.rate_limit;
  }
  made = complete_options(std::make_shared<const SessionOptions>(std::move(o)));
  return made;
}

void ServerCore::track_upgrade(const void* key, std::weak_ptr<void> upgrade) {
  std::lock_guard lock(live_mutex_);
  upgrades_.emplace(key, std::move(upgrade));
}

void ServerCore::untrack_upgrade(const void* key) {
  std::lock_guard lock(live_mutex_);
  upgrades_.erase(key);
}

std::vector<std::shared_ptr<void>> ServerCore::upgrades() const {
  std::vector<std::shared_ptr<void>> out;
  std::lock_guard lock(live_mutex_);
  for (const auto& [key, weak] : upgrades_)
    if (auto up = weak.lock()) out.push_back(std::move(up));
  return out;
}

void ServerCore::track_client(std::uint64_t generation, const std::shared_ptr<ServerClient>& client) {
  std::lock_guard lock(live_mutex_);
  clients_.emplace(generation, client);
}

void ServerCore::untrack_client(std::uint64_t generation) {
  std::lock_guard lock(live_mutex_);
  clients_.erase(generation);
}

std::vector<std::shared_ptr<ServerClient>> ServerCore::live_clients() const {
  std::vector<std::shared_ptr<ServerClient>> out;
  std::lock_guard lock(live_mutex_);
  for (const auto& [generation, weak] : clients_)
    if (auto c = weak.lock()) out.push_back(std::move(c));
  return out;
}

}  // namespace ocpp::detail
