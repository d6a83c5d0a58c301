#pragma once
// Fills two C++20 gaps of the libc++ that Debian's emscripten 3.1.6 ships (LLVM 13), so the IO-free
// sources build unchanged: std::bit_cast (used by the generated key matchers) and std::to_chars for
// double (shortest round trip; used by the validators' multipleOf and messages, the JSON log lines
// and the metrics text). Force-included into every TU of the emscripten build (wasm/emscripten.cmake);
// a no-op with a libc++ that has both (LLVM 14 and later).
#include <version>

#if defined(_LIBCPP_VERSION) && _LIBCPP_VERSION < 14000

#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

#include <boost/json/detail/ryu/ryu.hpp>

_LIBCPP_BEGIN_NAMESPACE_STD

#if !defined(__cpp_lib_bit_cast)
template <class To, class From>
  requires(sizeof(To) == sizeof(From) && is_trivially_copyable_v<To> && is_trivially_copyable_v<From>)
constexpr To bit_cast(const From& from) noexcept {
  return __builtin_bit_cast(To, from);
}
#endif

namespace __ocpp_compat {

// The shortest round-trip digits of |v| (Ryu, the algorithm libstdc++ and MSVC use too, here from
// Boost.JSON's copy), in the forms std::to_chars prints. `fmt` 0 is the plain overload.
inline to_chars_result to_chars_double(char* first, char* last, double v, int fmt) noexcept {
  char out[400];  // the longest fixed form of a double (5e-324) is 327 characters
  std::size_t n = 0;
  if (std::signbit(v)) out[n++] = '-';
  if (std::isnan(v) || std::isinf(v)) {
    std::memcpy(out + n, std::isnan(v) ? "nan" : "inf", 3);
    n += 3;
  } else {
    // "1.2345E-5": one digit, optionally '.' and more digits, 'E', the exponent.
    char ryu[32];
    const int len = boost::json::detail::ryu::d2s_buffered_n(std::fabs(v), ryu);
    const char* p = ryu;
    const char* end = ryu + len;
    char digits[20];
    int count = 0;
    for (; p < end && *p != 'E'; ++p)
      if (*p != '.') digits[count++] = *p;
    ++p;  // 'E'
    const bool negative_exponent = (p < end && *p == '-');
    if (negative_exponent) ++p;
    int exponent = 0;
    for (; p < end; ++p) exponent = exponent * 10 + (*p - '0');
    if (negative_exponent) exponent = -exponent;

    // Scientific: d[.ddd]e±XX (at least two exponent digits).
    char sci[32];
    std::size_t sci_n = 0;
    sci[sci_n++] = digits[0];
    if (count > 1) {
      sci[sci_n++] = '.';
      for (int i = 1; i < count; ++i) sci[sci_n++] = digits[i];
    }
    sci[sci_n++] = 'e';
    sci[sci_n++] = exponent < 0 ? '-' : '+';
    const int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude >= 100) sci[sci_n++] = static_cast<char>('0' + magnitude / 100);
    sci[sci_n++] = static_cast<char>('0' + magnitude / 10 % 10);
    sci[sci_n++] = static_cast<char>('0' + magnitude % 10);

    // Fixed: the same digits with the point moved; from 2^53 on, where every double is an integer
    // that the shortest digits padded with zeros may not equal, its exact digits as libstdc++ does
    // (up to 2^128; beyond that, which only chars_format::fixed can ask for, the padded digits).
    char fix[400];
    std::size_t fix_n = 0;
    const double magnitude_v = std::fabs(v);
    if (magnitude_v >= 0x1p53 && magnitude_v < 0x1p128) {
      auto integer = static_cast<unsigned __int128>(magnitude_v);
      char reversed[40];
      std::size_t r = 0;
      for (; integer != 0; integer /= 10) reversed[r++] = static_cast<char>('0' + static_cast<int>(integer % 10));
      while (r != 0) fix[fix_n++] = reversed[--r];
    } else if (exponent >= 0) {
      for (int i = 0; i <= exponent || i < count; ++i) {
        if (i == exponent + 1) fix[fix_n++] = '.';
        fix[fix_n++] = i < count ? digits[i] : '0';
      }
    } else {
      fix[fix_n++] = '0';
      fix[fix_n++] = '.';
      for (int i = -1; i > exponent; --i) fix[fix_n++] = '0';
      for (int i = 0; i < count; ++i) fix[fix_n++] = digits[i];
    }

    const bool scientific = fmt == static_cast<int>(chars_format::scientific) || (fmt == 0 && sci_n < fix_n);
    std::memcpy(out + n, scientific ? sci : fix, scientific ? sci_n : fix_n);
    n += scientific ? sci_n : fix_n;
  }
  if (static_cast<std::size_t>(last - first) < n) return {last, errc::value_too_large};
  std::memcpy(first, out, n);
  return {first + n, errc{}};
}

}  // namespace __ocpp_compat

inline to_chars_result to_chars(char* first, char* last, double value) noexcept {
  return __ocpp_compat::to_chars_double(first, last, value, 0);
}
// Shortest scientific or fixed; `general` and `hex` are not provided (errc::invalid_argument).
inline to_chars_result to_chars(char* first, char* last, double value, chars_format fmt) noexcept {
  if (fmt != chars_format::scientific && fmt != chars_format::fixed) return {last, errc::invalid_argument};
  return __ocpp_compat::to_chars_double(first, last, value, static_cast<int>(fmt));
}

_LIBCPP_END_NAMESPACE_STD

#endif
