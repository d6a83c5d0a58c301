#include "report.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <iomanip>
#include <sstream>

#include "xml_text.hpp"

namespace ocpp::app::scenario {
namespace json = boost::json;

namespace {

const char* word(Outcome o) {
  switch (o) {
    case Outcome::passed:
      return "passed";
    case Outcome::failed:
      return "failed";
    case Outcome::skipped:
      return "skipped";
  }
  return "?";
}


std::string seconds(double s) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3) << s;
  return out.str();
}

long long ms(double s) { return std::llround(s * 1000); }

std::string label(const CheckResult& c) {
  return c.step == 0 ? c.name : "step " + std::to_string(c.step) + ": " + c.name;
}


}  // namespace

std::string text_line(const std::string& identity, const CheckResult& c) {
  std::string line = identity + "  " + label(c) + "  " + word(c.outcome);
  if (c.outcome == Outcome::passed) line += " (" + std::to_string(ms(c.seconds)) + " ms)";
  if (c.outcome == Outcome::failed) line += ": " + c.message;
  return line;
}

std::string text_summary(const RunResult& run) {
  std::ostringstream out;
  out << "ocpp simulate: scenario " << run.scenario << " (" << run.protocol << "), " << run.stations.size()
      << " station" << (run.stations.size() == 1 ? "" : "s") << ", " << run.checks()
      << " checks: " << run.count(Outcome::passed) << " passed, " << run.count(Outcome::failed) << " failed, "
      << run.count(Outcome::skipped) << " skipped";
  std::size_t unexpected = 0;
  for (const auto& s : run.stations) unexpected += s.unexpected_calls.size();
  if (unexpected)
    out << "; " << unexpected << " other CSMS call" << (unexpected == 1 ? "" : "s") << " answered by default";
  return out.str();
}

std::string junit_xml(const RunResult& run) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"" << xml_escape(run.scenario) << "\" tests=\"" << run.checks() << "\" failures=\""
      << run.count(Outcome::failed) << "\" skipped=\"" << run.count(Outcome::skipped) << "\" time=\""
      << seconds(run.seconds) << "\">\n";
  for (const auto& s : run.stations) {
    out << "  <testsuite name=\"" << xml_escape(s.identity) << "\" tests=\"" << s.checks.size() << "\" failures=\""
        << s.count(Outcome::failed) << "\" errors=\"0\" skipped=\"" << s.count(Outcome::skipped) << "\" time=\""
        << seconds(s.seconds) << "\">\n";
    for (const auto& c : s.checks) {
      out << "    <testcase classname=\"" << xml_escape(run.scenario + "." + s.identity) << "\" name=\""
          << xml_escape(label(c)) << "\" time=\"" << seconds(c.seconds) << "\"";
      if (c.outcome == Outcome::passed) {
        out << "/>\n";
        continue;
      }
      out << ">\n      <" << (c.outcome == Outcome::failed ? "failure" : "skipped") << " message=\""
          << xml_escape(c.message) << "\"/>\n    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  return out.str();
}

std::string json_report(const RunResult& run) {
  json::array stations;
  for (const auto& s : run.stations) {
    json::array checks;
    for (const auto& c : s.checks) {
      json::object check{{"step", c.step}, {"name", c.name}, {"result", word(c.outcome)}, {"ms", ms(c.seconds)}};
      if (!c.message.empty()) check["message"] = c.message;
      checks.push_back(std::move(check));
    }
    json::array unexpected;
    for (const auto& a : s.unexpected_calls) unexpected.push_back(json::value(a));
    stations.push_back(json::object{{"identity", s.identity},
                                    {"passed", s.count(Outcome::failed) + s.count(Outcome::skipped) == 0},
                                    {"ms", ms(s.seconds)},
                                    {"checks", std::move(checks)},
                                    {"unexpected_calls", std::move(unexpected)}});
  }
  json::object doc{{"scenario", run.scenario},
                   {"protocol", run.protocol},
                   {"passed", run.passed()},
                   {"checks", run.checks()},
                   {"failed", run.count(Outcome::failed)},
                   {"skipped", run.count(Outcome::skipped)},
                   {"ms", ms(run.seconds)},
                   {"stations", std::move(stations)}};
  return json::serialize(doc);
}

}  // namespace ocpp::app::scenario
