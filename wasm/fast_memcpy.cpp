// memcpy for the WebAssembly builds. At -Oz emscripten links its size-optimised libc, whose memcpy
// copies one byte at a time (emscripten_memcpy.c, EMSCRIPTEN_OPTIMIZE_FOR_OZ); libc's memcpy is a
// weak symbol, so this one replaces it. Boost.JSON copies every key and string of a frame with it:
// eight bytes at a time parses bench/'s TransactionEvent ~0.4 us faster under node, for ~100 bytes.
// Compiled without LTO (see wasm/emscripten.cmake): the compiler's own calls to memcpy are made
// after link-time optimisation, and must find a plain definition.
#include <cstddef>
#include <cstdint>

// no_builtin: a copy loop must not be recognised as a memcpy and turned into a call to itself.
extern "C" __attribute__((no_builtin("memcpy"))) void* memcpy(void* dest, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dest);
  const auto* s = static_cast<const unsigned char*>(src);
  for (; n >= 8; n -= 8, d += 8, s += 8) {
    std::uint64_t w;
    __builtin_memcpy(&w, s, 8);
    __builtin_memcpy(d, &w, 8);
  }
  if (n >= 4) {
    std::uint32_t w;
    __builtin_memcpy(&w, s, 4);
    __builtin_memcpy(d, &w, 4);
    n -= 4;
    d += 4;
    s += 4;
  }
  for (; n != 0; --n) *d++ = *s++;
  return dest;
}
