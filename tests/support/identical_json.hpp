#pragma once
// Equality of two JSON values to the bit: json::value's == calls 1 and 1.0 equal, and -0.0 and 0.0;
// two readers that must give the same value must not differ even so. Members compare in order.
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstring>

inline bool identical_json(const boost::json::value& a, const boost::json::value& b) {
  namespace json = boost::json;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::double_: {
      const double x = a.get_double(), y = b.get_double();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case json::kind::array: {
      const auto &x = a.get_array(), &y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!identical_json(x[i], y[i])) return false;
      return true;
    }
    case json::kind::object: {
      const auto &x = a.get_object(), &y = b.get_object();
      if (x.size() != y.size()) return false;
      for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
        if (i->key() != j->key() || !identical_json(i->value(), j->value())) return false;
      return true;
    }
    default: return a == b;
  }
}
