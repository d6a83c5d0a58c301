#pragma once
// The step from an open WebSocket to a registered ServerClient: its station, its hooks, the
// registry, on_client. The only maker of ServerClients.
#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <string>

#include "ocpp/server/server.hpp"
#include "ocpp/transport/transport.hpp"
#include "server/registry.hpp"

namespace ocpp::detail {

struct ServerCore;

class Handoff {
 public:
  // Clustered, a station new here first gets the state its previous node saved in the cluster
  // (ClusterOptions::station_state), before on_client and before its first message is read.
  static void connect(const std::shared_ptr<ServerCore>& core, boost::asio::any_io_executor ex,
                      std::shared_ptr<const SessionOptions> options,
                      HandshakeInfo info, std::shared_ptr<Transport> transport, std::string protocol,
                      boost::json::object state);

 private:
  static void register_client(const std::shared_ptr<ServerCore>& core, boost::asio::any_io_executor ex,
                              std::shared_ptr<const SessionOptions> options, HandshakeInfo info,
                              std::shared_ptr<Transport> transport, std::string protocol, Registry::Attached attached);
};

}  // namespace ocpp::detail
