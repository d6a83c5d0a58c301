#pragma once
// The IO of one HTTP upgrade, from the accepted socket to an open WebSocket or an HTTP answer: TLS
// handshake, reading the request, answering it, the WebSocket accept.
#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "ocpp/tls/tls.hpp"

namespace ocpp::detail {

struct ServerCore;
struct TlsSettings;

// Ends every upgrade in flight (close(), ~Server): no answer, no event, no on_client.
void shut_down_upgrades(const ServerCore& core);

// Runs on the socket's executor; the upgrade keeps itself and `core` alive until it is done.
// With `proxy_protocol` the connection starts with a PROXY protocol header.
void start_upgrade(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerCore> core, SecurityProfile profile,
                   std::shared_ptr<const TlsSettings> tls, bool proxy_protocol = false);

}  // namespace ocpp::detail
