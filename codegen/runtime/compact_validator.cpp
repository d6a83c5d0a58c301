// The interpreter of the compact validators: walks a value against the tables of
// src/schema/compact_tables.cpp. It mirrors the generated validators (codegen/generate.py,
// emit_object_validator and ValidatorTU.check_expr) check for check and calls the same runtime
// (schema_runtime.hpp), so both give the same first error; tests/messages/compact_test.cpp holds
// them to that.
#include "compact_validator.hpp"

#include <cstring>
#include <string_view>

namespace ocpp::schema::compact {
namespace {

namespace json = boost::json;

// The string at `offset` of the pool.
std::string_view pool_string(unsigned offset) noexcept {
  return {kPool + offset + 1, static_cast<unsigned char>(kPool[offset])};
}

// Offset of the string after the one at `offset` (in a run).
unsigned next_string(unsigned offset) noexcept { return offset + 1 + static_cast<unsigned char>(kPool[offset]); }

// Every member name and enum value is compared here; memcmp is a call into libc (a byte loop in
// WebAssembly), these names are short: eight bytes at a time, inline.
bool equal(const char* p, const char* q, std::size_t n) noexcept {
  for (; n >= 8; n -= 8, p += 8, q += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, p, 8);
    std::memcpy(&y, q, 8);
    if (x != y) return false;
  }
  for (; n != 0; --n)
    if (*p++ != *q++) return false;
  return true;
}

bool same(std::string_view a, unsigned offset) noexcept {
  return static_cast<unsigned char>(kPool[offset]) == a.size() && equal(kPool + offset + 1, a.data(), a.size());
}

bool check(NodeRef node, const json::value& v, const ValidationOptions& opt, ValidationError* e);

bool check_enum(const Enum& en, const json::value& v, ValidationError* e) {
  const json::string* s = v.if_string();
  if (!s) return rt::fail(e, "type", "expected string");
  const std::string_view text = rt::view(*s);
  // The lengths are read in a row; each value's bytes start where the lengths before it add up to.
  const auto* lengths = reinterpret_cast<const unsigned char*>(kPool + en.values);
  const char* bytes = kPool + en.values + en.count;
  for (unsigned i = 0; i < en.count; ++i) {
    const unsigned length = lengths[i];
    if (length == text.size() && equal(bytes, text.data(), length)) return true;
    bytes += length;
  }
  return rt::fail_enum(e);
}

bool check_array(const Array& ar, const json::value& v, const ValidationOptions& opt, ValidationError* e) {
  const json::array* a =
      rt::check_array(v, ar.min_items, ar.max_items == kNoMaxItems ? rt::kNoLimit : ar.max_items, e);
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
  const unsigned n = ob.properties;
  std::uint64_t seen = 0;
  const json::key_value_pair* unknown = nullptr;
  bool failed = false;
  // Members mostly come in schema order: each search starts after the last match (`next`, whose
  // name is at pool offset `next_offset`) and wraps around.
  unsigned next = 0;
  unsigned next_offset = ob.names;
  for (const json::key_value_pair& kv : *o) {
    const std::string_view key = kv.key();
    unsigned i = next;
    unsigned offset = next_offset;
    unsigned tried = 0;
    for (; tried < n; ++tried) {
      if (same(key, offset)) break;
      if (++i == n) {
        i = 0;
        offset = ob.names;
      } else {
        offset = next_string(offset);
      }
    }
    if (tried == n) {
      if (!ob.additional && !unknown) unknown = &kv;
      continue;
    }
    next = i + 1 == n ? 0 : i + 1;
    next_offset = next == 0 ? ob.names : next_string(offset);
    seen |= std::uint64_t{1} << i;
    if (!failed && !check(kPropertyNodes[ob.first_node + i], kv.value(), opt, e)) {
      if (e) rt::prefix(e, rt::pointer_segment(key));
      failed = true;
    }
  }
  for (unsigned r = 0; r < ob.required; ++r) {
    const unsigned i = kRequired[ob.first_required + r];
    if (!(seen & (std::uint64_t{1} << i))) {
      unsigned offset = ob.names;
      for (unsigned k = 0; k < i; ++k) offset = next_string(offset);
      return rt::fail_member(e, pool_string(offset), "required", "missing required property");
    }
  }
  if (unknown) return rt::fail_member(e, unknown->key(), "additionalProperties", "property not allowed");
  return !failed;
}

const rt::NumberRule* number_rule(unsigned index) noexcept { return index == kNoRule ? nullptr : &kNumberRules[index]; }

bool check(NodeRef node, const json::value& v, const ValidationOptions& opt, ValidationError* e) {
  const unsigned index = index_of(node);
  switch (kind_of(node)) {
    case Kind::any:
      return true;
    case Kind::boolean:
      return rt::check_boolean(v, e);
    case Kind::string:
      return rt::check_string(v, kStringRules[index], opt, e);
    case Kind::integer:
      return rt::check_integer(v, number_rule(index), e);
    case Kind::number:
      return rt::check_number(v, number_rule(index), e);
    case Kind::enumeration:
      return check_enum(kEnums[index], v, e);
    case Kind::array:
      return check_array(kArrays[index], v, opt, e);
    case Kind::object:
      return check_object(kObjects[index], v, opt, e);
  }
  return rt::fail(e, "type", "corrupt compact schema table");
}

}  // namespace

bool validate(NodeRef root, const json::value& value, const ValidationOptions& options,
              ValidationError* error) {
  return check(root, value, options, error);
}

}  // namespace ocpp::schema::compact
