#pragma once
// A small logger interface: the library logs through it, users plug in their own sink.
#include <memory>
#include <string>
#include <string_view>

namespace ocpp {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

class Logger {
 public:
  explicit Logger(LogLevel level = LogLevel::warn) : level_(level) {}
  virtual ~Logger() = default;
  bool enabled(LogLevel level) const noexcept { return level >= level_ && level_ != LogLevel::off; }
  void set_level(LogLevel level) noexcept { level_ = level; }
  LogLevel level() const noexcept { return level_; }
  // `component` is e.g. "client" or "server"; `identity` may be empty.
  virtual void write(LogLevel level, std::string_view component, std::string_view identity,
                     std::string_view message) = 0;

  void log(LogLevel level, std::string_view component, std::string_view identity, std::string_view message) {
    if (enabled(level)) write(level, component, identity, message);
  }

 private:
  LogLevel level_;
};

// Now as RFC 3339 UTC with milliseconds ("2026-01-01T00:00:00.000Z"), as OCPP date-times are written.
std::string iso_timestamp();

// JSON lines on stderr: {"level":"warn","time":"...","component":"client","identity":"CP1","msg":"..."}
std::shared_ptr<Logger> make_json_logger(LogLevel level = LogLevel::warn);
std::shared_ptr<Logger> null_logger();
// The logger used when options name none (JSON lines on stderr, warnings and errors).
std::shared_ptr<Logger> default_logger();

}  // namespace ocpp
