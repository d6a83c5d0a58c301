#pragma once
// The parts of one server. The facade, the listeners' upgrades and the connections' hooks share
// them, and upgrades and hooks may outlive the Server object.
#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <vector>

#include "ocpp/server/server.hpp"
#include "server/admission.hpp"
#include "server/connection_rate_limiter.hpp"
#include "server/observability.hpp"
#include "server/registry.hpp"
#include "server/trusted_proxies.hpp"

namespace ocpp::detail {

struct ServerCore {
  // Throws std::invalid_argument for unusable options.
  ServerCore(std::vector<boost::asio::any_io_executor> executors, ServerOptions options);

  const std::vector<boost::asio::any_io_executor> executors;
  const ServerOptions options;
  std::shared_ptr<Observability> observability;
  std::shared_ptr<Registry> registry;
  std::unique_ptr<ConnectionRateLimiter> connection_limiter;  // with connection_rate_limit only
  const TrustedProxies trusted_proxies;

  // Set up before listen(), read by every connection afterwards without a lock.
  Admission admission;  // with the routes
  std::vector<ConnectionMiddleware> middleware;
  AuthCallback auth;
  std::shared_ptr<HandlerTable> handlers = std::make_shared<HandlerTable>();
  std::function<void(const std::shared_ptr<ServerClient>&)> on_client;

  // What the connections of `route` (null: none) run with: the server's options with the route's
  // settings, made once per route and shared by all its connections.
  std::shared_ptr<const SessionOptions> session_options(const Route* route);

 private:
  std::mutex session_options_mutex_;
  std::map<const Route*, std::shared_ptr<const SessionOptions>> session_options_;
};

}  // namespace ocpp::detail
