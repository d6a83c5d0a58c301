#pragma once
/// @file
/// An ocpp::Logger that writes to an spdlog logger. Header-only, so only programs that include it
/// need spdlog. Records arrive redacted, as with every Logger; spdlog adds its own time and level:
///   [server] CP001: Client connected {"port":3000}
#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <utility>

#include "ocpp/log/logger.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

namespace detail {

inline spdlog::level::level_enum to_spdlog(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
    case LogLevel::off: break;
  }
  return spdlog::level::off;
}

inline LogLevel from_spdlog(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return LogLevel::debug;
    case spdlog::level::info: return LogLevel::info;
    case spdlog::level::warn: return LogLevel::warn;
    case spdlog::level::err:
    case spdlog::level::critical: return LogLevel::error;
    default: return LogLevel::off;
  }
}

class SpdlogLogger final : public Logger {
 public:
  /// Starts at the spdlog logger's level; set_level() on this one gates what the library formats.
  explicit SpdlogLogger(std::shared_ptr<spdlog::logger> logger)
      : Logger(from_spdlog(logger->level())), logger_(std::move(logger)) {}

 protected:
  void write(const LogRecord& r) override {
    const auto level = to_spdlog(r.level);
    if (!logger_->should_log(level)) return;
    std::string line;
    line.reserve(r.component.size() + r.identity.size() + r.message.size() + 8);
    line.push_back('[');
    line.append(r.component);
    line += "] ";
    if (!r.identity.empty()) {
      line.append(r.identity);
      line += ": ";
    }
    line.append(r.message);
    if (r.fields && !r.fields->empty()) {
      line.push_back(' ');
      line += fields_to_json(*r.fields);
    }
    // Passed as the message, not as a format string: braces in it are not fmt placeholders.
    logger_->log(level, spdlog::string_view_t(line.data(), line.size()));
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace detail

/// `logger` (spdlog) as an ocpp::Logger.
inline std::shared_ptr<Logger> make_spdlog_logger(std::shared_ptr<spdlog::logger> logger) {
  return std::make_shared<detail::SpdlogLogger>(std::move(logger));
}

}  // namespace ocpp
OCPP_API_END
