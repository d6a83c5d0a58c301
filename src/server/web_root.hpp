#pragma once
// ServerOptions::web_root: which request targets name a file there, and the type it is served as.
// IO-free; the upgrade opens the file.
#include <optional>
#include <string>
#include <string_view>

namespace ocpp::detail {

// "/" is index.html; "/<name>" is <name> when the name is flat and plain (letters, digits, '.',
// '-', '_', not starting with '.'), which leaves no way out of the directory: no '/', '\', '%'
// escapes, NUL or "..". The query is ignored. Anything else names no file.
std::optional<std::string> web_file_name(std::string_view target);

// By the file name's extension; text types say charset=utf-8.
std::string_view web_content_type(std::string_view name);

}  // namespace ocpp::detail
