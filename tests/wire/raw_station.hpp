#pragma once
// A bare station for the wire tests: Beast's synchronous WebSocket client, for what our own
// client would never do (stall, ignore a close, send a decompression bomb) or to read the raw
// handshake answer.
#include <boost/asio.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace ocpp_test {

using RawStation = boost::beast::websocket::stream<boost::asio::ip::tcp::socket>;

// Connected and upgraded to /ocpp/<identity> offering `protocol`; `prepare` runs on the stream
// before the TCP connect (socket options) and the upgrade (extensions).
template <class Prepare>
std::unique_ptr<RawStation> raw_station(boost::asio::io_context& io, std::uint16_t port, const std::string& identity,
                                        const std::string& protocol, Prepare prepare,
                                        boost::beast::websocket::response_type* answer = nullptr) {
  auto ws = std::make_unique<RawStation>(io);
  ws->next_layer().open(boost::asio::ip::tcp::v4());
  prepare(*ws);
  ws->next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
  ws->set_option(boost::beast::websocket::stream_base::decorator([protocol](boost::beast::websocket::request_type& r) {
    r.set(boost::beast::http::field::sec_websocket_protocol, protocol);
  }));
  boost::beast::websocket::response_type ignored;
  ws->handshake(answer ? *answer : ignored, "127.0.0.1", "/ocpp/" + identity);
  return ws;
}

inline std::unique_ptr<RawStation> raw_station(boost::asio::io_context& io, std::uint16_t port,
                                               const std::string& identity = "CP1",
                                               const std::string& protocol = "ocpp1.6") {
  return raw_station(io, port, identity, protocol, [](RawStation&) {});
}

}  // namespace ocpp_test
