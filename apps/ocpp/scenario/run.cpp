#include "run.hpp"

#include <fstream>
#include <iostream>

#include "report.hpp"
#include "runner.hpp"
#include "scenario.hpp"

namespace ocpp::app::scenario {

int run(const SimulateArgs& args) {
  const Scenario scenario = load(args.scenario);
  // Opened before the run, so a path that cannot be written is bad usage and not a lost run.
  std::ofstream junit;
  if (!args.junit.empty()) {
    junit.open(args.junit, std::ios::binary | std::ios::trunc);
    if (!junit) throw UsageError("--junit: cannot write " + args.junit);
  }
  const bool lines = !args.json && !args.quiet;
  const auto result = run_stations(scenario, args, [lines](const std::string& identity, const CheckResult& check) {
    if (lines) std::cout << text_line(identity, check) << "\n" << std::flush;
  });
  std::cout << (args.json ? json_report(result) : text_summary(result)) << "\n" << std::flush;
  if (junit.is_open()) {
    junit << junit_xml(result);
    junit.close();
    if (!junit) throw std::runtime_error("--junit: cannot write " + args.junit);
  }
  return result.passed() ? 0 : 1;
}

}  // namespace ocpp::app::scenario
