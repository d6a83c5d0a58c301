#include "report.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <ostream>

#include "xml_text.hpp"

namespace ocpp::app::conformance {
namespace {

std::size_t failures(const std::vector<Result>& results) {
  return static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(), [](const Result& r) { return !r.outcome.pass; }));
}

class TextReporter final : public Reporter {
 public:
  TextReporter(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

  void started(std::size_t index, std::size_t total, const Check& check) override {
    if (!terminal_) return;
    // One status line, rewritten in place until the check's result replaces it.
    out_ << "\r\033[K[" << index + 1 << "/" << total << "] " << failed_ << " failed so far; " << check.id << " "
         << check.title << std::flush;
  }

  void finished(const Result& r) override {
    if (terminal_) out_ << "\r\033[K";
    if (!r.outcome.pass) ++failed_;
    const char* verdict = r.outcome.pass ? (terminal_ ? "\033[32mPASS\033[0m" : "PASS")
                                         : (terminal_ ? "\033[31mFAIL\033[0m" : "FAIL");
    out_ << verdict << " " << r.id << " [" << r.clause << "] " << r.title << " | sent: " << r.outcome.sent
         << " | requires: " << r.outcome.required << " | got: " << r.outcome.got << "\n"
         << std::flush;
  }

  void done(const std::vector<Result>& results) override {
    const auto failed = failures(results);
    out_ << results.size() - failed << " passed, " << failed << " failed\n";
  }

 private:
  std::ostream& out_;
  bool terminal_;
  std::size_t failed_ = 0;
};

class JsonReporter final : public Reporter {
 public:
  JsonReporter(std::ostream& out, std::string suite) : out_(out), suite_(std::move(suite)) {}
  void done(const std::vector<Result>& results) override {
    boost::json::array checks;
    for (const auto& r : results)
      checks.push_back({{"id", r.id},
                        {"clause", r.clause},
                        {"title", r.title},
                        {"sent", r.outcome.sent},
                        {"requires", r.outcome.required},
                        {"got", r.outcome.got},
                        {"pass", r.outcome.pass}});
    const auto failed = failures(results);
    boost::json::object report{{"target", suite_},
                               {"passed", results.size() - failed},
                               {"failed", failed},
                               {"checks", std::move(checks)}};
    out_ << boost::json::serialize(report) << "\n";
  }

 private:
  std::ostream& out_;
  std::string suite_;
};


class JunitReporter final : public Reporter {
 public:
  JunitReporter(std::ostream& out, std::string suite) : out_(out), suite_(std::move(suite)) {}
  void done(const std::vector<Result>& results) override {
    const auto failed = failures(results);
    out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         << "<testsuites tests=\"" << results.size() << "\" failures=\"" << failed << "\">\n"
         << "  <testsuite name=\"" << xml_escape(suite_) << "\" tests=\"" << results.size() << "\" failures=\"" << failed
         << "\">\n";
    for (const auto& r : results) {
      out_ << "    <testcase classname=\"" << xml_escape(r.clause) << "\" name=\"" << xml_escape(r.id + " " + r.title) << "\"";
      const std::string detail =
          "sent: " + r.outcome.sent + "\nrequires: " + r.outcome.required + "\ngot: " + r.outcome.got;
      if (r.outcome.pass) {
        out_ << ">\n      <system-out>" << xml_escape(detail) << "</system-out>\n    </testcase>\n";
      } else {
        out_ << ">\n      <failure message=\"" << xml_escape(r.clause + ": got " + r.outcome.got) << "\">" << xml_escape(detail)
             << "</failure>\n    </testcase>\n";
      }
    }
    out_ << "  </testsuite>\n</testsuites>\n";
  }

 private:
  std::ostream& out_;
  std::string suite_;
};

}  // namespace

std::unique_ptr<Reporter> make_reporter(const std::string& format, std::ostream& out, bool terminal,
                                        std::string suite) {
  if (format == "json") return std::make_unique<JsonReporter>(out, std::move(suite));
  if (format == "junit") return std::make_unique<JunitReporter>(out, std::move(suite));
  return std::make_unique<TextReporter>(out, terminal);
}

}  // namespace ocpp::app::conformance
