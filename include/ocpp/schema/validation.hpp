#pragma once
/// @file
/// Shared API of the ahead-of-time JSON-schema validators generated from the OCA OCPP schemas.
/// The per-message validators live in <ocpp/messages/v16.hpp>, <ocpp/messages/v201.hpp> and
/// <ocpp/messages/v21.hpp> (functions `validate_<Message>` and the `ActionInfo` tables).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::schema {

/// The first failure found. `path` is a JSON pointer into the validated value ("" = the root,
/// "/idTagInfo/status", "/meterValue/0/sampledValue/1/unit"); for `required` it points at the missing
/// member, for `additionalProperties` at the unexpected member. `keyword` is the JSON-schema keyword
/// that failed ("type", "required", "additionalProperties", "enum", "maxLength", "minLength",
/// "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems",
/// "maxItems", "format").
struct ValidationError {
  std::string path;  ///< JSON pointer of the failing value
  std::string keyword;  ///< the failing JSON-schema keyword
  std::string message;  ///< human-readable explanation
};

/// How validators judge values.
struct ValidationOptions {
  /// Opt-in: accept `date-time` values without a UTC offset ("2024-01-01T12:00:00"), as sent by
  /// chargers that use local time. RFC 3339 (and therefore the schemas) requires the offset.
  bool lenient_date_time = false;
};

/// Returns true if the value is valid. On failure returns false and, if `error` is not null, fills it.
/// Never allocates on success; never throws except std::bad_alloc while filling `error`.
using ValidateFn = bool (*)(const boost::json::value& value, const ValidationOptions& options,
                            ValidationError* error);

/// Convenience wrapper: std::nullopt if valid, else the first error.
std::optional<ValidationError> validate(ValidateFn fn, const boost::json::value& value,
                                        const ValidationOptions& options = {});

// Building blocks used by the generated validators (exposed for tests and for callers that want
// the same semantics).

/// Number of Unicode code points in a UTF-8 string (what JSON Schema minLength/maxLength count).
std::size_t code_points(std::string_view utf8) noexcept;

/// RFC 3339 `date-time` (JSON Schema format "date-time"): YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM),
/// 'T'/'Z' case-insensitive, calendar-checked (leap years), second 60 only at 23:59 UTC.
/// With `lenient` the offset may be omitted.
bool is_date_time(std::string_view s, bool lenient = false) noexcept;

/// RFC 3986 absolute URI (JSON Schema format "uri"): scheme ":" hier-part [ "?" query ] [ "#" fragment ]
/// with only URI characters and well-formed %XX escapes.
bool is_uri(std::string_view s) noexcept;

/// multipleOf decided on decimal values: both numbers are taken in their shortest round-trip decimal
/// form (std::to_chars), so 8.1 is a multiple of 0.1 and 6.25 is not. `divisor` must be > 0.
bool is_multiple_of(double value, double divisor) noexcept;

}  // namespace ocpp::schema
OCPP_API_END
