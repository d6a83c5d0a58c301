#pragma once
// Internal helpers for the generated Boost.JSON conversions (src/messages/*.cpp). Not installed;
// compiled into ocpp_messages from here (codegen/runtime), found through its private include path.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <ocpp/messages/common.hpp>

#include "keymatch.hpp"

namespace ocpp::convert {

namespace json = boost::json;

[[noreturn]] void throw_error(const char* context, const char* what);
[[noreturn]] void throw_missing(const char* context);

const json::object& as_object(const json::value& v, const char* context);
const json::string& as_string(const json::value& v, const char* context);

// JSON -> C++ ("context" is "Type.member", used in the ConversionError message).
void from_json(const json::value& v, std::string& out, const char* context);
void from_json(const json::value& v, std::int64_t& out, const char* context);
void from_json(const json::value& v, double& out, const char* context);
void from_json(const json::value& v, bool& out, const char* context);
void from_json(const json::value& v, json::object& out, const char* context);
inline void from_json(const json::value& v, json::value& out, const char*) { out = v; }

template <class T>
void from_json(const json::value& v, T& out, const char*) {  // generated enums and structs
  out = tag_invoke(json::value_to_tag<T>{}, v);
}

template <class T>
void from_json(const json::value& v, std::vector<T>& out, const char* context) {
  const json::array* a = v.if_array();
  if (!a) throw_error(context, "expected array");
  out.clear();
  out.reserve(a->size());
  for (const json::value& e : *a) from_json(e, out.emplace_back(), context);
}

template <class T>
void get_required(const json::object& o, std::string_view key, T& out, const char* context) {
  const json::value* p = o.if_contains(key);
  if (!p) throw_missing(context);
  from_json(*p, out, context);
}

// Absent or null -> std::nullopt.
template <class T>
void get_optional(const json::object& o, std::string_view key, std::optional<T>& out,
                  const char* context) {
  const json::value* p = o.if_contains(key);
  if (!p || p->is_null()) {
    out.reset();
    return;
  }
  from_json(*p, out.emplace(), context);
}

// Untyped members (schema without "type"): null is a value, not absence.
inline void get_optional(const json::object& o, std::string_view key, std::optional<json::value>& out,
                         const char*) {
  const json::value* p = o.if_contains(key);
  if (p)
    out.emplace(*p);
  else
    out.reset();
}

// C++ -> JSON.
void to_json(json::value& jv, const std::string& x);
void to_json(json::value& jv, std::int64_t x);
void to_json(json::value& jv, double x);
void to_json(json::value& jv, bool x);
void to_json(json::value& jv, const json::object& x);
inline void to_json(json::value& jv, const json::value& x) { jv = x; }

template <class T>
void to_json(json::value& jv, const T& x) {  // generated enums and structs
  tag_invoke(json::value_from_tag{}, jv, x);
}

template <class T>
void to_json(json::value& jv, const std::vector<T>& x) {
  json::array& a = jv.emplace_array();
  a.reserve(x.size());
  for (const T& e : x) to_json(a.emplace_back(nullptr), e);
}

template <class T>
void put(json::object& o, std::string_view key, const T& x) {
  to_json(o.emplace(key, nullptr).first->value(), x);
}

template <class T>
void put(json::object& o, std::string_view key, const std::optional<T>& x) {
  if (x) to_json(o.emplace(key, nullptr).first->value(), *x);
}

// Equality for short strings (keys, enum values) without a memcmp call.
inline bool same(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // 8 bytes at a time, inlined (no memcmp call)
    std::uint64_t x, y;
    std::memcpy(&x, p + i, 8);
    std::memcpy(&y, q + i, 8);
    if (x != y) return false;
  }
  for (; i < n; ++i)
    if (p[i] != q[i]) return false;
  return true;
}

// Enum helpers: index of `s` in `names`, or -1.
inline int find_name(std::string_view s, const std::string_view* names, int n) noexcept {
  for (int i = 0; i < n; ++i)
    if (same(names[i], s)) return i;
  return -1;
}

}  // namespace ocpp::convert
