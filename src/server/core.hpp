#pragma once
// The parts of one server. The facade, the listeners' upgrades and the connections' hooks share
// them, and upgrades and hooks may outlive the Server object.
#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ocpp/engine/gate.hpp"

#include "ocpp/server/server.hpp"
#include "server/admission.hpp"
#include "server/connection_rate_limiter.hpp"
#include "server/handshake_limiter.hpp"
#include "server/observability.hpp"
#include "server/registry.hpp"
#include "server/trusted_proxies.hpp"

namespace ocpp::detail {

// Weak references by key, for what close() and ~Server must reach while it is alive. Thread-safe.
template <class Key, class T>
class LiveSet {
 public:
  void add(Key key, std::weak_ptr<T> value) {
    std::lock_guard lock(mutex_);
    items_.emplace(key, std::move(value));
  }
  void remove(Key key) {
    std::lock_guard lock(mutex_);
    items_.erase(key);
  }
  std::vector<std::shared_ptr<T>> alive() const {
    std::vector<std::shared_ptr<T>> out;
    std::lock_guard lock(mutex_);
    for (const auto& [key, weak] : items_)
      if (auto item = weak.lock()) out.push_back(std::move(item));
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<Key, std::weak_ptr<T>> items_;
};

struct ServerCore {
  // Throws std::invalid_argument for unusable options.
  ServerCore(std::vector<boost::asio::any_io_executor> executors, ServerOptions options);

  const std::vector<boost::asio::any_io_executor> executors;
  const ServerOptions options;
  // Every user callback of this server, its upgrades and its connections passes it; ~Server closes
  // it, so none runs after the Server is gone.
  const std::shared_ptr<CallbackGate> gate = std::make_shared<CallbackGate>();
  std::shared_ptr<Observability> observability;
  std::shared_ptr<Registry> registry;
  std::shared_ptr<cluster::ClusterNode> cluster;  // with options.cluster.adapter only
  std::unique_ptr<ConnectionRateLimiter> connection_limiter;  // with connection_rate_limit only
  const TrustedProxies trusted_proxies;
  HandshakeLimiter handshakes;  // asked at accept, by the TCP peer's address

  // Set up before listen(), read by every connection afterwards without a lock.
  Admission admission;  // with the routes
  std::vector<ConnectionMiddleware> middleware;
  AuthCallback auth;
  std::shared_ptr<HandlerTable> handlers = std::make_shared<HandlerTable>();
  std::function<void(const std::shared_ptr<ServerClient>&)> on_client;

  // What the connections of `route` (null: none) run with: the server's options with the route's
  // settings, made once per route and shared by all its connections.
  std::shared_ptr<const SessionOptions> session_options(const Route* route);

  // What close() and ~Server end: upgrades in flight, and every connection handed off and not yet
  // closed (evicted ones too, which the registry no longer lists), by generation.
  LiveSet<const void*, void> upgrades;
  LiveSet<std::uint64_t, ServerClient> clients;

  // Server::subscribe's handlers, by channel.
  std::mutex channels_mutex;
  std::unordered_map<std::string, std::function<void(const std::string&)>> channel_handlers;

 private:
  std::mutex session_options_mutex_;
  std::map<const Route*, std::shared_ptr<const SessionOptions>> session_options_;
};

}  // namespace ocpp::detail
