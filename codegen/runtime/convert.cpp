// Runtime of the generated Boost.JSON conversions.
#include "convert.hpp"

#include <cmath>
#include <limits>

namespace ocpp {

std::string_view to_string(Direction d) noexcept {
  switch (d) {
    case Direction::ToCsms: return "ToCsms";
    case Direction::ToChargingStation: return "ToChargingStation";
    case Direction::Both: return "Both";
  }
  return {};
}

std::string_view to_string(MessagePattern p) noexcept {
  switch (p) {
    case MessagePattern::Call: return "Call";
    case MessagePattern::Send: return "Send";
  }
  return {};
}

namespace convert {

void throw_error(const char* context, const char* what) {
  throw ConversionError(std::string("ocpp: ") + context + ": " + what);
}

void throw_missing(const char* context) { throw_error(context, "missing required member"); }

const json::object& as_object(const json::value& v, const char* context) {
  const json::object* o = v.if_object();
  if (!o) throw_error(context, "expected object");
  return *o;
}

const json::string& as_string(const json::value& v, const char* context) {
  const json::string* s = v.if_string();
  if (!s) throw_error(context, "expected string");
  return *s;
}

void from_json(const json::value& v, std::string& out, const char* context) {
  const json::string& s = as_string(v, context);
  out.assign(s.data(), s.size());
}

void from_json(const json::value& v, std::int64_t& out, const char* context) {
  switch (v.kind()) {
    case json::kind::int64:
      out = v.get_int64();
      return;
    case json::kind::uint64:
      if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw_error(context, "integer out of range");
      out = static_cast<std::int64_t>(v.get_uint64());
      return;
    case json::kind::double_: {
      double d = v.get_double();
      if (!std::isfinite(d) || std::trunc(d) != d) throw_error(context, "expected integer");
      if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        throw_error(context, "integer out of range");
      out = static_cast<std::int64_t>(d);
      return;
    }
    default:
      throw_error(context, "expected integer");
  }
}

void from_json(const json::value& v, double& out, const char* context) {
  switch (v.kind()) {
    case json::kind::int64: out = static_cast<double>(v.get_int64()); return;
    case json::kind::uint64: out = static_cast<double>(v.get_uint64()); return;
    case json::kind::double_: out = v.get_double(); return;
    default: throw_error(context, "expected number");
  }
}

void from_json(const json::value& v, bool& out, const char* context) {
  const bool* b = v.if_bool();
  if (!b) throw_error(context, "expected boolean");
  out = *b;
}

void from_json(const json::value& v, json::object& out, const char* context) {
  out = as_object(v, context);
}

void to_json(json::value& jv, const std::string& x) { jv.emplace_string().assign(x); }
void to_json(json::value& jv, std::int64_t x) { jv = x; }
void to_json(json::value& jv, double x) { jv = x; }
void to_json(json::value& jv, bool x) { jv = x; }
void to_json(json::value& jv, const json::object& x) { jv.emplace_object() = x; }

}  // namespace convert
}  // namespace ocpp
