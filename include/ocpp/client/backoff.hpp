#pragma once
/// @file
/// The waits between a client's connection attempts: the exponential rule and OCPP 2.0.1's.
#include <chrono>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// The OCPP 2.0.1 reconnect rule, from the OCPPCommCtrlr variables of the same names (which count
/// seconds). The first attempt waits wait_minimum plus a random part of at most random_range; each
/// of the next repeat_times attempts waits twice the previous wait plus a new random part; later
/// attempts keep the last wait.
struct OcppRetryBackOff {
  std::chrono::milliseconds wait_minimum{10000};  ///< RetryBackOffWaitMinimum
  std::chrono::milliseconds random_range{10000};  ///< RetryBackOffRandomRange
  unsigned repeat_times = 3;                      ///< RetryBackOffRepeatTimes
};

/// No wait grows beyond this, so that a large repeat_times cannot overflow.
inline constexpr std::chrono::milliseconds max_retry_back_off{std::chrono::hours(24)};

/// Reconnect delay for attempt n (1-based): min(max, min·2^(n-1)·(0.5 + 0.5·r)), r in [0,1].
std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min,
                                        std::chrono::milliseconds max, double r);

/// Delay for attempt n (1-based) under the OCPP 2.0.1 rule; `previous` is the delay of attempt n-1
/// (unused for n = 1) and r in [0,1] picks the random part.
std::chrono::milliseconds retry_back_off_delay(const OcppRetryBackOff& rule, unsigned attempt,
                                               std::chrono::milliseconds previous, double r);

}  // namespace ocpp
OCPP_API_END
