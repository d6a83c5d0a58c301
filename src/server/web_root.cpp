#include "server/web_root.hpp"

#include <array>
#include <utility>

namespace ocpp::detail {

std::optional<std::string> web_file_name(std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  if (path == "/") return "index.html";
  if (path.size() < 2 || path.size() > 256 || path[0] != '/' || path[1] == '.') return std::nullopt;
  const auto name = path.substr(1);
  for (const char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '-' || c == '_';
    if (!plain) return std::nullopt;
  }
  return std::string(name);
}

std::string_view web_content_type(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".wasm", "application/wasm"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".ts", "text/plain; charset=utf-8"},  // declarations to read, not a video stream (.ts)
      {".txt", "text/plain; charset=utf-8"},
      {".png", "image/png"},
      {".svg", "image/svg+xml"},
      {".ico", "image/x-icon"},
  }};
  const auto dot = name.rfind('.');
  if (dot != std::string_view::npos)
    for (const auto& [extension, type] : kTypes)
      if (name.substr(dot) == extension) return type;
  return "application/octet-stream";
}

}  // namespace ocpp::detail
