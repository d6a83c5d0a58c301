#pragma once
// Internal: the bits of HTTP text both ends need (header names, URL escapes). IO-free.
#include <string>
#include <string_view>

namespace ocpp::detail {

// ASCII case-insensitive equality (HTTP header names, auth schemes, route segments).
bool iequals(std::string_view a, std::string_view b) noexcept;

// RFC 9110 token characters (header names, subprotocols, parameter names).
bool is_tchar(char c) noexcept;

// Without the optional whitespace (spaces and tabs) around a header value or list item.
std::string_view trim_ows(std::string_view s) noexcept;

// Percent-encodes everything outside RFC 3986's unreserved set.
std::string percent_encode(std::string_view s);

// Decodes %XX escapes; a malformed escape is kept as it is (never throws).
std::string percent_decode(std::string_view s);

}  // namespace ocpp::detail
