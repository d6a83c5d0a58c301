#include "ocpp/rpc/json_text.hpp"

// dec_to_float and hex_digit are Boost's own, so numbers and escapes convert exactly as its parser
// converts them; utf8.hpp is its UTF-8 validation. Neither instantiates the parser.
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/detail/utf8.hpp>
#include <boost/json/value_stack.hpp>

#include <bit>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>

namespace ocpp {
namespace json = boost::json;
namespace {

// A whole document is in memory, so unlike basic_parser this never suspends: where Boost would
// wait for more input with no more to come, the answer is "incomplete JSON", as from parser::write.
// Boost's choices that decide an answer are kept: which fault is reported first, the fast paths that
// convert numbers and \u escapes differently from its byte-at-a-time paths, the depth counter.
class Reader {
 public:
  Reader(const char* p, const char* end, std::size_t max_depth, json::value_stack& st)
      : p_(p), end_(end), depth_(max_depth), st_(st) {}

  JsonRead run() {
    std::string_view error;
    skip_ws();
    if (p_ == end_) {
      error = "incomplete JSON";
    } else if (!value()) {
      error = error_;
    } else {
      skip_ws();
      if (p_ != end_) error = "extra data";
    }
    // Constructed in place: assigning would copy the tree into the target's (default) storage.
    return JsonRead{error.empty() ? st_.release() : json::value(), error, finite_};
  }

 private:
  bool fail(const char* message) {
    error_ = message;
    return false;
  }

  void skip_ws() {
    const char* p = p_;
    // The first test settles the usual case, a value or bracket with no whitespace before it.
    while (p != end_ && static_cast<unsigned char>(*p) <= ' ' && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
      ++p;
    p_ = p;
  }

  bool value() {
    switch (*p_) {
      case '"': return string(false);
      case '{': return object();
      case '[': return array();
      case 't':
        if (!literal("true", 4)) return false;
        st_.push_bool(true);
        return true;
      case 'f':
        if (!literal("false", 5)) return false;
        st_.push_bool(false);
        return true;
      case 'n':
        if (!literal("null", 4)) return false;
        st_.push_null();
        return true;
      case '-':
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9': return number();
      default: return fail("syntax error");
    }
  }

  bool literal(const char* word, int n) {
    for (int i = 0; i < n; ++i, ++p_) {
      if (p_ == end_) return fail("incomplete JSON");
      if (*p_ != word[i]) return fail("syntax error");
    }
    return true;
  }

  bool enter() {
    if (depth_ == 0) return fail("too deep");
    --depth_;
    ++p_;
    skip_ws();
    if (p_ == end_) return fail("incomplete JSON");
    return true;
  }

  // After a value or member: true at ',' (consumed) and at the closing bracket (not consumed).
  bool next(char close, bool& more) {
    skip_ws();
    if (p_ == end_) return fail("incomplete JSON");
    if (*p_ == ',') {
      ++p_;
      skip_ws();
      if (p_ == end_) return fail("incomplete JSON");
      more = true;
      return true;
    }
    if (*p_ != close) return fail("syntax error");
    more = false;
    return true;
  }

  bool array() {
    if (!enter()) return false;
    std::size_t n = 0;
    bool more = *p_ != ']';
    while (more) {
      ++n;
      if (!value() || !next(']', more)) return false;
    }
    ++p_;
    ++depth_;
    st_.push_array(n);
    return true;
  }

  bool object() {
    if (!enter()) return false;
    std::size_t n = 0;
    bool more = *p_ != '}';
    while (more) {
      if (*p_ != '"') return fail("syntax error");
      ++n;
      if (!string(true)) return false;
      skip_ws();
      if (p_ == end_) return fail("incomplete JSON");
      if (*p_ != ':') return fail("syntax error");
      ++p_;
      skip_ws();
      if (p_ == end_) return fail("incomplete JSON");
      if (!value() || !next('}', more)) return false;
    }
    ++p_;
    ++depth_;
    st_.push_object(n);
    return true;
  }

  // A byte >= 0x80 starts a UTF-8 sequence that must be whole and valid; one cut short by the end of
  // the text is incomplete rather than wrong, as Boost judges it.
  bool utf8() {
    const std::uint16_t first = json::detail::classify_utf8(*p_);
    const std::uint8_t len = first & 0xFF;
    if (end_ - p_ < len) return fail("incomplete JSON");
    if (!json::detail::is_valid_utf8(p_, first)) return fail("syntax error");
    p_ += len;
    return true;
  }

  void push(bool key, std::string_view s) {
    if (key)
      st_.push_key(s);
    else
      st_.push_string(s);
  }

  // The end of a run of printable ASCII other than '"' and '\\': what needs no more than copying.
  // Eight bytes at a time (wasm has no SSE2 for Boost's 16): each test sets the high bit of a byte
  // that stops the run; bytes after the first such one may be flagged wrongly, and are not used.
  static const char* plain_run(const char* p, const char* end) {
    static_assert(std::endian::native == std::endian::little, "the lowest set byte must be the first in the text");
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    auto zero_byte = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      const std::uint64_t stop =
          zero_byte(w ^ (ones * '"')) | zero_byte(w ^ (ones * '\\')) | ((w - ones * 0x20) & ~w & highs) | (w & highs);
      if (stop) return p + (__builtin_ctzll(stop) >> 3);
      p += 8;
    }
    while (p != end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) - 0x20u < 0x60u) ++p;
    return p;
  }

  bool string(bool key) {
    const char* start = ++p_;
    for (;;) {
      const char* p = plain_run(p_, end_);
      p_ = p;
      if (p == end_) return fail("incomplete JSON");
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        push(key, {start, static_cast<std::size_t>(p - start)});
        ++p_;
        return true;
      }
      if (c == '\\') {
        buf_.assign(start, p);
        return escaped(key);
      }
      if (c < 0x20) return fail("syntax error");
      if (!utf8()) return false;
    }
  }

  bool escaped(bool key) {
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        push(key, buf_);
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!escape()) return false;
        continue;
      }
      if (c < 0x20) return fail("syntax error");
      const char* from = p_;
      if (c < 0x80)
        ++p_;
      else if (!utf8())
        return false;
      buf_.append(from, p_);
    }
    return fail("incomplete JSON");
  }

  bool escape() {
    if (++p_ == end_) return fail("incomplete JSON");
    switch (*p_) {
      case '"': buf_ += '"'; break;
      case '\\': buf_ += '\\'; break;
      case '/': buf_ += '/'; break;
      case 'b': buf_ += '\b'; break;
      case 'f': buf_ += '\f'; break;
      case 'n': buf_ += '\n'; break;
      case 'r': buf_ += '\r'; break;
      case 't': buf_ += '\t'; break;
      case 'u': return end_ - p_ > 10 ? unicode_fast() : unicode_slow();
      default: return fail("syntax error");
    }
    ++p_;
    return true;
  }

  static int hex4(const char* q) {
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = json::detail::hex_digit(static_cast<unsigned char>(q[i]));
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  // Room for a whole surrogate pair: Boost reads it at once and names its faults by the surrogate.
  bool unicode_fast() {
    const int u1 = hex4(p_ + 1);
    if (u1 < 0) return fail("expected hex digit");
    p_ += 5;
    if (u1 < 0xd800 || u1 > 0xdfff) return append_utf8(u1);
    if (u1 > 0xdbff) return fail("illegal leading surrogate");
    if (*p_++ != '\\' || *p_++ != 'u') return fail("syntax error");
    const int u2 = hex4(p_);
    if (u2 < 0) return fail("expected hex digit");
    if (u2 < 0xdc00 || u2 > 0xdfff) return fail("illegal trailing surrogate");
    p_ += 4;
    return append_utf8(0x10000 + ((u1 - 0xd800) << 10) + (u2 - 0xdc00));
  }

  bool hex_digits(int& v) {
    v = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      if (p_ == end_) return fail("incomplete JSON");
      const int d = json::detail::hex_digit(static_cast<unsigned char>(*p_));
      if (d < 0) return fail("expected hex digit");
      v = v * 16 + d;
    }
    return true;
  }

  // Near the end Boost reads digit by digit, and its messages differ from the fast path's
  // (a lone trailing surrogate is "illegal trailing", a bad one "expected hex digit").
  bool unicode_slow() {
    ++p_;
    int u1 = 0;
    if (!hex_digits(u1)) return false;
    if (u1 < 0xd800 || u1 > 0xdfff) return append_utf8(u1);
    if (u1 > 0xdbff) return fail("illegal trailing surrogate");
    for (const char want : {'\\', 'u'}) {
      if (p_ == end_) return fail("incomplete JSON");
      if (*p_++ != want) return fail("syntax error");
    }
    int u2 = 0;
    if (!hex_digits(u2)) return false;
    if (u2 < 0xdc00 || u2 > 0xdfff) return fail("expected hex digit");
    return append_utf8(0x10000 + ((u1 - 0xd800) << 10) + (u2 - 0xdc00));
  }

  bool append_utf8(int cp) {
    const auto u = static_cast<unsigned>(cp);
    if (u < 0x80) {
      buf_ += static_cast<char>(u);
    } else if (u < 0x800) {
      buf_ += static_cast<char>(0xc0 | (u >> 6));
      buf_ += static_cast<char>(0x80 | (u & 0x3f));
    } else if (u < 0x10000) {
      buf_ += static_cast<char>(0xe0 | (u >> 12));
      buf_ += static_cast<char>(0x80 | ((u >> 6) & 0x3f));
      buf_ += static_cast<char>(0x80 | (u & 0x3f));
    } else {
      buf_ += static_cast<char>(0xf0 | (u >> 18));
      buf_ += static_cast<char>(0x80 | ((u >> 12) & 0x3f));
      buf_ += static_cast<char>(0x80 | ((u >> 6) & 0x3f));
      buf_ += static_cast<char>(0x80 | (u & 0x3f));
    }
    return true;
  }

  bool digit_at() const { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; }

  static int count_digits(const char* q) {
    int n = 0;
    while (n < 16 && q[n] >= '0' && q[n] <= '9') ++n;
    return n;
  }

  static std::uint64_t parse_digits(std::uint64_t m, const char* q, int n) {
    for (int i = 0; i < n; ++i) m = 10 * m + static_cast<unsigned>(q[i] - '0');
    return m;
  }

  // Boost's parse_number state for state. The fast path (33 bytes or more left) keeps up to 18
  // significant digits where the digit loop stops adding them past 2^53, so the same text can
  // round to a different double depending on what follows it; both are kept to agree bit for bit.
  bool number() {
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    std::uint64_t mant = 0;
    std::int32_t bias = 0;
    std::int32_t exp = 0;
    bool frac = false;
    char c = 0;

    if (end_ - p_ >= 16 + 1 + 16) {
      int n1 = 0;
      if (*p_ != '0') {
        n1 = count_digits(p_);
        if (n1 == 0) return fail("syntax error");
        mant = parse_digits(0, p_, n1);
        p_ += n1;
        if (n1 == 16) goto num2;
      } else {
        ++p_;
      }
      if (*p_ != '.') {
        if ((*p_ | 32) == 'e') {
          ++p_;
          goto exp1;
        }
        st_.push_int64(negative ? -static_cast<std::int64_t>(mant) : static_cast<std::int64_t>(mant));
        return true;
      }
      ++p_;
      const int n2 = count_digits(p_);
      if (n2 == 0) return fail("syntax error");
      if (n1 + n2 >= 19) goto num7;
      mant = parse_digits(mant, p_, n2);
      bias -= n2;
      p_ += n2;
      if ((*p_ | 32) == 'e') {
        ++p_;
        goto exp1;
      }
      if (*p_ >= '0' && *p_ <= '9') goto num8;
      goto finish_double;
    }

    if (negative && p_ == end_) return fail("incomplete JSON");
    c = *p_;
    if (c == '0') {
      ++p_;
      goto num6;
    }
    if (c < '1' || c > '9') return fail("syntax error");
    ++p_;
    mant = static_cast<unsigned>(c - '0');

  num2:
    // Digits accumulate while they fit the integer type; one more turns the number into a double.
    for (;;) {
      if (p_ == end_) goto finish_int;
      c = *p_;
      if (c < '0' || c > '9') goto num6;
      ++p_;
      if (negative ? (mant > 922337203685477580ull || (mant == 922337203685477580ull && c > '8'))
                   : (mant > 1844674407370955161ull || (mant == 1844674407370955161ull && c > '5')))
        break;
      mant = 10 * mant + static_cast<unsigned>(c - '0');
    }
    ++bias;
    for (;;) {
      if (p_ == end_) goto finish_double;
      c = *p_;
      if (c >= '0' && c <= '9') {
        ++p_;
        ++bias;
      } else if (c == '.') {
        ++p_;
        break;
      } else if ((c | 32) == 'e') {
        ++p_;
        goto exp1;
      } else {
        goto finish_double;
      }
    }
    if (p_ == end_) return fail("incomplete JSON");
    if (!digit_at()) return fail("syntax error");
    ++p_;
  num5:
    while (digit_at()) ++p_;
    if (p_ != end_ && (*p_ | 32) == 'e') {
      ++p_;
      goto exp1;
    }
    goto finish_double;

  num6:
    if (p_ == end_) goto finish_int;
    if (*p_ == '.') {
      ++p_;
    } else if ((*p_ | 32) == 'e') {
      ++p_;
      goto exp1;
    } else {
      goto finish_int;
    }
  num7:
    if (!digit_at()) return fail("syntax error");
  num8:
    for (;;) {
      if (p_ == end_) goto finish_double;
      c = *p_;
      if (c >= '0' && c <= '9') {
        ++p_;
        if (mant > 9007199254740991ull) goto num5;
        --bias;
        mant = 10 * mant + static_cast<unsigned>(c - '0');
      } else if ((c | 32) == 'e') {
        ++p_;
        goto exp1;
      } else {
        goto finish_double;
      }
    }

  exp1:
    if (p_ == end_) return fail("incomplete JSON");
    if (*p_ == '+') {
      ++p_;
    } else if (*p_ == '-') {
      ++p_;
      frac = true;
    }
    if (!digit_at()) return fail("syntax error");
    exp = *p_++ - '0';
    while (digit_at()) {
      if (exp > 214748364 || (exp == 214748364 && *p_ > '7')) return fail("exponent overflow");
      exp = 10 * exp + (*p_++ - '0');
    }
    if (frac ? bias < INT_MIN + exp : bias > INT_MAX - exp) return fail("exponent overflow");
    goto finish_double;

  finish_int:
    if (negative)
      st_.push_int64(static_cast<std::int64_t>(~mant + 1));
    else if (mant <= static_cast<std::uint64_t>(INT64_MAX))
      st_.push_int64(static_cast<std::int64_t>(mant));
    else
      st_.push_uint64(mant);
    return true;

  finish_double:
    const double d = json::detail::dec_to_float(mant, bias + (frac ? -exp : exp), negative);
    if (!std::isfinite(d)) finite_ = false;
    st_.push_double(d);
    return true;
  }

  const char* p_;
  const char* end_;
  std::size_t depth_;
  json::value_stack& st_;
  std::string buf_;
  const char* error_ = "";
  bool finite_ = true;
};

}  // namespace

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__) && !defined(OCPP_READER_FREE_LISTS)
#define OCPP_READER_FREE_LISTS 1
#endif
#ifdef OCPP_READER_FREE_LISTS
// The storage of what read_json returns in the browser engine: a frame's tree is ~130 small blocks
// (every key, every string past 10 bytes, every object's table), each a malloc and a free through
// Boost's default resource, operator new and dlmalloc. Boost hands back each block's size, so free
// lists by size (8-byte classes up to 256 bytes) need no header and no search; blocks stay on their
// list for the next frame. Larger blocks go to operator new. Single-threaded builds only: the lists
// have no lock.
class FreeListResource final : public json::memory_resource {
 public:
  static constexpr std::size_t kGranule = 8;
  static constexpr std::size_t kClasses = 32;

 private:
  struct Block {
    Block* next;
  };

  // 0 for n == 0 or n > 256 (and for an alignment past 8): not from a list.
  static std::size_t class_of(std::size_t n, std::size_t align) noexcept {
    const std::size_t c = (n + kGranule - 1) / kGranule;
    return align <= kGranule && c <= kClasses ? c : 0;
  }

  void* do_allocate(std::size_t n, std::size_t align) override {
    const std::size_t c = class_of(n, align);
    if (c == 0) return ::operator new(n);
    if (Block* b = free_[c - 1]) {
      free_[c - 1] = b->next;
      return b;
    }
    return ::operator new(c * kGranule);
  }

  void do_deallocate(void* p, std::size_t n, std::size_t align) override {
    const std::size_t c = class_of(n, align);
    if (c == 0) return ::operator delete(p);
    free_[c - 1] = ::new (p) Block{free_[c - 1]};
  }

  bool do_is_equal(const json::memory_resource& other) const noexcept override { return this == &other; }

  Block* free_[kClasses] = {};
};
#endif

JsonRead read_json(std::string_view text, std::size_t max_depth) {
  thread_local json::value_stack st;
#ifdef OCPP_READER_FREE_LISTS
  // Never destroyed: values read may outlive static destruction.
  static FreeListResource* const resource = new FreeListResource;
  st.reset(json::storage_ptr(resource));
#else
  st.reset(json::storage_ptr());
#endif
  return Reader(text.data(), text.data() + text.size(), max_depth, st).run();
}

}  // namespace ocpp
