#pragma once
// JSON equality for round trips. Numbers compare by value (an integer in a `number` member comes
// back from the typed message as a double), and doubles within a few ulps: Boost.JSON 1.81's parser
// is not correctly rounded for long mantissas, so the shortest text of a double may parse one ulp
// away. Members compare in any order (customData's vendorId comes back first); all else exactly.
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_double() && !b.is_double()) return a == b;
    const double x = a.to_number<double>(), y = b.to_number<double>();
    return x == y || std::fabs(x - y) <= 4 * std::numeric_limits<double>::epsilon() * std::fabs(x);
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    return x.size() == y.size() &&
           std::equal(x.begin(), x.end(), y.begin(), [](const auto& l, const auto& r) { return same_json(l, r); });
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& member : x) {
      const auto* other = y.if_contains(member.key());
      if (!other || !same_json(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}
