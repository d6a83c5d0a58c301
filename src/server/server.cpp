// The Server facade: each public method hands over to the part that owns the idea (see
// src/server/*.hpp).
#include "ocpp/server/server.hpp"

#include <thread>

#include "server/cluster_link.hpp"
#include "session/complete.hpp"
#include "server/core.hpp"
#include "server/delivery.hpp"
#include "server/listener.hpp"
#include "server/upgrade.hpp"

namespace ocpp {
namespace asio = boost::asio;

ServerClient::ServerClient(executor_type ex, std::shared_ptr<const SessionOptions> options, HandshakeInfo info,
                           std::shared_ptr<const HandlerTable> shared_handlers, SessionHooks hooks,
                           std::shared_ptr<StationState> station)
    : SessionSide(std::move(ex), std::move(options), info.identity, std::move(shared_handlers), std::move(hooks)),
      handshake_(std::move(info)),
      station_(std::move(station)) {}

// The listeners are the facade's, not the core's: their accept handler holds the core, and the
// core must not hold what holds it.
struct Server::Impl {
  std::shared_ptr<detail::ServerCore> core;
  std::shared_ptr<detail::Listeners> listeners;
};

Server::Server(asio::any_io_executor executor, ServerOptions options)
    : Server(std::vector<asio::any_io_executor>{std::move(executor)}, std::move(options)) {}

Server::Server(std::vector<asio::any_io_executor> executors, ServerOptions options) : impl_(std::make_shared<Impl>()) {
  auto core = std::make_shared<detail::ServerCore>(std::move(executors), std::move(options));
  impl_->listeners = std::make_shared<detail::Listeners>(
      core->executors, [core](asio::ip::tcp::socket socket, SecurityProfile profile,
                              std::shared_ptr<const detail::TlsSettings> tls, bool proxy_protocol) {
        detail::start_upgrade(std::move(socket), core, profile, std::move(tls), proxy_protocol);
      });
  core->cluster = detail::make_cluster_node(core);
  if (core->cluster) {
    core->cluster->start();
    if (const auto& metrics = core->observability->metrics())
      metrics->add_source([node = std::weak_ptr<cluster::ClusterNode>(core->cluster)] {
        auto n = node.lock();
        return n ? detail::cluster_metrics(*n) : std::vector<Metrics::Family>{};
      });
  }
  impl_->core = std::move(core);
}

// The gate first: from here on no callback of this server starts; the wait covers those running on
// other threads. Then everything in flight is ended; what completes later runs no user code.
Server::~Server() {
  auto& core = *impl_->core;
  core.gate->close();
  while (!core.gate->idle()) std::this_thread::yield();
  impl_->listeners->close();
  core.registry->close();
  detail::shut_down_upgrades(core);
  for (auto& c : core.clients.alive())
    c->close(CloseOptions{close_code::going_away, "Server is shutting down", false, false});
  // Leaving answers what is still queued for this node (node_down) at once, instead of its
  // callers learning it when the lease runs out.
  if (core.cluster) core.cluster->stop([] {});
}

std::uint16_t Server::listen(std::uint16_t port, const std::string& host) {
  ListenOptions options;
  options.port = port;
  options.host = host;
  return listen(options);
}

std::uint16_t Server::listen(const ListenOptions& options) {
  return impl_->listeners->listen(options, [&core = *impl_->core] {
    core.registry->open();
    if (core.cluster) core.cluster->start();  // again after close()
  });
}

void Server::update_tls(std::uint16_t port, const ServerTlsOptions& tls) { impl_->listeners->update_tls(port, tls); }

Server& Server::use(ConnectionMiddleware middleware) {
  impl_->core->middleware.push_back(std::move(middleware));
  return *this;
}

Server& Server::auth(AuthCallback callback) {
  impl_->core->auth = std::move(callback);
  return *this;
}

Route& Server::route(std::string_view pattern) { return impl_->core->admission.add_route(pattern); }

std::shared_ptr<Metrics> Server::metrics() const { return impl_->core->observability->metrics(); }

void Server::on_upgrade_aborted(std::function<void(const UpgradeAbortedEvent&)> f) {
  impl_->core->observability->on_upgrade_aborted = std::move(f);
}
void Server::on_upgrade_error(std::function<void(const UpgradeErrorEvent&)> f) {
  impl_->core->observability->on_upgrade_error = std::move(f);
}
void Server::on_security_event(std::function<void(const SecurityEvent&)> f) {
  impl_->core->observability->on_security_event = std::move(f);
}

void Server::on_client(std::function<void(const std::shared_ptr<ServerClient>&)> f) {
  impl_->core->on_client = std::move(f);
}

HandlerTable& Server::handlers() { return *impl_->core->handlers; }

std::shared_ptr<ServerClient> Server::get_client(std::string_view identity) const {
  return impl_->core->registry->find(identity);
}

std::shared_ptr<ServerClient> Server::local_target(std::string_view identity) const {
  auto client = impl_->core->registry->find(identity);
  if (client && impl_->core->cluster && client->state() != ConnectionState::open) return nullptr;
  return client;
}

std::vector<std::shared_ptr<ServerClient>> Server::clients() const { return impl_->core->registry->all(); }

std::size_t Server::client_count() const { return impl_->core->registry->size(); }

void Server::publish(std::string channel, std::string message) {
  auto core = impl_->core;
  if (detail::is_reserved_channel(channel)) throw std::invalid_argument("channel " + channel + " is reserved");
  if (core->cluster) return core->cluster->publish(std::move(channel), std::move(message));
  asio::post(executor(), [core, channel = std::move(channel), message = std::move(message)] {
    detail::deliver_channel_message(*core, channel, message);
  });
}

void Server::subscribe(std::string channel, std::function<void(const std::string& message)> handler) {
  auto& core = *impl_->core;
  if (detail::is_reserved_channel(channel)) throw std::invalid_argument("channel " + channel + " is reserved");
  {
    std::lock_guard lock(core.channels_mutex);
    core.channel_handlers[channel] = std::move(handler);
  }
  if (core.cluster) core.cluster->subscribe(std::move(channel));
}

void Server::unsubscribe(const std::string& channel) {
  auto& core = *impl_->core;
  {
    std::lock_guard lock(core.channels_mutex);
    core.channel_handlers.erase(channel);
  }
  if (core.cluster) core.cluster->unsubscribe(channel);
}

std::string Server::node_name() const { return impl_->core->cluster ? impl_->core->cluster->self().name : std::string(); }

asio::any_io_executor Server::executor() const { return impl_->core->executors.front(); }

void Server::route_call(asio::any_io_executor ex, std::string identity, std::string protocol, std::string action,
                        boost::json::value payload, CallOptions options, bool log_failure, CallHandler handler) {
  detail::route_call(*impl_->core, std::move(ex), std::move(identity), std::move(protocol), std::move(action),
                     std::move(payload), std::move(options), log_failure, std::move(handler));
}

void Server::start_broadcast(std::optional<std::vector<std::string>> identities, std::string action,
                             boost::json::value payload, CallOptions options,
                             asio::any_completion_handler<BroadcastSignature> handler) {
  auto& core = *impl_->core;
  detail::RouteFn remote;
  if (core.cluster) {
    if (!identities) detail::publish_broadcast(core, action, payload);
    remote = [core = impl_->core, ex = executor()](std::string identity, std::string action, boost::json::value payload,
                                                     CallOptions options, CallHandler handler) {
      detail::route_call(*core, ex, std::move(identity), {}, std::move(action), std::move(payload), std::move(options),
                         false, std::move(handler));
    };
  }
  detail::broadcast(*core.registry, remote, executor(), std::move(identities), std::move(action), std::move(payload),
                    std::move(options), std::move(handler));
}

void Server::start_close(CloseOptions options, asio::any_completion_handler<void()> handler) {
  auto& core = *impl_->core;
  core.registry->close();
  impl_->listeners->close();
  detail::shut_down_upgrades(core);
  if (!core.cluster)
    return detail::close_all(core.clients.alive(), std::move(options), core.gate, executor(), std::move(handler));
  // Then the node leaves the cluster: what is still queued for it is answered, nothing is left unknown.
  auto shared = std::make_shared<asio::any_completion_handler<void()>>(std::move(handler));
  detail::close_all(core.clients.alive(), std::move(options), core.gate, executor(),
                    [cluster = core.cluster, shared, gate = core.gate, ex = executor()] {
                      cluster->stop([shared, gate, ex] { detail::complete_later(gate, ex, std::move(*shared)); });
                    });
}

}  // namespace ocpp
