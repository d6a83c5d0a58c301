#include "server/handoff.hpp"

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
      core->clients.remove(registration->generation);
      core->observability->connection_closed();
      core->registry->remove(registration->client->identity(), registration->generation);
      if (core->cluster) core->cluster->release(registration->client->identity(), registration->generation);
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
  auto& registry = *core->registry;
  auto attached = registry.attach_station(info.identity, std::move(state));
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
