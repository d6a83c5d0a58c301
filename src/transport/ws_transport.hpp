#pragma once
// Internal: the Beast WebSocket transport. Only the transport TUs include Beast.
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <memory>

#include "net_stream.hpp"
#include "ocpp/transport/transport.hpp"

namespace ocpp::detail {

using WsStream = boost::beast::websocket::stream<NetStream>;

// Takes over an upgraded stream. `max_frame_bytes` bounds inbound messages (bigger → close 1009);
// `close_timeout` bounds a closing handshake and the TCP teardown after it.
std::shared_ptr<Transport> make_ws_transport(WsStream ws, std::size_t max_frame_bytes,
                                             std::chrono::milliseconds close_timeout);

}  // namespace ocpp::detail
