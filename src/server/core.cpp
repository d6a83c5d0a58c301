#include "server/core.hpp"

#include <filesystem>
#include <stdexcept>
#include <system_error>

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
  std::error_code ec;
  if (!options.web_root.empty() && !std::filesystem::is_directory(options.web_root, ec))
    throw std::invalid_argument("web_root is not a directory: " + options.web_root.string());
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

}  // namespace ocpp::detail
