#pragma once
// How `ocpp check` prints its results: text (one line per check, with a live progress line on a
// terminal), JSON for scripts, or JUnit XML for CI dashboards.
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "catalogue.hpp"

namespace ocpp::app::conformance {

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void started(std::size_t /*index*/, std::size_t /*total*/, const Check& /*check*/) {}
  virtual void finished(const Result& /*result*/) {}
  virtual void done(const std::vector<Result>& results) = 0;
};

// `format`: "text", "json" or "junit"; `suite` names the run (URL and protocol).
std::unique_ptr<Reporter> make_reporter(const std::string& format, std::ostream& out, bool terminal,
                                        std::string suite);

}  // namespace ocpp::app::conformance
