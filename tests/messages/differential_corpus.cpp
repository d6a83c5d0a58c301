// Schema-driven mutations of the sample payloads, for the differential test against valijson.
#include "differential_corpus.hpp"

#include <cmath>
#include <fstream>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace ocpp_test::differential {

namespace json = boost::json;

std::string_view to_string(MutationKind kind) {
  switch (kind) {
    case MutationKind::kWrongType: return "wrong_type";
    case MutationKind::kIntegerAsDouble: return "integer_as_double";
    case MutationKind::kIntegerForNumber: return "integer_for_number";
    case MutationKind::kAnyValue: return "any_value";
    case MutationKind::kRemoveRequired: return "remove_required";
    case MutationKind::kRemoveOptional: return "remove_optional";
    case MutationKind::kExtraProperty: return "extra_property";
    case MutationKind::kExtraPropertyAllowed: return "extra_property_allowed";
    case MutationKind::kEnumOutside: return "enum_outside";
    case MutationKind::kEnumMember: return "enum_member";
    case MutationKind::kEnumOtherSpelling: return "enum_other_spelling";
    case MutationKind::kMaxLengthOver: return "max_length_over";
    case MutationKind::kMaxLengthAt: return "max_length_at";
    case MutationKind::kMinLengthUnder: return "min_length_under";
    case MutationKind::kMinLengthAt: return "min_length_at";
    case MutationKind::kBelowMinimum: return "below_minimum";
    case MutationKind::kAtMinimum: return "at_minimum";
    case MutationKind::kAboveMaximum: return "above_maximum";
    case MutationKind::kAtMaximum: return "at_maximum";
    case MutationKind::kAtExclusiveBound: return "at_exclusive_bound";
    case MutationKind::kInsideExclusiveBound: return "inside_exclusive_bound";
    case MutationKind::kMultipleOf: return "multiple_of";
    case MutationKind::kMinItemsUnder: return "min_items_under";
    case MutationKind::kMinItemsAt: return "min_items_at";
    case MutationKind::kMaxItemsOver: return "max_items_over";
    case MutationKind::kMaxItemsAt: return "max_items_at";
    case MutationKind::kDateTimeInvalid: return "date_time_invalid";
    case MutationKind::kDateTimeValid: return "date_time_valid";
    case MutationKind::kUriInvalid: return "uri_invalid";
    case MutationKind::kUriValid: return "uri_valid";
    case MutationKind::kCount: break;
  }
  return "?";
}

std::string_view to_string(KnownDifference difference) {
  switch (difference) {
    case KnownDifference::kNone: return "none";
    case KnownDifference::kMultipleOfDecimal: return "multipleOf decided on decimal values";
    case KnownDifference::kIntegerAsDouble: return "integral double (5.0) is an integer";
    case KnownDifference::kDateTimeLeapYear: return "date-time: Feb 29 only in leap years";
    case KnownDifference::kDateTimeLeapSecond: return "date-time: second 60 only at 23:59 UTC";
    case KnownDifference::kDateTimeYearDigits: return "date-time: exactly 4 year digits";
    case KnownDifference::kDateTimeOffsetSign: return "date-time: offset sign is + or - only";
    case KnownDifference::kUriNotChecked: return "format uri (not implemented by valijson)";
    case KnownDifference::kCelsiusSpelling: return "Celcius/Celsius accepted in both spellings";
    case KnownDifference::kCount: break;
  }
  return "?";
}

namespace {

// RFC 6901 escaping of one reference token.
std::string escape_token(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::uint64_t fnv1a(std::string_view text, std::uint64_t seed) {
  std::uint64_t hash = 14695981039346656037ull ^ seed;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

// The reference tokens of a JSON pointer, unescaped.
std::vector<std::string> split_pointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  std::size_t start = 1;
  while (start <= pointer.size()) {
    std::size_t end = pointer.find('/', start);
    if (end == std::string_view::npos) end = pointer.size();
    std::string token;
    for (std::size_t i = start; i < end; ++i) {
      if (pointer[i] == '~' && i + 1 < end) {
        token += pointer[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        token += pointer[i];
      }
    }
    tokens.push_back(std::move(token));
    start = end + 1;
  }
  return tokens;
}

bool is_required(const json::object& schema, std::string_view name) {
  const json::value* required = schema.if_contains("required");
  if (required == nullptr) return false;
  for (const json::value& r : required->as_array()) {
    if (r.as_string() == name) return true;
  }
  return false;
}

// `count` code points cycling through 1-, 2-, 3- and 4-byte UTF-8 sequences, so that a byte count
// and a code point count disagree.
std::string mixed_utf8(std::size_t count) {
  static constexpr std::string_view kCycle[] = {"a", "\xC3\xA9", "\xE2\x82\xAC",
                                                "\xF0\x9F\x98\x80"};
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += kCycle[i % 4];
  return out;
}

std::string repeated(std::string_view unit, std::size_t count) {
  std::string out;
  out.reserve(unit.size() * count);
  for (std::size_t i = 0; i < count; ++i) out += unit;
  return out;
}

struct DateTimeCase {
  std::string_view text;
  bool valid;
  KnownDifference known;
  bool valid_when_lenient;
  std::string_view why;
};

// valijson 1.0 checks date-time with a regex plus a month/day table: it agrees on everything here
// except the cases tagged with a KnownDifference, which it accepts.
// Applied at every date-time member.
constexpr DateTimeCase kDateTimeCore[] = {
    {"2024-01-15T10:30:00", false, KnownDifference::kNone, true, "missing offset"},
    {"2024-13-15T10:30:00Z", false, KnownDifference::kNone, false, "month 13"},
    {"2024-04-31T10:30:00Z", false, KnownDifference::kNone, false, "April 31"},
    {"2023-02-29T10:30:00Z", false, KnownDifference::kDateTimeLeapYear, false, "Feb 29, 2023"},
    {"not a date-time", false, KnownDifference::kNone, false, "garbage"},
    {"2024-02-29T23:59:59Z", true, KnownDifference::kNone, false, "Feb 29, 2024"},
};
// kDateTimeRotationPerValue of these at each date-time member, chosen by a hash: valijson compiles
// its date-time std::regex on every check (about half a millisecond), so the whole table at every
// one of the 186 date-time members would dominate the run time. The test asserts that each entry
// was used.
constexpr DateTimeCase kDateTimeRotation[] = {
    {"2024-00-15T10:30:00Z", false, KnownDifference::kNone, false, "month 0"},
    {"2024-01-32T10:30:00Z", false, KnownDifference::kNone, false, "day 32"},
    {"2024-02-30T10:30:00Z", false, KnownDifference::kNone, false, "Feb 30"},
    {"2024-01-15T24:00:00Z", false, KnownDifference::kNone, false, "hour 24"},
    {"2024-01-15T10:60:00Z", false, KnownDifference::kNone, false, "minute 60"},
    {"2024-01-15 10:30:00Z", false, KnownDifference::kNone, false, "space separator"},
    {"2024-01-15T10:30:00+0100", false, KnownDifference::kNone, false, "offset without colon"},
    {"2024-01-15T10:30:00+24:00", false, KnownDifference::kNone, false, "offset hour 24"},
    {"2024-1-15T10:30:00Z", false, KnownDifference::kNone, false, "one-digit month"},
    {"2024-01-15", false, KnownDifference::kNone, false, "date only"},
    {"", false, KnownDifference::kNone, false, "empty"},
    {"1900-02-29T00:00:00Z", false, KnownDifference::kDateTimeLeapYear, false, "Feb 29, 1900"},
    {"2024-01-15T10:30:60Z", false, KnownDifference::kDateTimeLeapSecond, false,
     "second 60 at 10:30"},
    {"12024-01-15T10:30:00Z", false, KnownDifference::kDateTimeYearDigits, false, "5-digit year"},
    {"2024-01-15T10:30:00|01:00", false, KnownDifference::kDateTimeOffsetSign, false,
     "'|' offset sign"},
    {"2000-02-29T00:00:00Z", true, KnownDifference::kNone, false, "Feb 29, 2000"},
    {"2016-12-31T23:59:60Z", true, KnownDifference::kNone, false, "leap second"},
    {"2024-01-15t10:30:00.5z", true, KnownDifference::kNone, false, "lower-case t and z"},
    {"2024-01-15T10:30:00-05:30", true, KnownDifference::kNone, false, "negative offset"},
    {"2024-12-31T00:00:00.123456789+23:59", true, KnownDifference::kNone, false,
     "nanoseconds, max offset"},
    {"0001-01-01T00:00:00Z", true, KnownDifference::kNone, false, "year 1"},
};
constexpr std::size_t kDateTimeRotationPerValue = 2;

struct UriCase {
  std::string_view text;
  bool valid;
  std::string_view why;
};

constexpr UriCase kUriCases[] = {
    {"not a uri", false, "spaces, no scheme"},
    {"/relative/path", false, "relative reference"},
    {"//host/path", false, "network-path reference"},
    {"http://exa mple.com/", false, "space in host"},
    {"http://example.com/%zz", false, "bad percent escape"},
    {"1abc://host", false, "scheme starts with a digit"},
    {"http://example.com/a#b#c", false, "two fragments"},
    {"", false, "empty"},
    {"https://example.com/firmware.bin?version=1.2#sig", true, "query and fragment"},
    {"ftp://user:pw@[2001:db8::1]:21/diag", true, "userinfo, IPv6 literal, port"},
    {"urn:isbn:0451450523", true, "URN"},
    {"http://example.com/a%20b", true, "percent escape"},
};

// multipleOf 0.1 (the only divisor in the OCA schemas, OCPP 1.6 charging limits): the expectation
// is the decimal one; valijson's floating remainder disagrees on some of them.
struct MultipleCase {
  double value;
  bool valid;
};
constexpr MultipleCase kTenthCases[] = {
    {8.1, true},    {21.4, true},  {16.3, true},
    {2000.0, true}, {0.0, true},   {0.7, true},
    {6.25, false},  {0.15, false}, {0.30000000000000004, false},
    {1e-7, false},
};

class Generator {
 public:
  Generator(const json::value& schema, const json::value& sample,
            const std::function<void(const Mutation&)>& visit)
      : schema_(schema), sample_(sample), visit_(visit), seed_(fnv1a(json::serialize(sample), 0)) {}

  void run() { walk(resolve(schema_), sample_, ""); }

  static constexpr std::size_t kWrongTypesPerValue = 2;

 private:
  // Follows local "$ref"s ("#/definitions/X"), the only kind the OCA schemas use.
  const json::object& resolve(const json::value& node) const {
    const json::value* current = &node;
    for (int depth = 0; depth < 16; ++depth) {
      const json::object& object = current->as_object();
      const json::value* ref = object.if_contains("$ref");
      if (ref == nullptr) return object;
      std::string_view target = ref->as_string();
      if (target.empty() || target.front() != '#') {
        throw std::runtime_error("unsupported $ref " + std::string(target));
      }
      current = &schema_.at_pointer(target.substr(1));
    }
    throw std::runtime_error("$ref chain too long");
  }

  void emit(MutationKind kind, const std::string& pointer, json::value replacement, bool valid,
            std::string label, std::string_view keyword,
            KnownDifference known = KnownDifference::kNone, bool valid_when_lenient = false) {
    Mutation m{.kind = kind,
               .pointer = pointer,
               .label = std::move(label),
               .payload = sample_,
               .focused = {},
               .expect_valid = valid,
               .expect_keyword = valid ? std::string_view{} : keyword,
               .known = known,
               .valid_when_lenient = valid_when_lenient};
    m.payload.at_pointer(pointer) = std::move(replacement);
    finish(m);
  }

  void emit_removal(MutationKind kind, const std::string& object_pointer, std::string_view name,
                    bool valid) {
    std::string pointer = object_pointer + "/" + escape_token(name);
    Mutation m{.kind = kind,
               .pointer = pointer,
               .label = "remove " + std::string(name),
               .payload = sample_,
               .focused = {},
               .expect_valid = valid,
               .expect_keyword = valid ? std::string_view{} : std::string_view{"required"}};
    m.payload.at_pointer(object_pointer).as_object().stable_erase(name);
    finish(m);
  }

  void emit_addition(MutationKind kind, const std::string& object_pointer, std::string_view name,
                     bool valid) {
    std::string pointer = object_pointer + "/" + escape_token(name);
    Mutation m{
        .kind = kind,
        .pointer = pointer,
        .label = "add " + std::string(name),
        .payload = sample_,
        .focused = {},
        .expect_valid = valid,
        .expect_keyword = valid ? std::string_view{} : std::string_view{"additionalProperties"}};
    m.payload.at_pointer(object_pointer).as_object()[name] = 1;
    finish(m);
  }

  void finish(Mutation& m) {
    m.focused = m.payload;
    prune(m.focused, resolve(schema_), split_pointer(m.pointer), 0, true);
    visit_(m);
  }

  // Drops the optional members that are not on the path to the mutation, at every level (inside
  // the mutated value too: copies of an array element lose their optional members). Members the
  // schema does not know (an added member, vendor extras) stay. The result is valid apart from the
  // mutation because the OCA schemas have no dependencies between members.
  void prune(json::value& value, const json::object& schema, const std::vector<std::string>& path,
             std::size_t depth, bool on_path) const {
    const json::value* type = schema.if_contains("type");
    if (type == nullptr) return;
    auto next_on_path = [&](std::string_view token) {
      return on_path && depth < path.size() && path[depth] == token;
    };
    if (type->as_string() == "object" && value.is_object()) {
      const json::value* properties = schema.if_contains("properties");
      json::object kept;
      for (auto& member : value.as_object()) {
        const json::value* property_schema =
            properties != nullptr ? properties->as_object().if_contains(member.key()) : nullptr;
        bool keep_path = next_on_path(member.key());
        if (property_schema != nullptr && !keep_path && !is_required(schema, member.key())) {
          continue;
        }
        if (property_schema != nullptr) {
          prune(member.value(), resolve(*property_schema), path, depth + 1, keep_path);
        }
        kept.emplace(member.key(), std::move(member.value()));  // keeps the document order
      }
      value = std::move(kept);
    } else if (type->as_string() == "array" && value.is_array()) {
      const json::value* items = schema.if_contains("items");
      if (items == nullptr) return;
      json::array& elements = value.as_array();
      for (std::size_t i = 0; i < elements.size(); ++i) {
        prune(elements[i], resolve(*items), path, depth + 1, next_on_path(std::to_string(i)));
      }
    }
  }

  void walk(const json::object& schema, const json::value& instance, const std::string& pointer) {
    const json::value* type = schema.if_contains("type");
    if (type == nullptr) {
      walk_untyped(pointer);
      return;
    }
    std::string_view type_name = type->as_string();
    wrong_types(type_name, pointer);
    if (type_name == "object") {
      walk_object(schema, instance, pointer);
    } else if (type_name == "array") {
      walk_array(schema, instance, pointer);
    } else if (type_name == "string") {
      walk_string(schema, pointer);
    } else if (type_name == "integer" || type_name == "number") {
      walk_number(schema, instance, pointer, type_name == "integer");
    }
  }

  // An untyped member (2.x DataTransfer.data and a few others) accepts any JSON value.
  void walk_untyped(const std::string& pointer) {
    const json::value values[] = {
        7, "text", true, nullptr, json::object{{"k", json::array{1}}}, json::array{1, "x"}};
    for (const json::value& v : values) {
      emit(MutationKind::kAnyValue, pointer, v, true, "any value " + json::serialize(v), {});
    }
  }

  void wrong_types(std::string_view type_name, const std::string& pointer) {
    struct Candidate {
      std::string_view type;
      json::value value;
    };
    // Non-empty object/array on purpose: valijson's format check meets them before its type check.
    const Candidate candidates[] = {
        {"string", "7"},           {"integer", 7},    {"number", 2.5},
        {"boolean", true},         {"null", nullptr}, {"object", json::object{{"k", 1}}},
        {"array", json::array{1}},
    };
    std::vector<const Candidate*> wrong;
    for (const Candidate& c : candidates) {
      if (c.type != type_name && !(type_name == "number" && c.type == "integer")) {
        wrong.push_back(&c);
      }
    }
    // Every wrong type at every value would be 5-6 cases per value and dominate the corpus; two per
    // value, chosen by a hash of the sample and the pointer, still meet every pair of schema type
    // and wrong type many times over the corpus (asserted by the test).
    std::size_t first = fnv1a(pointer, seed_) % wrong.size();
    for (std::size_t i = 0; i < kWrongTypesPerValue && i < wrong.size(); ++i) {
      const Candidate& c = *wrong[(first + i) % wrong.size()];
      emit(MutationKind::kWrongType, pointer, c.value, false,
           std::string(type_name) + " replaced by " + std::string(c.type), "type");
    }
  }

  void walk_object(const json::object& schema, const json::value& instance,
                   const std::string& pointer) {
    const json::object& members = instance.as_object();
    const json::value* properties = schema.if_contains("properties");
    const json::value* required = schema.if_contains("required");
    for (const auto& member : members) {
      const json::value* property_schema =
          properties != nullptr ? properties->as_object().if_contains(member.key()) : nullptr;
      if (property_schema == nullptr) continue;  // e.g. the vendor extras of a sample customData
      walk(resolve(*property_schema), member.value(), pointer + "/" + escape_token(member.key()));
    }
    if (required != nullptr) {
      for (const json::value& r : required->as_array()) {
        if (members.contains(r.as_string())) {
          emit_removal(MutationKind::kRemoveRequired, pointer, r.as_string(), false);
        }
      }
    }
    for (const auto& member : members) {
      if (properties != nullptr && properties->as_object().contains(member.key()) &&
          !is_required(schema, member.key())) {
        emit_removal(MutationKind::kRemoveOptional, pointer, member.key(), true);
      }
    }
    std::string extra = "unexpectedMember";
    while (properties != nullptr && properties->as_object().contains(extra)) extra += "_";
    const json::value* additional = schema.if_contains("additionalProperties");
    bool closed = additional != nullptr && additional->is_bool() && !additional->as_bool();
    emit_addition(closed ? MutationKind::kExtraProperty : MutationKind::kExtraPropertyAllowed,
                  pointer, extra, !closed);
  }

  void walk_array(const json::object& schema, const json::value& instance,
                  const std::string& pointer) {
    const json::array& elements = instance.as_array();
    if (const json::value* items = schema.if_contains("items");
        items != nullptr && !elements.empty()) {
      walk(resolve(*items), elements[0], pointer + "/0");
    }
    auto copies = [&](std::size_t n) {
      json::array out;
      for (std::size_t i = 0; i < n; ++i) out.push_back(elements[0]);
      return out;
    };
    const json::value* min_items = schema.if_contains("minItems");
    std::size_t min = min_items != nullptr ? min_items->to_number<std::size_t>() : 0;
    if (min == 0) {
      emit(MutationKind::kMinItemsAt, pointer, json::array{}, true, "empty array", {});
    } else if (!elements.empty()) {
      emit(MutationKind::kMinItemsUnder, pointer, copies(min - 1), false,
           std::to_string(min - 1) + " elements", "minItems");
      emit(MutationKind::kMinItemsAt, pointer, copies(min), true, std::to_string(min) + " elements",
           {});
    }
    if (const json::value* max_items = schema.if_contains("maxItems");
        max_items != nullptr && !elements.empty()) {
      std::size_t max = max_items->to_number<std::size_t>();
      emit(MutationKind::kMaxItemsAt, pointer, copies(max), true, std::to_string(max) + " elements",
           {});
      emit(MutationKind::kMaxItemsOver, pointer, copies(max + 1), false,
           std::to_string(max + 1) + " elements", "maxItems");
    }
  }

  void walk_string(const json::object& schema, const std::string& pointer) {
    if (const json::value* values = schema.if_contains("enum")) {
      walk_enum(values->as_array(), pointer);
      return;
    }
    if (const json::value* max_length = schema.if_contains("maxLength")) {
      std::size_t n = max_length->to_number<std::size_t>();
      std::string count = std::to_string(n);
      emit(MutationKind::kMaxLengthAt, pointer, json::string(repeated("a", n)), true,
           count + " ASCII code points", {});
      // About 2.5n bytes: catches a byte count posing as a code point count.
      emit(MutationKind::kMaxLengthAt, pointer, json::string(mixed_utf8(n)), true,
           count + " mixed 1-4 byte code points", {});
      std::string over = std::to_string(n + 1);
      emit(MutationKind::kMaxLengthOver, pointer, json::string(repeated("a", n + 1)), false,
           over + " ASCII code points", "maxLength");
      emit(MutationKind::kMaxLengthOver, pointer, json::string(mixed_utf8(n + 1)), false,
           over + " mixed 1-4 byte code points", "maxLength");
    }
    if (const json::value* min_length = schema.if_contains("minLength")) {
      std::size_t n = min_length->to_number<std::size_t>();
      emit(MutationKind::kMinLengthAt, pointer, json::string(mixed_utf8(n)), true,
           std::to_string(n) + " code points", {});
      if (n > 0) {
        emit(MutationKind::kMinLengthUnder, pointer, json::string(repeated("\xC3\xA9", n - 1)),
             false, std::to_string(n - 1) + " two-byte code points", "minLength");
      }
    }
    if (const json::value* format = schema.if_contains("format")) {
      if (format->as_string() == "date-time") {
        auto emit_date_time = [&](const DateTimeCase& c) {
          emit(c.valid ? MutationKind::kDateTimeValid : MutationKind::kDateTimeInvalid, pointer,
               json::string(c.text), c.valid, "date-time " + std::string(c.why), "format", c.known,
               c.valid_when_lenient);
        };
        for (const DateTimeCase& c : kDateTimeCore) emit_date_time(c);
        constexpr std::size_t kRotation = std::size(kDateTimeRotation);
        std::size_t first = fnv1a(pointer, seed_ ^ 0x5a5a) % kRotation;
        for (std::size_t i = 0; i < kDateTimeRotationPerValue; ++i) {
          emit_date_time(kDateTimeRotation[(first + i * (kRotation / 2)) % kRotation]);
        }
      } else if (format->as_string() == "uri") {
        for (const UriCase& c : kUriCases) {
          emit(c.valid ? MutationKind::kUriValid : MutationKind::kUriInvalid, pointer,
               json::string(c.text), c.valid, "uri " + std::string(c.why), "format",
               KnownDifference::kUriNotChecked);
        }
      }
    }
  }

  void walk_enum(const json::array& values, const std::string& pointer) {
    auto listed = [&](std::string_view s) {
      for (const json::value& v : values) {
        if (v.as_string() == s) return true;
      }
      return false;
    };
    for (const json::value& v : values) {
      emit(MutationKind::kEnumMember, pointer, v, true, "enum member " + json::serialize(v), {});
    }
    std::string flipped(values.at(0).as_string());
    for (char& c : flipped) {
      if (c >= 'a' && c <= 'z') {
        c = static_cast<char>(c - 'a' + 'A');
      } else if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
    }
    for (std::string_view outside :
         {std::string_view{"NotAnEnumValue"}, std::string_view{flipped}, std::string_view{""}}) {
      if (listed(outside)) continue;
      emit(MutationKind::kEnumOutside, pointer, json::string(outside), false,
           "not in enum: \"" + std::string(outside) + "\"", "enum");
    }
    // The OCPP 1.6 schemas misspell Celsius; our validators accept either spelling.
    if (listed("Celcius") != listed("Celsius")) {
      emit(MutationKind::kEnumOtherSpelling, pointer,
           json::string(listed("Celcius") ? "Celsius" : "Celcius"), true, "other Celsius spelling",
           {}, KnownDifference::kCelsiusSpelling);
    }
  }

  json::value number_value(double v, bool integer) const {
    if (integer) return json::value(static_cast<std::int64_t>(v));
    return json::value(v);
  }

  void walk_number(const json::object& schema, const json::value& instance,
                   const std::string& pointer, bool integer) {
    std::optional<double> lower;
    std::optional<double> upper;
    if (integer && instance.is_int64()) {
      emit(MutationKind::kIntegerAsDouble, pointer, static_cast<double>(instance.as_int64()), true,
           "integer written as double", {}, KnownDifference::kIntegerAsDouble);
    }
    bound(schema, pointer, integer, true, lower);
    bound(schema, pointer, integer, false, upper);
    if (!integer) {
      double one = 1;
      if (lower && one < *lower) one = std::ceil(*lower);
      if (upper && one > *upper) one = std::floor(*upper);
      if ((!lower || one >= *lower) && (!upper || one <= *upper)) {
        emit(MutationKind::kIntegerForNumber, pointer, static_cast<std::int64_t>(one), true,
             "integer for number", {});
      }
    }
    if (const json::value* divisor_value = schema.if_contains("multipleOf")) {
      double divisor = divisor_value->to_number<double>();
      if (divisor == 0.1 && !integer) {
        for (const MultipleCase& c : kTenthCases) {
          emit(MutationKind::kMultipleOf, pointer, c.value, c.valid,
               "multipleOf 0.1: " + json::serialize(json::value(c.value)), "multipleOf",
               KnownDifference::kMultipleOfDecimal);
        }
      } else {
        // Any other divisor: only the values that are multiples in every arithmetic.
        emit(MutationKind::kMultipleOf, pointer, number_value(0, integer), true, "multipleOf: 0",
             {}, KnownDifference::kMultipleOfDecimal);
        emit(MutationKind::kMultipleOf, pointer, number_value(divisor, integer), true,
             "multipleOf: the divisor", {}, KnownDifference::kMultipleOfDecimal);
      }
    }
  }

  // minimum/maximum, with the draft-04 boolean and draft-06 numeric forms of the exclusive bounds.
  void bound(const json::object& schema, const std::string& pointer, bool integer, bool is_lower,
             std::optional<double>& inclusive) {
    const char* plain_keyword = is_lower ? "minimum" : "maximum";
    const char* exclusive_keyword = is_lower ? "exclusiveMinimum" : "exclusiveMaximum";
    const json::value* plain = schema.if_contains(plain_keyword);
    const json::value* exclusive = schema.if_contains(exclusive_keyword);
    double outward = is_lower ? -std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::infinity();
    double step = is_lower ? -1 : 1;
    std::optional<double> exclusive_at;
    std::string_view exclusive_reported;
    if (plain != nullptr && exclusive != nullptr && exclusive->is_bool() && exclusive->as_bool()) {
      exclusive_at = plain->to_number<double>();
      exclusive_reported = {};  // which keyword a draft-04 exclusive bound reports is not fixed
    } else {
      if (plain != nullptr) inclusive = plain->to_number<double>();
      if (exclusive != nullptr && exclusive->is_number()) {
        exclusive_at = exclusive->to_number<double>();
        exclusive_reported = exclusive_keyword;
      }
    }
    if (inclusive) {
      double at = *inclusive;
      if (integer) at = is_lower ? std::ceil(at) : std::floor(at);
      emit(is_lower ? MutationKind::kAtMinimum : MutationKind::kAtMaximum, pointer,
           number_value(at, integer), true,
           std::string(plain_keyword) + " exactly " + json::serialize(json::value(at)), {});
      std::vector<double> outside;
      if (integer) {
        outside.push_back(at + step);
      } else {
        outside.push_back(std::nextafter(at, outward));
        outside.push_back(at + step / 2);
      }
      for (double v : outside) {
        emit(is_lower ? MutationKind::kBelowMinimum : MutationKind::kAboveMaximum, pointer,
             number_value(v, integer), false,
             std::string(plain_keyword) + " " + json::serialize(json::value(*inclusive)) +
                 " violated by " + json::serialize(number_value(v, integer)),
             plain_keyword);
      }
    }
    if (exclusive_at) {
      double at = *exclusive_at;
      bool integral = std::floor(at) == at;
      if (!integer || integral) {
        emit(MutationKind::kAtExclusiveBound, pointer, number_value(at, integer), false,
             std::string(exclusive_keyword) + " exactly", exclusive_reported);
      }
      double inside = integer ? (integral ? at - step : (is_lower ? std::ceil(at) : std::floor(at)))
                              : std::nextafter(at, -outward);
      emit(MutationKind::kInsideExclusiveBound, pointer, number_value(inside, integer), true,
           std::string(exclusive_keyword) + " just inside", {});
    }
  }

  const json::value& schema_;
  const json::value& sample_;
  const std::function<void(const Mutation&)>& visit_;
  std::uint64_t seed_;
};

}  // namespace

std::size_t date_time_variant_count() {
  return std::size(kDateTimeCore) + std::size(kDateTimeRotation);
}

void for_each_mutation(const json::value& schema, const json::value& sample,
                       const std::function<void(const Mutation&)>& visit) {
  Generator(schema, sample, visit).run();
}

json::value load_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

}  // namespace ocpp_test::differential
