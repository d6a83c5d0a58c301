#pragma once
// Plays a scenario: each station connects after its ramp-up delay and runs the steps in order,
// answering the CSMS's calls meanwhile; a station stops at its first failed check.
#include <functional>
#include <string>

#include "commands.hpp"
#include "results.hpp"
#include "scenario.hpp"

namespace ocpp::app::scenario {

// Called as each check is decided (on the runner's one thread).
using OnCheck = std::function<void(const std::string& identity, const CheckResult& check)>;

// `args` gives the CSMS's URL and the connection's security flags. Throws UsageError for flags that
// do not fit each other.
RunResult run_stations(const Scenario& scenario, const SimulateArgs& args, const OnCheck& on_check);

}  // namespace ocpp::app::scenario
