#include "ocpp/transport/compression.hpp"

#include <stdexcept>
#include <string>

namespace ocpp {

void check_compression_options(const CompressionOptions& o, std::size_t max_frame_bytes) {
  if (max_frame_bytes == 0) throw std::invalid_argument("max_frame_bytes must be above zero");
  const auto range = [](const char* name, int value, int lo, int hi) {
    if (value < lo || value > hi)
      throw std::invalid_argument(std::string("compression.") + name + " must be " + std::to_string(lo) + ".." +
                                  std::to_string(hi) + ", not " + std::to_string(value));
  };
  // zlib cannot deflate with an 8-bit window (it silently uses 9), so RFC 7692 peers refuse it.
  range("window_bits", o.window_bits, 9, 15);
  range("mem_level", o.mem_level, 1, 9);
  range("level", o.level, 0, 9);
}

}  // namespace ocpp
