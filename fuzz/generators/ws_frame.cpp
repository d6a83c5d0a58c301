#include "generators/ws_frame.hpp"

#include <cstdio>
#include <stdexcept>

namespace ocpp::fuzzgen {

std::string encode(const WsFrame& frame, Rng& rng) {
  std::string out;
  out.push_back(static_cast<char>((frame.fin ? 0x80 : 0) | ((frame.rsv & 7) << 4) | (frame.opcode & 0x0f)));
  const std::uint64_t n = frame.length.value_or(frame.payload.size());
  const char mask_bit = frame.masked ? '\x80' : '\0';
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(n)));
  } else if (n < 65536) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  if (!frame.masked) return out + frame.payload;
  const std::string key = rng.bytes(4);
  out += key;
  for (std::size_t i = 0; i < frame.payload.size(); ++i) out.push_back(static_cast<char>(frame.payload[i] ^ key[i % 4]));
  return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  return out.append(reason);
}

namespace {

std::string escaped(std::string_view bytes, std::size_t limit = 160) {
  std::string out;
  for (unsigned char ch : bytes.substr(0, limit)) {
    if (ch >= 32 && ch < 127 && ch != '\\') {
      out.push_back(static_cast<char>(ch));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", ch);
      out += hex;
    }
  }
  if (bytes.size() > limit) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

}  // namespace

std::string describe(std::string_view bytes) {
  FrameReader reader;
  reader.feed(bytes);
  std::string out;
  std::size_t used = 0;
  try {
    while (auto f = reader.next(1u << 20)) {
      const std::size_t header = 2 + (f->masked ? 4 : 0) + (f->payload.size() >= 65536 ? 8 : f->payload.size() >= 126 ? 2 : 0);
      used += header + f->payload.size();
      out += "[op " + std::to_string(f->opcode) + (f->fin ? "" : " more") + (f->rsv ? " rsv " + std::to_string(f->rsv) : "") +
             (f->masked ? "" : " unmasked") + "] " + escaped(f->payload) + " ";
    }
  } catch (const std::length_error& e) {
    out += std::string("[") + e.what() + "] ";
  }
  if (used < bytes.size()) out += "[not a whole frame] " + escaped(bytes.substr(used), 48);
  return out;
}

std::optional<FrameReader::Frame> FrameReader::next(std::uint64_t max_payload) {
  const auto byte = [this](std::size_t i) { return static_cast<std::uint8_t>(buffer_[i]); };
  if (buffer_.size() < 2) return std::nullopt;
  Frame f;
  f.fin = (byte(0) & 0x80) != 0;
  f.rsv = static_cast<std::uint8_t>((byte(0) >> 4) & 7);
  f.opcode = byte(0) & 0x0f;
  f.masked = (byte(1) & 0x80) != 0;
  std::uint64_t n = byte(1) & 0x7f;
  std::size_t pos = 2;
  if (n >= 126) {
    const std::size_t width = n == 126 ? 2 : 8;
    if (buffer_.size() < pos + width) return std::nullopt;
    n = 0;
    for (std::size_t i = 0; i < width; ++i) n = (n << 8) | byte(pos + i);
    pos += width;
  }
  if (n > max_payload) throw std::length_error("a frame of " + std::to_string(n) + " bytes");
  const std::size_t key_at = pos;
  if (f.masked) pos += 4;
  if (buffer_.size() < pos + n) return std::nullopt;
  f.payload = buffer_.substr(pos, static_cast<std::size_t>(n));
  if (f.masked)
    for (std::size_t i = 0; i < f.payload.size(); ++i) f.payload[i] = static_cast<char>(f.payload[i] ^ buffer_[key_at + i % 4]);
  buffer_.erase(0, pos + static_cast<std::size_t>(n));
  return f;
}

}  // namespace ocpp::fuzzgen
