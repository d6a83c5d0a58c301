#include "ocpp/client/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace ocpp {

std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min,
                                        std::chrono::milliseconds max, double r) {
  const double factor = std::ldexp(1.0, static_cast<int>(std::min(attempt, 40u)) - 1);
  const double delay = static_cast<double>(min.count()) * factor * (0.5 + 0.5 * std::clamp(r, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<long long>(std::min(delay, static_cast<double>(max.count()))));
}

std::chrono::milliseconds retry_back_off_delay(const OcppRetryBackOff& rule, unsigned attempt,
                                               std::chrono::milliseconds previous, double r) {
  // The spec doubles "the previous back-off time" for repeat_times attempts, so the random parts
  // before are doubled too, and then "keeps connecting with the same back-off time".
  if (attempt > 1 && attempt - 1 > rule.repeat_times) return previous;
  const auto random = std::chrono::milliseconds(
      std::llround(static_cast<double>(rule.random_range.count()) * std::clamp(r, 0.0, 1.0)));
  const auto base = attempt <= 1 ? rule.wait_minimum : std::min(previous, max_retry_back_off) * 2;
  return std::min(base + random, max_retry_back_off);
}

}  // namespace ocpp
