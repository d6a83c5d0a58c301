#pragma once
// Schema-driven mutation corpus for the differential test against valijson
// (tests/messages/differential_test.cpp). Kept free of valijson so that it builds quickly and can
// be reused by other cross-checks.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace ocpp_test::differential {

enum class MutationKind {
  kWrongType,             // value replaced by one of another JSON type
  kIntegerAsDouble,       // integer replaced by the same value as a double (5 -> 5.0): valid
  kIntegerForNumber,      // number replaced by an integer: valid
  kAnyValue,              // untyped member (any JSON value) replaced by other types: valid
  kRemoveRequired,        // required member removed
  kRemoveOptional,        // optional member removed: valid
  kExtraProperty,         // unknown member added where additionalProperties is false
  kExtraPropertyAllowed,  // unknown member added where it is allowed (customData): valid
  kEnumOutside,           // string not in the enum list
  kEnumMember,            // every member of the enum list: valid
  kEnumOtherSpelling,     // Celcius <-> Celsius where the list has only one of them
  kMaxLengthOver,         // maxLength + 1 code points (ASCII and multi-byte UTF-8)
  kMaxLengthAt,           // exactly maxLength code points (ASCII and multi-byte): valid
  kMinLengthUnder,        // minLength - 1 code points
  kMinLengthAt,           // exactly minLength code points: valid
  kBelowMinimum,          // just below minimum
  kAtMinimum,             // exactly minimum: valid
  kAboveMaximum,          // just above maximum
  kAtMaximum,             // exactly maximum: valid
  kAtExclusiveBound,      // exactly an exclusive bound
  kInsideExclusiveBound,  // just inside an exclusive bound: valid
  kMultipleOf,            // decimal multiples and non-multiples of multipleOf
  kMinItemsUnder,         // minItems - 1 elements
  kMinItemsAt,            // exactly minItems elements (or empty when there is no minItems): valid
  kMaxItemsOver,          // maxItems + 1 elements
  kMaxItemsAt,            // exactly maxItems elements: valid
  kDateTimeInvalid,       // malformed or impossible date-time
  kDateTimeValid,         // unusual but valid date-time
  kUriInvalid,            // not an absolute RFC 3986 URI
  kUriValid,              // unusual but valid absolute URI
  kCount
};

// Cases where valijson 1.0 is expected to disagree with the OCPP semantics of our validators: the
// generator tags the case, the test counts it instead of failing (see differential_test.cpp).
enum class KnownDifference {
  kNone,
  kMultipleOfDecimal,   // we decide on decimal values, valijson on floating remainder
  kIntegerAsDouble,     // 5.0 is an integer for us (JSON Schema), not for valijson (strict types)
  kDateTimeLeapYear,    // valijson accepts Feb 29 in every year
  kDateTimeLeapSecond,  // valijson accepts second 60 at any time of day
  kDateTimeYearDigits,  // valijson accepts years with more than 4 digits
  kDateTimeOffsetSign,  // valijson's regex accepts '|' as offset sign ("[\+|\-]")
  kUriNotChecked,    // valijson does not implement format "uri": compared with our expectation only
  kCelsiusSpelling,  // we accept the other spelling of Celcius/Celsius
  kCount
};

std::string_view to_string(MutationKind kind);
std::string_view to_string(KnownDifference difference);

struct Mutation {
  MutationKind kind;
  std::string pointer;         // JSON pointer of the mutated value, or of the removed/added member
  std::string label;           // what was done, for failure messages
  boost::json::value payload;  // the whole mutated sample
  // The same mutation in the sample reduced to its required members plus the members on the path to
  // the mutation: what valijson gets (see differential_test.cpp).
  boost::json::value focused;
  bool expect_valid = false;
  std::string_view expect_keyword;  // keyword our first error must name; empty: not checked
  KnownDifference known = KnownDifference::kNone;
  // Invalid only for the missing UTC offset: ValidationOptions::lenient_date_time accepts it.
  bool valid_when_lenient = false;
};

// Number of distinct date-time strings the generator uses (labels "date-time ..."), for the test's
// coverage check: a few are applied at every date-time member, the others in rotation.
std::size_t date_time_variant_count();

// Calls `visit` with every mutation of `sample` (a document valid under `schema`, the whole schema
// file with its `definitions`). The walk follows the sample: every value present in the sample is
// mutated according to the schema keywords that apply to it.
void for_each_mutation(const boost::json::value& schema, const boost::json::value& sample,
                       const std::function<void(const Mutation&)>& visit);

// The JSON document in the file at `path` (a schema); throws std::runtime_error if it cannot be read.
boost::json::value load_json_file(const std::filesystem::path& path);

}  // namespace ocpp_test::differential
