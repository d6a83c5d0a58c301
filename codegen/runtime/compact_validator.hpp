#pragma once
// The interpreter of the compact validators (library ocpp_schema_compact) and the layout of the
// tables it walks, which codegen/generate.py writes into src/schema/compact_tables.cpp. Not installed.
//
// A schema node of OCPP 1.6, 2.0.1 or 2.1 is a NodeRef: its kind in the top 3 bits, the row of the
// table of that kind in the low 13. Identical rows are one row across all versions. Strings (member
// names, enum values, action names) live in kPool as a length byte followed by the bytes and are
// referenced by the offset of that length byte; an object's member names are runs of consecutive
// strings. An enum's values are a run of their lengths (a byte each) followed by their bytes.
#include <cstdint>

#include "schema_runtime.hpp"

namespace ocpp::schema::compact {

enum class Kind : std::uint8_t { any, boolean, string, integer, number, enumeration, array, object };

using NodeRef = std::uint16_t;
inline constexpr unsigned kIndexBits = 13;
inline constexpr Kind kind_of(NodeRef n) noexcept { return static_cast<Kind>(n >> kIndexBits); }
inline constexpr unsigned index_of(NodeRef n) noexcept { return n & ((1u << kIndexBits) - 1); }
// index_of() of an integer/number without bounds or multipleOf.
inline constexpr unsigned kNoRule = (1u << kIndexBits) - 1;
// Array::max_items when there is no maxItems.
inline constexpr std::uint16_t kNoMaxItems = 0xFFFF;

struct Enum {
  std::uint16_t values;  // pool offset of the accepted spellings: `count` lengths, then the bytes
  std::uint16_t count;
};

struct Array {
  NodeRef item;
  std::uint16_t min_items;
  std::uint16_t max_items;  // kNoMaxItems: no limit
};

struct Object {
  std::uint16_t names;           // pool offset of the run of member names, in schema order
  std::uint8_t properties;       // at most 64 (the generator refuses more)
  std::uint8_t additional;       // additionalProperties
  std::uint16_t first_node;      // into kPropertyNodes: the members' schemas, in schema order
  std::uint16_t first_required;  // into kRequired: member indices (0-based within the object), schema order
  std::uint8_t required;
};

extern const char kPool[];
extern const rt::StringRule kStringRules[];
extern const rt::NumberRule kNumberRules[];
extern const Enum kEnums[];
extern const Array kArrays[];
extern const Object kObjects[];
extern const NodeRef kPropertyNodes[];
extern const std::uint8_t kRequired[];

// Validates `value` against node `root`: the same result and the same first error as the generated
// validator of that schema (codegen/README.md, Validators: order of the checks, paths, messages).
bool validate(NodeRef root, const boost::json::value& value, const ValidationOptions& options,
              ValidationError* error);

}  // namespace ocpp::schema::compact
