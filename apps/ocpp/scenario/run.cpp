#include "run.hpp"

#include <fstream>
#include <iostream>

#include "report.hpp"
#include "runner.hpp"
#include "scenario.hpp"

namespace ocpp::app::scenario {

int run(const SimulateArgs& args) {
  const Scenario scenario = load(args.scenario);
  const bool lines = !args.json && !args.quiet;
  const auto result = run_stations(scenario, args, [lines](const std::string& identity, const CheckResult& check) {
    if (lines) std::cout << text_line(identity, check) << "\n" << std::flush;
  });
  if (!args.junit.empty()) {
    std::ofstream out(args.junit, std::ios::binary | std::ios::trunc);
    out << junit_xml(result);
    out.close();
    if (!out) throw std::runtime_error("--junit: cannot write " + args.junit);
  }
  std::cout << (args.json ? json_report(result) : text_summary(result)) << "\n";
  return result.passed() ? 0 : 1;
}

}  // namespace ocpp::app::scenario
