// snprintf and vsnprintf for the browser engine, in place of musl's (printf_core and its helpers,
// 7 KB of code). Their only callers are Boost.System's and libc++'s error messages (an error's
// number, a source line, "%s"), so integers, strings, characters and pointers are enough; any
// other conversion prints "?". Linked before libc, so these definitions win.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

struct Out {
  char* at;
  size_t room;  // bytes left before the terminating NUL's place
  int count;    // what would have been written
};

void put(Out* o, char c) {
  if (o->room) {
    *o->at++ = c;
    --o->room;
  }
  ++o->count;
}

void pad(Out* o, char c, int n) {
  while (n-- > 0) put(o, c);
}

}  // namespace

extern "C" {

int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
  Out o = {buf, size ? size - 1 : 0, 0};
  for (; *fmt; ++fmt) {
    if (*fmt != '%') {
      put(&o, *fmt);
      continue;
    }
    int left = 0, zero = 0, plus = 0, space = 0, width = 0, precision = -1, size_mod = 0, half = 0;
    for (;; ++fmt) {
      const char f = fmt[1];
      if (f == '-') left = 1;
      else if (f == '0') zero = 1;
      else if (f == '+') plus = 1;
      else if (f == ' ') space = 1;
      else if (f != '#') break;
    }
    ++fmt;
    if (*fmt == '*') {
      width = va_arg(ap, int);
      if (width < 0) left = 1, width = -width;
      ++fmt;
    } else
      while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    if (*fmt == '.') {
      ++fmt;
      precision = 0;
      if (*fmt == '*') {
        precision = va_arg(ap, int);
        ++fmt;
      } else
        while (*fmt >= '0' && *fmt <= '9') precision = precision * 10 + (*fmt++ - '0');
    }
    for (;; ++fmt) {
      if (*fmt == 'l' || *fmt == 'j' || *fmt == 'z' || *fmt == 't') ++size_mod;
      else if (*fmt == 'h') ++half;
      else break;
    }
    char digits[24];
    const char* s = digits;
    int n = 0;
    char sign = 0;
    const char c = *fmt;
    if (c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X' || c == 'o' || c == 'p') {
      std::uint64_t v;
      if (c == 'p') v = reinterpret_cast<std::uintptr_t>(va_arg(ap, void*));
      else if (c == 'd' || c == 'i') {
        std::int64_t x = size_mod > 1 ? va_arg(ap, long long) : size_mod ? va_arg(ap, long) : va_arg(ap, int);
        x = half > 1 ? static_cast<signed char>(x) : half ? static_cast<short>(x) : x;
        v = x < 0 ? 0 - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
        sign = x < 0 ? '-' : plus ? '+' : space ? ' ' : 0;
      } else {
        v = size_mod > 1 ? va_arg(ap, unsigned long long) : size_mod ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
        v = half > 1 ? static_cast<unsigned char>(v) : half ? static_cast<unsigned short>(v) : v;
      }
      const unsigned base = c == 'o' ? 8 : (c == 'x' || c == 'X' || c == 'p') ? 16 : 10;
      const char* alphabet = c == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
      char* end = digits + sizeof digits;
      char* p = end;
      do *--p = alphabet[v % base]; while ((v /= base) != 0);
      if (c == 'p') *--p = 'x', *--p = '0';
      s = p;
      n = (int)(end - p);
    } else if (c == 's') {
      s = va_arg(ap, const char*);
      if (!s) s = "(null)";
      n = (int)strnlen(s, precision < 0 ? (size_t)-1 : (size_t)precision);
      precision = -1;
    } else if (c == 'c') {
      digits[0] = (char)va_arg(ap, int);
      n = 1;
    } else if (c == '%') {
      digits[0] = '%';
      n = 1;
    } else {
      digits[0] = '?';
      n = 1;
      if (!c) break;
    }
    const int zeros = precision > n ? precision - n : 0;
    const int body = n + zeros + (sign != 0);
    const int fill = width > body ? width - body : 0;
    const int zero_fill = zero && !left && precision < 0;
    if (!left && !zero_fill) pad(&o, ' ', fill);
    if (sign) put(&o, sign);
    if (zero_fill) pad(&o, '0', fill);
    pad(&o, '0', zeros);
    for (int i = 0; i < n; ++i) put(&o, s[i]);
    if (left) pad(&o, ' ', fill);
  }
  if (size) *o.at = 0;
  return o.count;
}

int snprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

}  // extern "C"
