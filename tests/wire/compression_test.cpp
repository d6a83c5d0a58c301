// permessage-deflate over real sockets: negotiated when a station offers it (a CSMS must accept
// it on 2.0.1 and 2.1), declined cleanly, bounded windows, and the frame limit applied to the
// inflated size.
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

#include "raw_station.hpp"
#include "wire_fixture.hpp"

using namespace ocpp_test;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

HandlerResult echo(CallContext& ctx) {
  json::object out;
  out["status"] = "Accepted";
  out["data"] = ctx.params.at("data");
  return out;
}

// Prepares a raw station to offer permessage-deflate, compressing at `level`.
auto offer_deflate(int level) {
  return [level](RawStation& ws) {
    websocket::permessage_deflate pmd;
    pmd.client_enable = true;
    pmd.compLevel = level;
    ws.set_option(pmd);
  };
}

class CompressionTest : public WireTest {
 protected:
  // Connects `client`, runs one large, compressible DataTransfer each way, and returns what the
  // server saw of the handshake.
  HandshakeInfo exchange(Server& server, const std::shared_ptr<Client>& client) {
    std::promise<std::shared_ptr<ServerClient>> accepted;
    server.on_client([&](const std::shared_ptr<ServerClient>& c) {
      c->handle("DataTransfer", echo);
      accepted.set_value(c);
    });
    client->handle("DataTransfer", echo);
    get(client->connect(asio::use_future));
    auto station = get(accepted.get_future());
    const std::string data = big_text();
    auto up = get(client->call("DataTransfer", json::object{{"vendorId", "x"}, {"data", data}}, asio::use_future));
    EXPECT_EQ(up.at("data").as_string(), data);
    auto down = get(station->call("DataTransfer", json::object{{"vendorId", "x"}, {"data", data}}, asio::use_future));
    EXPECT_EQ(down.at("data").as_string(), data);
    return station->handshake();
  }

  static std::string big_text() {
    std::string s;
    for (int i = 0; s.size() < 40000; ++i) s += "MeterValue " + std::to_string(i % 97) + " Energy.Active.Import.Register; ";
    return s;
  }
};

TEST_F(CompressionTest, IsNegotiatedOnlyWhenTheStationOffersAndTheServerAccepts) {
  for (const bool server_accepts : {true, false}) {
    for (const bool station_offers : {true, false}) {
      SCOPED_TRACE(testing::Message() << "server accepts " << server_accepts << ", station offers " << station_offers);
      ServerOptions so;
      so.compression.enabled = server_accepts;
      auto server = make_server(so);
      const auto port = server->listen(0, "127.0.0.1");
      ClientOptions o;
      o.compression.enabled = station_offers;
      auto client = make_client(port, "CP1", {"ocpp2.0.1"}, o);
      EXPECT_EQ(exchange(*server, client).compression, server_accepts && station_offers);
      EXPECT_EQ(client->compressed(), server_accepts && station_offers);
      get(client->close(CloseOptions{}, asio::use_future));
    }
  }
}

// A peer's offer is answered with our window and no context takeover both ways, so neither side
// keeps zlib's 32 KB windows.
TEST_F(CompressionTest, TheAnswerBoundsWindowsAndContext) {
  auto server = make_server();
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  websocket::response_type res;
  auto ws = raw_station(io, port, "CP1", "ocpp1.6", offer_deflate(8), &res);
  const std::string ext(res[beast::http::field::sec_websocket_extensions]);
  EXPECT_NE(ext.find("permessage-deflate"), std::string::npos) << ext;
  EXPECT_NE(ext.find("server_max_window_bits=10"), std::string::npos) << ext;
  EXPECT_NE(ext.find("client_max_window_bits=10"), std::string::npos) << ext;
  EXPECT_NE(ext.find("server_no_context_takeover"), std::string::npos) << ext;
  EXPECT_NE(ext.find("client_no_context_takeover"), std::string::npos) << ext;
}

// 4 MB of one letter deflates to a few KB; the server must stop at max_frame_bytes of inflated
// data and close with 1009, not inflate it all.
TEST_F(CompressionTest, ADecompressionBombIsClosedWith1009) {
  ServerOptions so;
  so.max_frame_bytes = 64 * 1024;
  auto server = make_server(so);
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  auto ws = raw_station(io, port, "CP1", "ocpp1.6", offer_deflate(9));
  const std::string bomb(4 * 1024 * 1024, 'a');
  beast::error_code ec;
  ws->write(asio::buffer(bomb), ec);  // may fail once the server has closed
  beast::flat_buffer buffer;
  ws->read(buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(ws->reason().code, close_code::too_big);
}

TEST_F(CompressionTest, OptionsOutOfRangeAreRefused) {
  ServerOptions so;
  so.compression.window_bits = 8;
  EXPECT_THROW(make_server(so), std::invalid_argument);
  ClientOptions o;
  o.compression.mem_level = 0;
  EXPECT_THROW(make_client(9, "CP1", {"ocpp1.6"}, o), std::invalid_argument);
  o.compression.mem_level = 9;
  o.compression.level = 10;
  EXPECT_THROW(make_client(9, "CP1", {"ocpp1.6"}, o), std::invalid_argument);
}

// Beast reads a message limit of 0 as none: five compressed bytes would inflate without end.
TEST_F(CompressionTest, AZeroMaxFrameBytesIsRefusedOnBothSides) {
  ServerOptions so;
  so.max_frame_bytes = 0;
  EXPECT_THROW(make_server(so), std::invalid_argument);
  ClientOptions o;
  o.max_frame_bytes = 0;
  EXPECT_THROW(make_client(9, "CP1", {"ocpp1.6"}, o), std::invalid_argument);
}

}  // namespace
