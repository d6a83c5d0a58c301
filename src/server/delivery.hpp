#pragma once
// What the server sends to many stations at once: a CALL (broadcast), or a close (Server::close),
// each completing once every station has answered. Targets come from the registry.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ocpp/server/server.hpp"
#include "server/registry.hpp"

namespace ocpp::detail {

// Sends a CALL to a station that is not in the registry (the cluster), or is null.
using RouteFn = std::function<void(std::string identity, std::string action, boost::json::value payload,
                                   CallOptions options,
                                   boost::asio::any_completion_handler<RpcSession::CallSignature> handler)>;

// To `identities` (those neither here nor reachable through `remote` fail), or to every registered
// station.
void broadcast(const Registry& registry, const RouteFn& remote, boost::asio::any_io_executor ex,
               std::optional<std::vector<std::string>> identities, std::string action, boost::json::value payload,
               CallOptions options, boost::asio::any_completion_handler<Server::BroadcastSignature> handler);

// `handler` does not run once `gate` (the server's) is closed.
void close_all(std::vector<std::shared_ptr<ServerClient>> clients, CloseOptions options,
               const std::shared_ptr<CallbackGate>& gate, boost::asio::any_io_executor ex,
               boost::asio::any_completion_handler<void()> handler);

}  // namespace ocpp::detail
