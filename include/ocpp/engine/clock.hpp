#pragma once
// Time for everything that expires or refills (rate limits, sessions): injectable, so tests
// move time by hand. An empty Clock means steady_clock::now.
#include <chrono>
#include <functional>

namespace ocpp {

using Clock = std::function<std::chrono::steady_clock::time_point()>;

inline Clock or_steady(Clock clock) {
  if (clock) return clock;
  return [] { return std::chrono::steady_clock::now(); };
}

}  // namespace ocpp
