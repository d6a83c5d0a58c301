#pragma once
/// @file
/// permessage-deflate (RFC 7692). OCPP 2.0.1 and 2.1 (Part 4) require a CSMS to accept it and
/// leave it optional for a station; a CSMS must not close when a station declines. zlib's defaults
/// cost ~290 KB per connection; these keep a compressing connection to a few KB.
#include <cstddef>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// permessage-deflate settings (ClientOptions::compression, ServerOptions::compression).
struct CompressionOptions {
  bool enabled = false;  ///< offer (client) or accept (server) compression
  /// Our compressor's window, and the largest window we let the peer's compressor use when it
  /// lets us choose: 9..15, 2^bits bytes. A peer that insists on 15 gets an inflater of 32 KB.
  int window_bits = 10;
  int mem_level = 2;  ///< 1..9: the compressor's hash memory, 2^(mem_level + 9) bytes
  int level = 6;      ///< 0 (store) .. 9 (smallest)
  /// Each message compressed on its own, both ways where the peer agrees: a little less ratio,
  /// no history to keep between messages.
  bool no_context_takeover = true;
  std::size_t threshold = 256;  ///< smaller messages go uncompressed: they barely shrink, or grow
};

/// Throws std::invalid_argument for a value out of range, or a max_frame_bytes of 0: Beast reads 0
/// as "no limit", and then a few compressed bytes inflate without end.
void check_compression_options(const CompressionOptions& options, std::size_t max_frame_bytes);

}  // namespace ocpp
OCPP_API_END
