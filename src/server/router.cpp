#include "server/router.hpp"

#include <stdexcept>

#include "server/handshake.hpp"

namespace ocpp::detail {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    auto seg = path.substr(0, slash);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

RoutePattern::RoutePattern(std::string_view pattern) : text_(pattern) {
  for (auto seg : split_path(pattern)) {
    if (!segments_.empty() && segments_.back().kind == Kind::wildcard)
      throw std::invalid_argument("route " + text_ + ": '*' must be the last segment");
    if (seg == "*") {
      segments_.push_back({Kind::wildcard, "*"});
    } else if (seg.front() == ':') {
      if (seg.size() == 1) throw std::invalid_argument("route " + text_ + ": parameter without a name");
      segments_.push_back({Kind::param, std::string(seg.substr(1))});
    } else {
      segments_.push_back({Kind::literal, std::string(seg)});
    }
  }
}

std::optional<RoutePattern::Match> RoutePattern::match(std::string_view path) const {
  const auto parts = split_path(path);
  Match m;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const auto& seg = segments_[i];
    if (seg.kind == Kind::wildcard) {
      if (i >= parts.size()) return std::nullopt;
      std::string rest;
      for (std::size_t j = i; j < parts.size(); ++j) rest += (j > i ? "/" : "") + std::string(parts[j]);
      m.params["*"] = percent_decode(rest);
      m.rank.push_back(2);
      return m;
    }
    if (i >= parts.size()) return std::nullopt;
    if (seg.kind == Kind::literal) {
      if (!iequals(parts[i], seg.text)) return std::nullopt;
      m.rank.push_back(0);
    } else {
      m.params[seg.text] = percent_decode(parts[i]);
      m.rank.push_back(1);
    }
  }
  if (parts.size() != segments_.size()) return std::nullopt;
  return m;
}

std::optional<std::pair<std::size_t, RoutePattern::Match>> best_match(const std::vector<RoutePattern>& patterns,
                                                                      std::string_view path) {
  std::optional<std::pair<std::size_t, RoutePattern::Match>> best;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    auto m = patterns[i].match(path);
    if (m && (!best || m->rank < best->second.rank)) best.emplace(i, std::move(*m));
  }
  return best;
}

}  // namespace ocpp::detail
