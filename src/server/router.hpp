#pragma once
// URL patterns for the server's routes (IO-free; internal, Route shows the syntax). A pattern is split on '/' (empty segments
// ignored); a segment is static (compared case-insensitively), `:name` (captures one segment,
// percent-decoded) or `*` (the rest, one segment or more; last only). When several patterns match,
// the most specific wins, segment by segment: static > parameter > wildcard.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocpp::detail {

class RoutePattern {
 public:
  // Throws std::invalid_argument for an empty parameter name or a `*` that is not last.
  explicit RoutePattern(std::string_view pattern);

  struct Match {
    std::map<std::string, std::string, std::less<>> params;  // `*` captures under "*"
    std::vector<int> rank;  // per segment: 0 static, 1 parameter, 2 wildcard (lower is more specific)
  };
  std::optional<Match> match(std::string_view path) const;
  const std::string& text() const noexcept { return text_; }

 private:
  enum class Kind { literal, param, wildcard };
  struct Segment {
    Kind kind;
    std::string text;  // the literal or the parameter's name
  };
  std::string text_;
  std::vector<Segment> segments_;
};

// The index of the most specific pattern matching `path`, with its match; nullopt when none does.
// Ties go to the pattern registered first.
std::optional<std::pair<std::size_t, RoutePattern::Match>> best_match(const std::vector<RoutePattern>& patterns,
                                                                      std::string_view path);

}  // namespace ocpp::detail
