#include <cstring>

#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/json_text.hpp"

#include <boost/json/detail/format.hpp>

namespace ocpp {
namespace json = boost::json;
namespace {

// Text goes out through a buffer on the stack: the WebAssembly build's libc++ calls out of line for
// every std::string::push_back, which made writing a frame 3.5x slower than Boost's serializer.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() { flush(); }

  void put(char c) {
    if (n_ == sizeof buf_) flush();
    buf_[n_++] = c;
  }

  void put(const char* p, std::size_t n) {
    if (n > sizeof buf_ - n_) {
      flush();
      if (n > sizeof buf_) {
        out_.append(p, n);
        return;
      }
    }
    std::memcpy(buf_ + n_, p, n);
    n_ += n;
  }

  // Escaped as Boost's serializer escapes: the short forms where JSON has them, \u00XX for the
  // other controls, everything else (UTF-8 included) as it is.
  void string(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    put('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      put(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"': put("\\\"", 2); break;
        case '\\': put("\\\\", 2); break;
        case '\n': put("\\n", 2); break;
        case '\r': put("\\r", 2); break;
        case '\t': put("\\t", 2); break;
        case '\b': put("\\b", 2); break;
        case '\f': put("\\f", 2); break;
        default: {
          const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
          put(u, 6);
        }
      }
    }
    put(s.data() + run, s.size() - run);
    put('"');
  }

  void value(const json::value& v) {
    char num[json::detail::max_number_chars];
    switch (v.kind()) {
      case json::kind::null: put("null", 4); return;
      case json::kind::bool_: v.get_bool() ? put("true", 4) : put("false", 5); return;
      case json::kind::int64: put(num, json::detail::format_int64(num, v.get_int64())); return;
      case json::kind::uint64: put(num, json::detail::format_uint64(num, v.get_uint64())); return;
      case json::kind::double_: put(num, json::detail::format_double(num, v.get_double())); return;
      case json::kind::string: string(v.get_string()); return;
      case json::kind::array: {
        put('[');
        bool first = true;
        for (const auto& e : v.get_array()) {
          if (!first) put(',');
          first = false;
          value(e);
        }
        put(']');
        return;
      }
      case json::kind::object: object(v.get_object()); return;
    }
  }

  void object(const json::object& o) {
    put('{');
    bool first = true;
    for (const auto& kv : o) {
      if (!first) put(',');
      first = false;
      string(kv.key());
      put(':');
      value(kv.value());
    }
    put('}');
  }

 private:
  void flush() {
    out_.append(buf_, n_);
    n_ = 0;
  }

  std::string& out_;
  char buf_[512];
  std::size_t n_ = 0;
};

}  // namespace

void write_json(std::string& out, const json::value& v) { Writer(out).value(v); }

void write_json(std::string& out, const json::object& o) { Writer(out).object(o); }

void append_json_string(std::string& out, std::string_view s) { Writer(out).string(s); }

}  // namespace ocpp
