// The interpreter of the compact validators: walks a value against the tables of
// src/schema/compact_tables.cpp. It mirrors the generated validators (codegen/generate.py,
// emit_object_validator and ValidatorTU.check_expr) check for check and calls the same runtime
// (schema_runtime.hpp), so both give the same first error; tests/messages/compact_test.cpp holds
// them to that.
#include "compact_validator.hpp"

#include <cstring>
#include <string>
#include <string_view>

namespace ocpp::schema::compact {
namespace {

namespace json = boost::json;

std::string_view pool_string(std::uint16_t offset) noexcept {
  return {kPool + offset + 1, static_cast<unsigned char>(kPool[offset])};
}

bool same(std::string_view a, std::uint16_t offset) noexcept {
  return static_cast<unsigned char>(kPool[offset]) == a.size() &&
         std::memcmp(kPool + offset + 1, a.data(), a.size()) == 0;
}

// Prepend "/<key>" (JSON-pointer escaped) to the error path; returns false.
bool prefix_member(ValidationError* e, std::string_view key) {
  if (!e) return false;
  std::string segment = "/";
  for (char c : key) {
    if (c == '~')
      segment += "~0";
    else if (c == '/')
      segment += "~1";
    else
      segment += c;
  }
  return rt::prefix(e, segment);
}

bool check(std::uint16_t id, const json::value& v, const ValidationOptions& opt, ValidationError* e);

bool check_enum(const Enum& en, const json::value& v, ValidationError* e) {
  const json::string* s = v.if_string();
  if (!s) return rt::fail(e, "type", "expected string");
  const std::string_view text = rt::view(*s);
  for (std::uint16_t i = 0; i < en.count; ++i)
    if (same(text, kEnumValues[en.first + i])) return true;
  return rt::fail_enum(e);
}

bool check_array(const Array& ar, const json::value& v, const ValidationOptions& opt, ValidationError* e) {
  const json::array* a =
      rt::check_array(v, ar.min_items, ar.max_items == kNone ? rt::kNoLimit : ar.max_items, e);
  if (!a) return false;
  for (std::size_t i = 0; i < a->size(); ++i)
    if (!check(ar.item, (*a)[i], opt, e)) return rt::prefix_index(e, i);
  return true;
}

// One pass over the members in document order, like the generated code: the required and
// additionalProperties checks still decide first, so a missing or unknown member overwrites a
// failing value's error.
bool check_object(const Object& ob, const json::value& v, const ValidationOptions& opt, ValidationError* e) {
  const json::object* o = v.if_object();
  if (!o) return rt::fail(e, "type", "expected object");
  const Property* props = kProperties + ob.first_property;
  const unsigned n = ob.properties;
  std::uint64_t seen = 0;
  const json::key_value_pair* unknown = nullptr;
  bool failed = false;
  unsigned next = 0;  // members mostly come in schema order: start looking after the last match
  for (const json::key_value_pair& kv : *o) {
    const std::string_view key = kv.key();
    unsigned i = next;
    unsigned tried = 0;
    for (; tried < n; ++tried, i = i + 1 == n ? 0 : i + 1)
      if (same(key, props[i].key)) break;
    if (tried == n) {
      if (!ob.additional && !unknown) unknown = &kv;
      continue;
    }
    next = i + 1 == n ? 0 : i + 1;
    seen |= std::uint64_t{1} << i;
    if (!failed && !check(props[i].node, kv.value(), opt, e)) {
      prefix_member(e, key);
      failed = true;
    }
  }
  for (std::uint8_t r = 0; r < ob.required; ++r) {
    const std::uint8_t i = kRequired[ob.first_required + r];
    if (!(seen & (std::uint64_t{1} << i)))
      return rt::fail_member(e, pool_string(props[i].key), "required", "missing required property");
  }
  if (unknown) return rt::fail_member(e, unknown->key(), "additionalProperties", "property not allowed");
  return !failed;
}

bool check(std::uint16_t id, const json::value& v, const ValidationOptions& opt, ValidationError* e) {
  const Node node = kNodes[id];
  switch (node.kind) {
    case Kind::any:
      return true;
    case Kind::boolean:
      return rt::check_boolean(v, e);
    case Kind::string:
      return rt::check_string(v, kStringRules[node.index], opt, e);
    case Kind::integer:
      return rt::check_integer(v, node.index == kNone ? nullptr : &kNumberRules[node.index], e);
    case Kind::number:
      return rt::check_number(v, node.index == kNone ? nullptr : &kNumberRules[node.index], e);
    case Kind::enumeration:
      return check_enum(kEnums[node.index], v, e);
    case Kind::array:
      return check_array(kArrays[node.index], v, opt, e);
    case Kind::object:
      return check_object(kObjects[node.index], v, opt, e);
  }
  return rt::fail(e, "type", "corrupt compact schema table");
}

}  // namespace

bool validate(std::uint16_t root, const json::value& value, const ValidationOptions& options,
              ValidationError* error) {
  return check(root, value, options, error);
}

}  // namespace ocpp::schema::compact
