// Runtime of the generated validators: formats, lengths, numbers, error reporting.
#include "schema_runtime.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace ocpp::schema {

std::optional<ValidationError> validate(ValidateFn fn, const boost::json::value& value,
                                        const ValidationOptions& options) {
  ValidationError error;
  if (fn(value, options, &error)) return std::nullopt;
  return error;
}

std::size_t code_points(std::string_view s) noexcept {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0u) != 0x80u;
  return n;
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t count, int& out) noexcept {
  int v = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

int days_in_month(int year, int month) noexcept {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_unreserved(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) noexcept {
  switch (c) {
    case '!': case '$': case '&': case '\'': case '(': case ')':
    case '*': case '+': case ',': case ';': case '=':
      return true;
    default:
      return false;
  }
}
// pchar = unreserved / pct-encoded / sub-delims / ":" / "@"  (pct-encoded handled by caller)
bool is_pchar(char c) noexcept { return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@'; }

// Checks [begin,end) consists of allowed chars (pred or extra) and valid %XX escapes.
template <class Pred>
bool scan(std::string_view s, std::size_t begin, std::size_t end, Pred ok) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= end) return false;
      if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!ok(c)) {
      return false;
    }
  }
  return true;
}

struct Decimal {
  std::uint64_t digits;  // no trailing zeros unless zero
  int exponent;          // value = digits * 10^exponent
};

bool to_decimal(double x, Decimal& out) noexcept {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(x), std::chars_format::scientific);
  if (r.ec != std::errc()) return false;
  const char* p = buf;
  std::uint64_t d = 0;
  int frac = 0;
  bool in_frac = false;
  for (; p < r.ptr && *p != 'e'; ++p) {
    if (*p == '.') {
      in_frac = true;
      continue;
    }
    d = d * 10 + static_cast<unsigned>(*p - '0');
    if (in_frac) ++frac;
  }
  if (p == r.ptr) return false;
  ++p;  // 'e'
  int sign = 1;
  if (*p == '-' || *p == '+') sign = (*p++ == '-') ? -1 : 1;
  int e = 0;
  for (; p < r.ptr; ++p) e = e * 10 + (*p - '0');
  int exponent = sign * e - frac;
  while (d != 0 && d % 10 == 0) {
    d /= 10;
    ++exponent;
  }
  out = {d, exponent};
  return true;
}

}  // namespace

bool is_date_time(std::string_view s, bool lenient) noexcept {
  if (s.size() < 19) return false;
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, hour) ||
      s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
    return false;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60)
    return false;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  int offset_minutes = 0;
  if (pos == s.size()) {
    if (!lenient) return false;
  } else if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    offset_minutes = 0;
  } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size()) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) || oh > 23 ||
        om > 59)
      return false;
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return false;
  }
  if (second == 60) {  // leap second: only at 23:59:60 UTC
    int utc = ((hour * 60 + minute - offset_minutes) % 1440 + 1440) % 1440;
    if (utc != 23 * 60 + 59) return false;
  }
  return true;
}

bool is_uri(std::string_view s) noexcept {
  // scheme
  if (s.empty() || !is_alpha(s[0])) return false;
  std::size_t i = 1;
  while (i < s.size() && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
    ++i;
  if (i >= s.size() || s[i] != ':') return false;
  ++i;
  std::size_t end = s.size();
  std::size_t hash = s.find('#', i);
  std::size_t query_end = hash == std::string_view::npos ? end : hash;
  std::size_t q = s.find('?', i);
  if (q > query_end) q = std::string_view::npos;
  std::size_t hier_end = q == std::string_view::npos ? query_end : q;
  std::size_t path_begin = i;
  if (hier_end - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
    std::size_t a = i + 2;
    std::size_t a_end = a;
    while (a_end < hier_end && s[a_end] != '/') ++a_end;
    // authority = [ userinfo "@" ] host [ ":" port ]
    std::size_t at = s.rfind('@', a_end == 0 ? 0 : a_end - 1);
    std::size_t host = a;
    if (at != std::string_view::npos && at >= a && at < a_end) {
      if (!scan(s, a, at, [](char c) { return is_unreserved(c) || is_sub_delim(c) || c == ':'; }))
        return false;
      host = at + 1;
    }
    std::size_t host_end;
    if (host < a_end && s[host] == '[') {
      std::size_t close = s.find(']', host);
      if (close == std::string_view::npos || close >= a_end || close == host + 1) return false;
      for (std::size_t k = host + 1; k < close; ++k)
        if (!(is_hex(s[k]) || s[k] == ':' || s[k] == '.' || is_unreserved(s[k]) || is_sub_delim(s[k])))
          return false;
      host_end = close + 1;
    } else {
      host_end = host;
      while (host_end < a_end && s[host_end] != ':') ++host_end;
      if (!scan(s, host, host_end, [](char c) { return is_unreserved(c) || is_sub_delim(c); }))
        return false;
    }
    if (host_end < a_end) {
      if (s[host_end] != ':') return false;
      for (std::size_t k = host_end + 1; k < a_end; ++k)
        if (!is_digit(s[k])) return false;
    }
    path_begin = a_end;
  }
  if (!scan(s, path_begin, hier_end, [](char c) { return is_pchar(c) || c == '/'; })) return false;
  if (q != std::string_view::npos &&
      !scan(s, q + 1, query_end, [](char c) { return is_pchar(c) || c == '/' || c == '?'; }))
    return false;
  if (hash != std::string_view::npos &&
      !scan(s, hash + 1, end, [](char c) { return is_pchar(c) || c == '/' || c == '?'; }))
    return false;
  return true;
}

bool is_multiple_of(double value, double divisor) noexcept {
  if (!std::isfinite(value) || !std::isfinite(divisor) || divisor <= 0) return false;
  if (value == 0) return true;
  Decimal v, m;
  if (!to_decimal(value, v) || !to_decimal(divisor, m)) return false;
  // value / divisor = (v.digits / m.digits) * 10^(v.exponent - m.exponent).
  // v.digits has no trailing zeros, so a negative power of ten can never be absorbed.
  if (v.exponent < m.exponent) return false;
  std::uint64_t r = v.digits % m.digits;  // m.digits < 10^17, so r * 10 fits in 64 bits
  for (int k = m.exponent; k < v.exponent && r != 0; ++k) r = (r * 10) % m.digits;
  return r == 0;
}

namespace rt {

bool fail(ValidationError* e, const char* keyword, const char* message) {
  if (e) {
    e->path.clear();
    e->keyword = keyword;
    e->message = message;
  }
  return false;
}

std::string pointer_segment(std::string_view key) {
  std::string segment = "/";
  for (char c : key) {
    if (c == '~')
      segment += "~0";
    else if (c == '/')
      segment += "~1";
    else
      segment += c;
  }
  return segment;
}

bool fail_member(ValidationError* e, std::string_view key, const char* keyword, const char* message) {
  if (e) {
    e->path = pointer_segment(key);
    e->keyword = keyword;
    e->message = message;
  }
  return false;
}

bool prefix(ValidationError* e, std::string_view segment) {
  if (e) e->path.insert(0, segment);
  return false;
}

bool prefix_index(ValidationError* e, std::size_t index) {
  if (e) e->path.insert(0, "/" + std::to_string(index));
  return false;
}

namespace {

std::string with_number(const char* text, double x) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(text) + std::string(buf, r.ptr);
}

bool fail_str(ValidationError* e, const char* keyword, std::string message) {
  if (e) {
    e->path.clear();
    e->keyword = keyword;
    e->message = std::move(message);
  }
  return false;
}

bool check_bounds(double d, const NumberRule& r, ValidationError* e) {
  if ((r.flags & NumberRule::kMin) && d < r.minimum)
    return fail_str(e, "minimum", with_number("must be >= ", r.minimum));
  if ((r.flags & NumberRule::kExclMin) && !(d > r.exclusive_minimum))
    return fail_str(e, "exclusiveMinimum", with_number("must be > ", r.exclusive_minimum));
  if ((r.flags & NumberRule::kMax) && d > r.maximum)
    return fail_str(e, "maximum", with_number("must be <= ", r.maximum));
  if ((r.flags & NumberRule::kExclMax) && !(d < r.exclusive_maximum))
    return fail_str(e, "exclusiveMaximum", with_number("must be < ", r.exclusive_maximum));
  if ((r.flags & NumberRule::kMultipleOf) && !is_multiple_of(d, r.multiple_of))
    return fail_str(e, "multipleOf", with_number("must be a multiple of ", r.multiple_of));
  return true;
}

}  // namespace

bool check_string_slow(const boost::json::value& v, const StringRule& rule, const ValidationOptions& opt,
                       ValidationError* e) {
  const boost::json::string* s = v.if_string();
  if (!s) return fail(e, "type", "expected string");
  std::string_view sv = view(*s);
  if (rule.max_length != kNoLimit || rule.min_length != 0) {
    // Code points never exceed bytes: only count when the byte length could violate a limit.
    if (sv.size() > rule.max_length || sv.size() < rule.min_length * 4) {
      std::size_t n = code_points(sv);
      if (n > rule.max_length)
        return fail_str(e, "maxLength",
                        "longer than maxLength " + std::to_string(rule.max_length) + " (" +
                            std::to_string(n) + " code points)");
      if (n < rule.min_length)
        return fail_str(e, "minLength", "shorter than minLength " + std::to_string(rule.min_length));
    }
  }
  switch (rule.format) {
    case Format::none:
      break;
    case Format::date_time:
      if (!is_date_time(sv, opt.lenient_date_time))
        return fail(e, "format", "not an RFC 3339 date-time");
      break;
    case Format::uri:
      if (!is_uri(sv)) return fail(e, "format", "not an absolute URI (RFC 3986)");
      break;
  }
  return true;
}

bool check_integer_slow(const boost::json::value& v, const NumberRule* rule, ValidationError* e) {
  double d;
  switch (v.kind()) {
    case boost::json::kind::int64:
      if (!rule) return true;
      d = static_cast<double>(v.get_int64());
      break;
    case boost::json::kind::uint64:
      // The typed messages hold integers as std::int64_t: a valid payload must convert.
      if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return fail(e, "type", "integer out of range (64 bits)");
      if (!rule) return true;
      d = static_cast<double>(v.get_uint64());
      break;
    case boost::json::kind::double_:
      d = v.get_double();
      if (!std::isfinite(d) || std::trunc(d) != d) return fail(e, "type", "expected integer");
      if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return fail(e, "type", "integer out of range (64 bits)");
      if (!rule) return true;
      break;
    default:
      return fail(e, "type", "expected integer");
  }
  return check_bounds(d, *rule, e);
}

bool check_number_slow(const boost::json::value& v, const NumberRule* rule, ValidationError* e) {
  double d;
  switch (v.kind()) {
    case boost::json::kind::int64:
      d = static_cast<double>(v.get_int64());
      break;
    case boost::json::kind::uint64:
      d = static_cast<double>(v.get_uint64());
      break;
    case boost::json::kind::double_:
      d = v.get_double();
      break;
    default:
      return fail(e, "type", "expected number");
  }
  return rule ? check_bounds(d, *rule, e) : true;
}

const boost::json::array* check_array_slow(const boost::json::value& v, std::size_t min_items,
                                           std::size_t max_items, ValidationError* e) {
  const boost::json::array* a = v.if_array();
  if (!a) {
    fail(e, "type", "expected array");
    return nullptr;
  }
  if (a->size() < min_items) {
    fail_str(e, "minItems", "fewer than minItems " + std::to_string(min_items) + " items");
    return nullptr;
  }
  if (a->size() > max_items) {
    fail_str(e, "maxItems", "more than maxItems " + std::to_string(max_items) + " items");
    return nullptr;
  }
  return a;
}

bool fail_enum(ValidationError* e) { return fail(e, "enum", "not one of the enumerated values"); }

}  // namespace rt
}  // namespace ocpp::schema
