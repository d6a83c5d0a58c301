#pragma once
// The interpreter of the compact validators (library ocpp_schema_compact) and the layout of the
// tables it walks, which codegen/generate.py writes into src/schema/compact_tables.cpp. Not installed.
//
// Every schema node of OCPP 1.6, 2.0.1 and 2.1 is one Node; structurally identical nodes are one
// entry across all versions. A Node's `index` points into the table of its kind. Strings (member
// names, enum values, action names) live in kPool as a length byte followed by the bytes and are
// referenced by the offset of that length byte.
#include <cstdint>

#include "schema_runtime.hpp"

namespace ocpp::schema::compact {

enum class Kind : std::uint8_t { any, boolean, string, integer, number, enumeration, array, object };

// Table field value meaning "no number rule" (integer/number) or "no maxItems" (array).
inline constexpr std::uint16_t kNone = 0xFFFF;

struct Node {
  Kind kind;
  std::uint16_t index;  // kStringRules, kNumberRules (or kNone), kEnums, kArrays, kObjects; unused otherwise
};

struct Enum {
  std::uint16_t first;  // into kEnumValues: pool offsets of the accepted spellings
  std::uint16_t count;
};

struct Array {
  std::uint16_t item;  // node
  std::uint16_t min_items;
  std::uint16_t max_items;  // kNone: no limit
};

struct Object {
  std::uint16_t first_property;  // into kProperties, in schema order
  std::uint8_t properties;       // at most 64 (the generator refuses more)
  std::uint8_t additional;       // additionalProperties
  std::uint16_t first_required;  // into kRequired: property indices (0-based within the object), schema order
  std::uint8_t required;
};

struct Property {
  std::uint16_t key;   // pool offset
  std::uint16_t node;
};

extern const char kPool[];
extern const rt::StringRule kStringRules[];
extern const rt::NumberRule kNumberRules[];
extern const Enum kEnums[];
extern const std::uint16_t kEnumValues[];
extern const Array kArrays[];
extern const Object kObjects[];
extern const Property kProperties[];
extern const std::uint8_t kRequired[];
extern const Node kNodes[];

// Validates `value` against node `root`: the same result and the same first error as the generated
// validator of that schema (codegen/README.md, Validators: order of the checks, paths, messages).
bool validate(std::uint16_t root, const boost::json::value& value, const ValidationOptions& options,
              ValidationError* error);

}  // namespace ocpp::schema::compact
