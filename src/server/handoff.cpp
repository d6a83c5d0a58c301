#include "server/handoff.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "server/core.hpp"

namespace ocpp::detail {
namespace {

// What one connection's hooks share. It names the connection by its station generation, which is
// known before the ServerClient exists and never reused.
struct Registration {
  // Weak: the registry holds the client, whose session holds these hooks.
  std::weak_ptr<ServerCore> core;
  std::uint64_t generation = 0;
  // Set once the client exists; the hooks run only from inside it. Its identity and address are
  // read there rather than copied, which every idle connection would pay for.
  const ServerClient* client = nullptr;
};

SessionHooks hooks_for(const std::shared_ptr<Registration>& registration, const Observability& observability,
                       std::shared_ptr<CallbackGate> gate) {
  SessionHooks hooks;
  hooks.finished = [registration](const CloseResult&) {
    if (auto core = registration->core.lock()) {
      const auto& client = *registration->client;
      core->clients.remove(registration->generation);
      core->observability->connection_closed();
      core->registry->remove(client.identity(), registration->generation);
      if (core->cluster) {
        core->cluster->release(client.identity(), registration->generation);
        // For the node it connects to next; a state saved late (this socket was evicted) is the last word only
        // until that node saves its own.
        if (core->options.cluster.station_state && !client.station().data.empty())
          core->cluster->adapter()->save_state(client.identity(), boost::json::serialize(client.station().data),
                                               core->options.station_ttl);
      }
    }
  };
  hooks.rate_limited = [registration](const RateLimitEvent& e) {
    if (auto core = registration->core.lock())
      core->observability->rate_limited(registration->client->identity(),
                                        registration->client->handshake().remote_address, e);
  };
  hooks.message = observability.message_hook();
  hooks.callback_error = observability.callback_error_hook();
  hooks.send_queue_overflow = observability.send_queue_overflow_hook();
  hooks.gate = std::move(gate);
  return hooks;
}

}  // namespace

void Handoff::connect(const std::shared_ptr<ServerCore>& core, boost::asio::any_io_executor ex,
                      std::shared_ptr<const SessionOptions> options,
                      HandshakeInfo info, std::shared_ptr<Transport> transport, std::string protocol,
                      boost::json::object state) {
  auto attached = core->registry->attach_station(info.identity, std::move(state));
  if (!core->cluster || !core->options.cluster.station_state || !attached.created)
    return register_client(core, std::move(ex), std::move(options), std::move(info), std::move(transport),
                           std::move(protocol), std::move(attached));
  const auto identity = info.identity;
  core->cluster->adapter()->load_state(
      identity, [core, ex, options = std::move(options), info = std::move(info), transport = std::move(transport),
                 protocol = std::move(protocol), attached = std::move(attached)](
                    cluster::Result<std::optional<std::string>> loaded) mutable {
        boost::asio::post(ex, [core, ex, options = std::move(options), info = std::move(info),
                               transport = std::move(transport), protocol = std::move(protocol),
                               attached = std::move(attached), loaded = std::move(loaded)]() mutable {
          auto* text = std::get_if<std::optional<std::string>>(&loaded);
          if (!text) {
            core->observability->logger().log(LogLevel::warn, "server", info.identity,
                                              "station state not loaded from the cluster: " +
                                                  std::get<cluster::AdapterFailure>(loaded).message);
          } else if (*text) {
            // The saved state under what the chain gave this connection, as for a reconnect here.
            boost::json::error_code ec;
            auto saved = boost::json::parse(**text, ec);
            if (!ec && saved.is_object())
              for (auto& kv : saved.as_object())
                if (!attached.station->data.contains(kv.key())) attached.station->data[kv.key()] = std::move(kv.value());
          }
          register_client(core, ex, std::move(options), std::move(info), std::move(transport), std::move(protocol),
                          std::move(attached));
        });
      });
}

void Handoff::register_client(const std::shared_ptr<ServerCore>& core, boost::asio::any_io_executor ex,
                              std::shared_ptr<const SessionOptions> options, HandshakeInfo info,
                              std::shared_ptr<Transport> transport, std::string protocol, Registry::Attached attached) {
  auto& registry = *core->registry;
  auto registration = std::make_shared<Registration>(Registration{core, attached.generation});
  auto client = std::shared_ptr<ServerClient>(new ServerClient(std::move(ex), std::move(options), std::move(info),
                                                               core->handlers, hooks_for(registration, *core->observability, core->gate),
                                                               std::move(attached.station)));
  registration->client = client.get();
  auto added = registry.add(client, attached.generation);
  if (!added.added) return transport->close(close_code::going_away, "Server is shutting down");
  core->clients.add(attached.generation, client);
  core->observability->connection_opened();
  if (!registry.accepting()) {  // close() or ~Server began meanwhile and may not have seen it
    client->start(std::move(transport), std::move(protocol));
    return client->close(CloseOptions{close_code::going_away, "Server is shutting down", false, false});
  }
  client->announce_protocol(protocol);
  if (core->cluster) core->cluster->claim(client->identity(), attached.generation);
  if (added.evicted) added.evicted->close(CloseOptions{close_code::evicted, "Evicted by new connection", false, false});
  core->observability->emit(client->identity(), "on_client", core->on_client, client);
  if (const auto& metrics = core->observability->metrics())
    transport->count_queued_bytes_in(metrics->send_queue_bytes());
  client->start(std::move(transport), std::move(protocol));
}

}  // namespace ocpp::detail
