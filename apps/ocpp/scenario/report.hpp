#pragma once
// The forms a scenario run is reported in: a text line per check, a JUnit XML file (a testsuite
// per station, a testcase per check) and a JSON document.
#include <string>

#include "results.hpp"

namespace ocpp::app::scenario {

std::string text_line(const std::string& identity, const CheckResult& check);
std::string text_summary(const RunResult& run);
std::string junit_xml(const RunResult& run);
std::string json_report(const RunResult& run);

}  // namespace ocpp::app::scenario
