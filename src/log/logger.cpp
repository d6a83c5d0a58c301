#include "ocpp/log/logger.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "ocpp/rpc/frame.hpp"

namespace ocpp {
namespace {

std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: break;
  }
  return "off";
}

}  // namespace

std::string iso_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  return buf;
}

namespace {

class JsonLogger final : public Logger {
 public:
  using Logger::Logger;
  void write(LogLevel level, std::string_view component, std::string_view identity,
             std::string_view message) override {
    std::string line = "{\"level\":\"";
    line += level_name(level);
    line += "\",\"time\":\"" + iso_timestamp() + "\",\"component\":";
    append_json_string(line, component);
    if (!identity.empty()) {
      line += ",\"identity\":";
      append_json_string(line, identity);
    }
    line += ",\"msg\":";
    append_json_string(line, message);
    line += "}\n";
    std::lock_guard lock(mutex_);
    std::fwrite(line.data(), 1, line.size(), stderr);
  }

 private:
  std::mutex mutex_;
};

class NullLogger final : public Logger {
 public:
  NullLogger() : Logger(LogLevel::off) {}
  void write(LogLevel, std::string_view, std::string_view, std::string_view) override {}
};

}  // namespace

std::shared_ptr<Logger> make_json_logger(LogLevel level) { return std::make_shared<JsonLogger>(level); }
std::shared_ptr<Logger> null_logger() { return std::make_shared<NullLogger>(); }
std::shared_ptr<Logger> default_logger() {
  static const std::shared_ptr<Logger> logger = make_json_logger(LogLevel::warn);
  return logger;
}

}  // namespace ocpp
