#pragma once
// A logger that keeps what reaches its sink, for tests that check what was logged. Thread-safe: a
// server logs from its I/O threads while the test reads.
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ocpp/log/logger.hpp"

namespace ocpp_test {

class CapturingLogger final : public ocpp::Logger {
 public:
  struct Line {
    ocpp::LogLevel level;
    std::string component, identity, message;
  };
  CapturingLogger() : Logger(ocpp::LogLevel::debug) {}

  std::vector<Line> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // How many lines at `level` contain `text`.
  std::size_t count(ocpp::LogLevel level, std::string_view text) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& l : lines_)
      if (l.level == level && l.message.find(text) != std::string::npos) ++n;
    return n;
  }

 protected:
  void write(const ocpp::LogRecord& r) override {
    std::lock_guard lock(mutex_);
    lines_.push_back({r.level, std::string(r.component), std::string(r.identity), std::string(r.message)});
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Line> lines_;
};

}  // namespace ocpp_test
