#pragma once
// `ocpp simulate --scenario FILE`: loads the file (exit 2 when it is bad), runs it, reports it.
#include "commands.hpp"

namespace ocpp::app::scenario {

// 0: every check passed; 1: one failed or was skipped. Throws UsageError (exit 2) for a bad file.
int run(const SimulateArgs& args);

}  // namespace ocpp::app::scenario
