// The permessage-deflate inflate path as Beast's WebSocket stream runs it for the transport
// (boost/beast/websocket/impl/read.hpp): beast::zlib::inflate_stream reset to the negotiated window,
// each frame's payload inflated with Flush::sync into a bounded read buffer, the empty block
// 00 00 ff ff appended at the end of a message, the message size limit (read_message_max) checked
// on every step, and the inflater cleared between messages (no context takeover, our default).
//
// Input: byte 0 picks the window bits (9..15) and whether the context is kept; byte 1 the limit;
// the rest is a sequence of frames, each a header byte and 2·(header & 0x7f) payload bytes, the
// header's high bit ending the message.
#include <boost/beast/zlib/error.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"

namespace {
namespace zlib = boost::beast::zlib;

// One write as Beast's read makes it: false when the connection fails (any zlib error, or the
// message grows past the limit: close 1009). `total_out` is what it produced.
bool step(zlib::inflate_stream& zi, zlib::z_params& zs, std::size_t& size, std::size_t limit) {
  static std::array<std::uint8_t, 1536> out;  // Beast inflates into the caller's buffer, whatever its size
  zs.next_out = out.data();
  zs.avail_out = out.size();
  boost::system::error_code ec;
  zi.write(zs, zlib::Flush::sync, ec);
  if (ec) return false;
  FUZZ_CHECK(zs.total_out <= out.size());
  if (limit && size + zs.total_out > limit) return false;
  size += zs.total_out;
  return true;
}

// One message: false when it failed the connection.
bool inflate_message(zlib::inflate_stream& zi, std::string_view& in, std::size_t limit) {
  std::size_t size = 0;  // impl.rd_size
  for (bool fin = false; !fin;) {
    if (in.empty()) return true;  // the peer is gone mid-message
    const auto header = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    fin = header & 0x80;
    std::string_view frame = in.substr(0, (header & 0x7f) * 2);
    in.remove_prefix(frame.size());
    while (!frame.empty()) {
      zlib::z_params zs;
      zs.next_in = frame.data();
      zs.avail_in = frame.size();
      if (!step(zi, zs, size, limit)) return false;
      FUZZ_CHECK(zs.total_in <= frame.size());
      // Beast's read loop would spin on the same input for ever.
      FUZZ_CHECK(zs.total_in > 0 || zs.total_out > 0);
      frame.remove_prefix(zs.total_in);
    }
  }
  // The end of the message: the empty block, again until nothing more comes out.
  for (int round = 0;; ++round) {
    static constexpr std::uint8_t empty_block[4] = {0x00, 0x00, 0xff, 0xff};
    zlib::z_params zs;
    zs.next_in = empty_block;
    zs.avail_in = sizeof(empty_block);
    if (!step(zi, zs, size, limit)) return false;
    if (zs.total_out == 0) return true;
    FUZZ_CHECK(round <= static_cast<int>(limit));  // each round adds output, the limit ends it
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int window_bits = 9 + data[0] % 7;
  const bool takeover = data[0] & 0x80;
  // Never 0: Beast takes read_message_max(0) as "no limit", and then five bytes (a fixed-Huffman
  // block left open) inflate without end, each appended empty block decoding to more literals.
  static constexpr std::size_t limits[] = {1, 64, 1024, 64 * 1024};
  const std::size_t limit = limits[data[1] % std::size(limits)];
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);

  zlib::inflate_stream zi;
  zi.reset(window_bits);
  while (!in.empty()) {
    if (!inflate_message(zi, in, limit)) break;  // the connection is failed
    if (!takeover) zi.clear();
  }
  return 0;
}
