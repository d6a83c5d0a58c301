#pragma once
// The step from an open WebSocket to a registered ServerClient: its station, its hooks, the
// registry, on_client. The only maker of ServerClients.
#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <string>

#include "ocpp/server/server.hpp"
#include "ocpp/transport/transport.hpp"

namespace ocpp::detail {

struct ServerCore;

class Handoff {
 public:
  static void connect(const std::shared_ptr<ServerCore>& core, boost::asio::any_io_executor ex,
                      std::shared_ptr<const SessionOptions> options,
                      HandshakeInfo info, std::shared_ptr<Transport> transport, std::string protocol,
                      boost::json::object state);
};

}  // namespace ocpp::detail
