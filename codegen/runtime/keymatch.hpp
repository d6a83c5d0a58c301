#pragma once
// Fixed-length byte comparisons for the generated key and enum matchers (src/schema/*_validators_*.cpp
// and src/messages/*_types_*.cpp, through src/schema/<ns>_enum_match.hpp). The generated code
// compares a key of known length against a literal as a few word loads against compile-time
// constants. memcmp with a constant length would do the same only where the compiler chooses to
// expand it: GCC calls the library function for ~30 bytes and more, and in code it deems cold.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ocpp::keymatch {

inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}
inline std::uint32_t load4(const char* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}
inline std::uint16_t load2(const char* p) noexcept {
  std::uint16_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}
inline unsigned char load1(const char* p) noexcept { return static_cast<unsigned char>(*p); }

// The word a load of these bytes yields. Built from the same bytes in memory order, so the
// comparison does not depend on the byte order of the machine.
template <class W, std::size_t N>
consteval W word(const char (&s)[N]) noexcept {
  static_assert(N == sizeof(W) + 1, "exactly sizeof(W) bytes");
  std::array<char, sizeof(W)> bytes{};
  for (std::size_t i = 0; i < sizeof(W); ++i) bytes[i] = s[i];
  return std::bit_cast<W>(bytes);
}
consteval std::uint64_t word8(const char (&s)[9]) noexcept { return word<std::uint64_t>(s); }
consteval std::uint32_t word4(const char (&s)[5]) noexcept { return word<std::uint32_t>(s); }
consteval std::uint16_t word2(const char (&s)[3]) noexcept { return word<std::uint16_t>(s); }
consteval unsigned char word1(const char (&s)[2]) noexcept { return static_cast<unsigned char>(s[0]); }

}  // namespace ocpp::keymatch
