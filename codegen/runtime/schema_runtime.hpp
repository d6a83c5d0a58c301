#pragma once
// Internal helpers for the generated validators (src/schema/*.cpp). Not installed; compiled into
// ocpp_messages from here (codegen/runtime), found through its private include path.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <ocpp/schema/validation.hpp>

#include "keymatch.hpp"

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
// "/<key>" with the key JSON-pointer escaped ("~" -> "~0", "/" -> "~1").
std::string pointer_segment(std::string_view key);
// Prepend a ready-made (already escaped) pointer segment "/name" to the error path; returns false.
bool prefix(ValidationError* e, std::string_view segment);
// Prepend "/<index>"; returns false.
bool prefix_index(ValidationError* e, std::size_t index);

inline std::string_view view(const boost::json::string& s) noexcept { return {s.data(), s.size()}; }

// The checks below are called once per member; their common passing case is inline (the rules are
// constants of the generated TU, so it folds to a type test and a size compare) and everything
// else, including every failure, is out of line.
bool check_string_slow(const boost::json::value& v, const StringRule& rule, const ValidationOptions& opt,
                       ValidationError* e);
bool check_integer_slow(const boost::json::value& v, const NumberRule* rule, ValidationError* e);
bool check_number_slow(const boost::json::value& v, const NumberRule* rule, ValidationError* e);
const boost::json::array* check_array_slow(const boost::json::value& v, std::size_t min_items,
                                           std::size_t max_items, ValidationError* e);

inline bool check_string(const boost::json::value& v, const StringRule& rule, const ValidationOptions& opt,
                         ValidationError* e) {
  // Code points never exceed bytes, and a code point takes at most 4 bytes: within these byte
  // bounds neither length limit can fail, so nothing needs counting.
  const boost::json::string* s = v.if_string();
  if (s && rule.format == Format::none && s->size() <= rule.max_length && s->size() >= rule.min_length * 4)
    return true;
  return check_string_slow(v, rule, opt, e);
}

inline bool check_integer(const boost::json::value& v, const NumberRule* rule, ValidationError* e) {
  if (!rule && v.is_int64()) return true;
  return check_integer_slow(v, rule, e);
}

inline bool check_number(const boost::json::value& v, const NumberRule* rule, ValidationError* e) {
  if (!rule && v.is_number()) return true;
  return check_number_slow(v, rule, e);
}

inline bool check_boolean(const boost::json::value& v, ValidationError* e) {
  return v.is_bool() ? true : fail(e, "type", "expected boolean");
}

// Type + minItems/maxItems; nullptr on failure (error filled).
inline const boost::json::array* check_array(const boost::json::value& v, std::size_t min_items,
                                             std::size_t max_items, ValidationError* e) {
  const boost::json::array* a = v.if_array();
  if (a && a->size() >= min_items && a->size() <= max_items) return a;
  return check_array_slow(v, min_items, max_items, e);
}

bool fail_enum(ValidationError* e);

}  // namespace ocpp::schema::rt
