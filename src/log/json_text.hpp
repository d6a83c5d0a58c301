#pragma once
// Private to src/log: JSON text as the sinks write it, and the single-write line output.
#include <boost/json/value.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace ocpp::detail {

// `s` as a JSON string literal; invalid UTF-8 (peers choose identities and actions) becomes U+FFFD
// so every line stays parseable.
void append_json_text(std::string& out, std::string_view s);
// `v` as compact JSON; doubles shortest via std::to_chars, NaN and infinities as null.
void append_json_value(std::string& out, const boost::json::value& v);
// Appends '\n' to `line` and writes it with one fwrite under the stream's lock, then flushes.
void write_line(std::FILE* out, std::string& line);

}  // namespace ocpp::detail
