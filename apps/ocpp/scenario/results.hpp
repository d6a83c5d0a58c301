#pragma once
// What a scenario run found: per station, one check per step that checks something.
#include <cstddef>
#include <string>
#include <vector>

namespace ocpp::app::scenario {

enum class Outcome { passed, failed, skipped };

struct CheckResult {
  std::size_t step = 0;  // 0: the connection
  std::string name;
  Outcome outcome = Outcome::skipped;
  std::string message;  // why it failed or was skipped
  double seconds = 0;
};

struct StationResult {
  std::string identity;
  std::vector<CheckResult> checks;
  std::vector<std::string> unexpected_calls;  // CSMS calls no expect_call was waiting for (answered by default)
  double seconds = 0;

  std::size_t count(Outcome outcome) const {
    std::size_t n = 0;
    for (const auto& c : checks) n += c.outcome == outcome;
    return n;
  }
};

struct RunResult {
  std::string scenario;
  std::string protocol;
  std::vector<StationResult> stations;
  double seconds = 0;

  std::size_t count(Outcome outcome) const {
    std::size_t n = 0;
    for (const auto& s : stations) n += s.count(outcome);
    return n;
  }
  std::size_t checks() const { return count(Outcome::passed) + count(Outcome::failed) + count(Outcome::skipped); }
  bool passed() const { return count(Outcome::failed) == 0 && count(Outcome::skipped) == 0; }
};

}  // namespace ocpp::app::scenario
