#include "ocpp/rpc/message_id.hpp"

#include <cstdint>
#include <stdexcept>
#ifdef __EMSCRIPTEN__
#include <unistd.h>
#else
#include <random>
#endif

namespace ocpp {
namespace {

// xoshiro256**: fast, and 256 bits of state seeded from std::random_device per thread.
struct Xoshiro {
  std::uint64_t s[4];
#ifdef __EMSCRIPTEN__
  // The browser's crypto.getRandomValues. std::random_device would link libc++'s system_error and
  // its table of errno texts (1 KB gzipped) for a failure getentropy reports as -1.
  Xoshiro() {
    if (getentropy(s, sizeof s) != 0) throw std::runtime_error("no source of randomness for message ids");
  }
#else
  Xoshiro() {
    std::random_device rd;
    for (auto& x : s) x = (std::uint64_t(rd()) << 32) ^ rd();
  }
#endif
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

}  // namespace

std::string random_message_id() {
  thread_local Xoshiro rng;
  std::uint64_t hi = rng.next(), lo = rng.next();
  hi = (hi & ~(std::uint64_t(0xf) << 12)) | (std::uint64_t(4) << 12);  // version 4
  lo = (lo & ~(std::uint64_t(0x3) << 62)) | (std::uint64_t(2) << 62);  // variant 10
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[pos++] = hex[(v >> (i * 4)) & 0xf];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

}  // namespace ocpp
