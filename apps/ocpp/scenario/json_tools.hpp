#pragma once
// The JSON operations of a scenario: variables in payloads, overrides, subset matching, captures.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocpp::app::scenario {

// "{name}" in strings becomes the variable's value: a string that is exactly "{name}" takes the
// value with its type (a number stays a number), elsewhere its text. Throws std::runtime_error for
// a variable that is not set.
boost::json::value substitute(const boost::json::value& v, const boost::json::object& variables);
// The variable's value; throws std::runtime_error when it is not set.
const boost::json::value& variable(const boost::json::object& variables, std::string_view name);
// The names of the variables `v` uses, in order, repeats included.
std::vector<std::string> variable_names(const boost::json::value& v);
// A string as it is, anything else as JSON text.
std::string text_of(const boost::json::value& v);

// Objects merge key by key, anything else replaces; a null override removes the key.
void merge(boost::json::object& into, const boost::json::object& overrides);

// Why `actual` does not contain `expected` (objects: every expected key, recursively; arrays:
// element by element; numbers by value), naming the path; nothing when it does.
std::optional<std::string> mismatch(const boost::json::value& expected, const boost::json::value& actual,
                                    const std::string& path = "");

// The value at a dotted path ("idToken.idToken", "chargingSchedule.0.id"), or null.
const boost::json::value* at_path(const boost::json::value& v, std::string_view path);

}  // namespace ocpp::app::scenario
