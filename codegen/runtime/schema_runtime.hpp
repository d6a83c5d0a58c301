#pragma once
// Internal helpers for the generated validators (src/schema/*.cpp). Not installed.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <ocpp/schema/validation.hpp>

namespace ocpp::schema::rt {

enum class Format : unsigned char { none, date_time, uri };

inline constexpr std::size_t kNoLimit = static_cast<std::size_t>(-1);

struct StringRule {
  std::size_t min_length;  // 0 = none
  std::size_t max_length;  // kNoLimit = none
  Format format;
};

// Numeric constraints; `flags` says which members apply.
struct NumberRule {
  enum : unsigned { kMin = 1, kExclMin = 2, kMax = 4, kExclMax = 8, kMultipleOf = 16 };
  unsigned flags;
  double minimum;
  double exclusive_minimum;
  double maximum;
  double exclusive_maximum;
  double multiple_of;
};

// Record a failure at the current value (path empty; callers prepend segments while unwinding).
bool fail(ValidationError* e, const char* keyword, const char* message);
// Record a failure at member `key` of the current object (key is JSON-pointer escaped).
bool fail_member(ValidationError* e, std::string_view key, const char* keyword, const char* message);
// Prepend a ready-made (already escaped) pointer segment "/name" to the error path; returns false.
bool prefix(ValidationError* e, std::string_view segment);
// Prepend "/<index>"; returns false.
bool prefix_index(ValidationError* e, std::size_t index);

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

// Index of `key` in `keys[0..n)`, or -1.
inline int find_key(std::string_view key, const std::string_view* keys, int n) noexcept {
  for (int i = 0; i < n; ++i)
    if (same(keys[i], key)) return i;
  return -1;
}

// Members whose property index is remembered between the two passes over an object.
inline constexpr std::size_t kIndexCache = 32;

inline std::string_view view(const boost::json::string& s) noexcept { return {s.data(), s.size()}; }

bool check_string(const boost::json::value& v, const StringRule& rule, const ValidationOptions& opt,
                  ValidationError* e);
bool check_integer(const boost::json::value& v, const NumberRule* rule, ValidationError* e);
bool check_number(const boost::json::value& v, const NumberRule* rule, ValidationError* e);
bool check_boolean(const boost::json::value& v, ValidationError* e);
// Type + minItems/maxItems; nullptr on failure (error filled).
const boost::json::array* check_array(const boost::json::value& v, std::size_t min_items,
                                      std::size_t max_items, ValidationError* e);
bool fail_enum(ValidationError* e);

}  // namespace ocpp::schema::rt
