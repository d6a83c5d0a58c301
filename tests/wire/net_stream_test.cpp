// The byte stream under every WebSocket, on real loopback sockets: plain writes of several buffers
// are joined in a per-thread scratch and sent at once; when the socket is full they must wait with
// their own bytes, as the scratch is by then another connection's.
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <array>
#include <string>

#include "transport/net_stream.hpp"

namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
using ocpp::detail::NetStream;

struct Pair {
  NetStream stream;
  tcp::socket peer;
};

Pair connected_pair(asio::io_context& io) {
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  tcp::socket near(io);
  near.connect(acceptor.local_endpoint());
  Pair p{NetStream(std::move(near)), acceptor.accept()};
  p.peer.non_blocking(true);
  return p;
}

// Writes until the kernel takes no more; returns how many bytes it took.
std::size_t fill(tcp::socket& socket) {
  socket.non_blocking(true);
  const std::string chunk(65536, 'f');
  std::size_t total = 0;
  for (;;) {
    boost::system::error_code ec;
    const auto n = socket.write_some(asio::buffer(chunk), ec);
    if (ec == asio::error::would_block) return total;
    if (ec) throw boost::system::system_error(ec);
    total += n;
  }
}

TEST(NetStream, AGatheredWriteToAFullSocketSendsItsOwnBytesOnceWritable) {
  asio::io_context io;
  auto a = connected_pair(io);
  auto b = connected_pair(io);
  const std::size_t filler = fill(a.stream.socket());

  const std::string a_head = "AH", a_body(200, 'A'), b_head = "BH", b_body(200, 'B');
  const std::array<asio::const_buffer, 2> a_bufs{asio::buffer(a_head), asio::buffer(a_body)};
  const std::array<asio::const_buffer, 2> b_bufs{asio::buffer(b_head), asio::buffer(b_body)};
  std::size_t a_written = 0, b_written = 0;
  bool a_done = false;
  a.stream.async_write_some(a_bufs, [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    a_written = n;
    a_done = true;
  });
  b.stream.async_write_some(b_bufs, [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    b_written = n;
  });
  io.poll();
  EXPECT_FALSE(a_done) << "the socket was full";
  EXPECT_EQ(b_written, b_head.size() + b_body.size()) << "b joined its buffers in the scratch and sent them";

  // Drain a's peer while the stream waits for room; a's bytes must follow the filler.
  std::string received;
  std::array<char, 65536> chunk;
  while (!a_done || received.size() < filler + a_written) {
    boost::system::error_code ec;
    const auto n = a.peer.read_some(asio::buffer(chunk), ec);
    if (ec && ec != asio::error::would_block) FAIL() << ec.message();
    received.append(chunk.data(), n);
    io.poll();
  }
  ASSERT_GT(a_written, 0u);
  EXPECT_EQ(received.substr(filler), (a_head + a_body).substr(0, a_written));

  std::string b_received(b_written, '\0');
  asio::read(b.peer, asio::buffer(b_received));
  EXPECT_EQ(b_received, b_head + b_body);
}

TEST(NetStream, APlainReadFillsOnlyTheFirstNonEmptyBuffer) {
  asio::io_context io;
  auto p = connected_pair(io);
  asio::write(p.peer, asio::buffer(std::string("hello world")));
  std::array<char, 4> first{};
  std::array<char, 32> second{};
  const std::array<asio::mutable_buffer, 3> bufs{asio::mutable_buffer(), asio::buffer(first), asio::buffer(second)};
  std::size_t got = 0;
  p.stream.async_read_some(bufs, [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    got = n;
  });
  io.run();
  ASSERT_EQ(got, 4u);
  EXPECT_EQ(std::string(first.data(), 4), "hell");
}

}  // namespace
