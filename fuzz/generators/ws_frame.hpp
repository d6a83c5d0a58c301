#pragma once
// RFC 6455 frames as bytes: any header, including lying lengths, set RSV bits and unmasked client
// frames, and a reader for the frames a server sends back.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "generators/rng.hpp"

namespace ocpp::fuzzgen {

enum Opcode : std::uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

struct WsFrame {
  std::uint8_t opcode = kText;
  std::string payload;
  bool fin = true;
  std::uint8_t rsv = 0;  // the three RSV bits, 0..7
  bool masked = true;
  std::optional<std::uint64_t> length;  // what the header claims, if not the payload's size
};

// The frame's bytes; the masking key comes from `rng`.
std::string encode(const WsFrame& frame, Rng& rng);

// A close frame's payload: the code, then the reason.
std::string close_payload(std::uint16_t code, std::string_view reason = {});

// Splits a byte stream into frames. A server's frames are unmasked; a masked one is unmasked and
// reported as such, so the caller can call it the protocol error it is.
class FrameReader {
 public:
  struct Frame {
    std::uint8_t opcode = 0;
    bool fin = true;
    std::uint8_t rsv = 0;
    bool masked = false;
    std::string payload;
  };
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, or nothing yet. A frame longer than `max_payload` throws
  // std::length_error: the reader does not buffer what a broken peer claims.
  std::optional<Frame> next(std::uint64_t max_payload = 16u << 20);

 private:
  std::string buffer_;
};

// Client bytes as a reader sees them, for a replay's trace: each frame's opcode, flags and unmasked
// payload (printable ASCII kept, the rest escaped, long payloads cut); bytes that do not make a
// whole frame are shown escaped.
std::string describe(std::string_view bytes);

}  // namespace ocpp::fuzzgen
