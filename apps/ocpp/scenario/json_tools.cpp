#include "json_tools.hpp"

#include <boost/json/serialize.hpp>

#include <cctype>
#include <charconv>
#include <stdexcept>

namespace ocpp::app::scenario {
namespace json = boost::json;

namespace {

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The name of a "{name}" starting at `at`, or empty.
std::string_view placeholder_at(std::string_view s, std::size_t at) {
  if (s[at] != '{') return {};
  std::size_t end = at + 1;
  while (end < s.size() && name_char(s[end])) ++end;
  if (end == at + 1 || end >= s.size() || s[end] != '}') return {};
  return s.substr(at + 1, end - at - 1);
}

}  // namespace

const json::value& variable(const json::object& variables, std::string_view name) {
  const auto* v = variables.if_contains(name);
  if (!v)
    throw std::runtime_error("no variable {" + std::string(name) +
                             "} (declare it under \"variables\" or capture it in an earlier step)");
  return *v;
}

std::string text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return json::serialize(v);
}

std::vector<std::string> variable_names(const json::value& v) {
  std::vector<std::string> names;
  if (v.is_object())
    for (const auto& [_, item] : v.as_object())
      for (auto& n : variable_names(item)) names.push_back(std::move(n));
  if (v.is_array())
    for (const auto& item : v.as_array())
      for (auto& n : variable_names(item)) names.push_back(std::move(n));
  if (v.is_string()) {
    const std::string_view s = v.as_string();
    for (std::size_t i = 0; i < s.size(); ++i)
      if (const auto name = placeholder_at(s, i); !name.empty()) names.emplace_back(name);
  }
  return names;
}

json::value substitute(const json::value& v, const json::object& variables) {
  if (v.is_object()) {
    json::object out;
    for (const auto& [k, item] : v.as_object()) out[k] = substitute(item, variables);
    return out;
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& item : v.as_array()) out.push_back(substitute(item, variables));
    return out;
  }
  if (!v.is_string()) return v;
  const std::string_view s = v.as_string();
  if (s.size() >= 3) {
    const auto whole = placeholder_at(s, 0);
    if (whole.size() + 2 == s.size()) return variable(variables, whole);
  }
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto name = placeholder_at(s, i);
    if (name.empty()) {
      out.push_back(s[i]);
      continue;
    }
    out += text_of(variable(variables, name));
    i += name.size() + 1;
  }
  return json::value(out);
}

void merge(json::object& into, const json::object& overrides) {
  for (const auto& [k, v] : overrides) {
    if (v.is_null()) {
      into.erase(k);
    } else if (auto* existing = into.if_contains(k); existing && existing->is_object() && v.is_object()) {
      merge(existing->as_object(), v.as_object());
    } else {
      into[k] = v;
    }
  }
}

std::optional<std::string> mismatch(const json::value& expected, const json::value& actual, const std::string& path) {
  const std::string here = path.empty() ? "the payload" : path;
  if (expected.is_object()) {
    if (!actual.is_object()) return here + ": expected an object, got " + json::serialize(actual);
    for (const auto& [k, v] : expected.as_object()) {
      const std::string child = path.empty() ? std::string(k) : path + "." + std::string(k);
      const auto* a = actual.as_object().if_contains(k);
      if (!a) return child + ": missing (expected " + json::serialize(v) + ")";
      if (auto why = mismatch(v, *a, child)) return why;
    }
    return std::nullopt;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.as_array().size() != expected.as_array().size())
      return here + ": expected " + json::serialize(expected) + ", got " + json::serialize(actual);
    for (std::size_t i = 0; i < expected.as_array().size(); ++i)
      if (auto why = mismatch(expected.as_array()[i], actual.as_array()[i], path + "." + std::to_string(i))) return why;
    return std::nullopt;
  }
  const bool same = expected.is_number() && actual.is_number()
                        ? expected.to_number<double>() == actual.to_number<double>()
                        : expected == actual;
  if (same) return std::nullopt;
  return here + ": expected " + json::serialize(expected) + ", got " + json::serialize(actual);
}

const json::value* at_path(const json::value& v, std::string_view path) {
  const json::value* here = &v;
  while (here && !path.empty()) {
    const auto dot = path.find('.');
    const auto part = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (here->is_object()) {
      here = here->as_object().if_contains(part);
    } else if (here->is_array()) {
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), index);
      here = ec == std::errc() && end == part.data() + part.size() && index < here->as_array().size()
                 ? &here->as_array()[index]
                 : nullptr;
    } else {
      here = nullptr;
    }
  }
  return here;
}

}  // namespace ocpp::app::scenario
