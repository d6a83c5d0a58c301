#pragma once
/// @file
/// Time for everything that expires or refills (rate limits, sessions): injectable, so tests
/// move time by hand. An empty Clock means steady_clock::now.
#include <chrono>
#include <functional>
#ifdef __EMSCRIPTEN__
#include <time.h>
#endif

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// A source of steady time, injectable for tests; empty means steady_clock::now.
using Clock = std::function<std::chrono::steady_clock::time_point()>;

/// `clock`, or steady_clock::now when it is empty.
inline Clock or_steady(Clock clock) {
  if (clock) return clock;
#ifdef __EMSCRIPTEN__
  // The same CLOCK_MONOTONIC libc++'s steady_clock reads, without its system_error for a failed read,
  // which would link the table of errno texts into the browser engine (1 KB gzipped).
  return [] {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  };
#else
  return [] { return std::chrono::steady_clock::now(); };
#endif
}

}  // namespace ocpp
OCPP_API_END
