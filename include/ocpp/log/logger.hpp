#pragma once
/// @file
/// A small logger interface: the library logs through it, users plug in their own sink.
/// Every record is redacted (ocpp/log/redact.hpp) before any sink sees it.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// Severity of a log record; `off` silences a logger.
enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

std::string_view to_string(LogLevel level) noexcept;  ///< "debug", "info", "warn", "error", "off"
/// Those names, case-insensitively ("warning" too); nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;

/// One log event as a sink receives it: already redacted; the views live as long as write() runs.
struct LogRecord {
  LogLevel level = LogLevel::info;  ///< severity
  std::string_view component{};                 ///< "rpc", "client", "server", "security", ...
  std::string_view identity{};                  ///< the station's identity; may be empty
  std::string_view message{};  ///< the text
  const boost::json::object* fields = nullptr;  ///< structured extras, e.g. exchange_fields()
};

/// The library's log interface: a level filter, redaction, then write() to a sink. Thread-safe; logging never throws.
class Logger {
 public:
  /// A logger writing records of `level` and above.
  explicit Logger(LogLevel level = LogLevel::warn) noexcept : level_(level) {}
  virtual ~Logger() = default;
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

#ifdef OCPP_NO_LOG_OUTPUT
  /// A build without log output (CMake OCPP_LOG_OUTPUT=OFF, the WebAssembly default): every record
  /// is dropped where it is made, so nothing that formats or redacts one is linked.
  static constexpr bool enabled(LogLevel) noexcept { return false; }
#else
  /// Whether records of `level` are written.
  bool enabled(LogLevel level) const noexcept { return level < LogLevel::off && level >= this->level(); }
#endif
  /// Changes the level; safe from any thread.
  void set_level(LogLevel level) noexcept { level_.store(level, std::memory_order_relaxed); }
  /// The current level.
  LogLevel level() const noexcept { return level_.load(std::memory_order_relaxed); }

  /// Redacts `message` and `fields` and hands them to write(). A disabled level costs one relaxed
  /// load; a failing sink (or allocation) is swallowed: logging never throws into the caller.
  void log(LogLevel level, std::string_view component, std::string_view identity, std::string_view message,
           const boost::json::object* fields = nullptr) noexcept {
    if (enabled(level)) emit({level, component, identity, message, fields});
  }
  /// log() with a fields object.
  void log(LogLevel level, std::string_view component, std::string_view identity, std::string_view message,
           const boost::json::object& fields) noexcept {
    log(level, component, identity, message, &fields);
  }

 protected:
  /// The sink: called for enabled records only, possibly from several threads at once.
  virtual void write(const LogRecord& record) = 0;

 private:
  void emit(const LogRecord& record) noexcept;

  std::atomic<LogLevel> level_;
};

/// Now as RFC 3339 UTC with milliseconds ("2026-01-01T00:00:00.000Z"), as OCPP date-times are written.
std::string iso_timestamp();

/// The JSON sink's line for `record`, without the newline:
/// {"level":"info","time":"...","msg":"...","component":"server","identity":"CP1",...fields}
/// identity is left out when empty; fields are merged at the top level, a field named like one of the
/// five keys above is written as "fields.<name>". Invalid UTF-8 becomes U+FFFD.
std::string format_json_line(const LogRecord& record, std::string_view time);
/// `fields` as compact JSON; numbers are written shortest (45.5, not 4.55E1), NaN/inf as null.
std::string fields_to_json(const boost::json::object& fields);

/// JSON lines to `out` (not owned; stdout by default), each a single write.
std::shared_ptr<Logger> make_json_logger(LogLevel level = LogLevel::info, std::FILE* out = stdout);
/// Human lines for a terminal: see ocpp/log/pretty.hpp.
std::shared_ptr<Logger> make_pretty_logger(LogLevel level = LogLevel::info, std::FILE* out = stdout,
                                           std::optional<bool> color = std::nullopt);
/// A logger that writes nothing.
std::shared_ptr<Logger> null_logger();
/// The logger used when options name none: JSON lines on stdout, info and up (as ocpp-ws-io).
std::shared_ptr<Logger> default_logger();

// ---- the exchange log: one record per OCPP message ------------------------------------------

/// {"direction":"IN"|"OUT","type":"CALL"|"CALLRESULT"|"CALLERROR"|"CALLRESULTERROR"|"SEND",
///  "action":...,"message_id":...,"latency_ms":...}; action is left out when empty (a result whose
/// call is unknown), latency_ms when not given (it is for results: time since the CALL).
boost::json::object exchange_fields(bool inbound, MessageType type, std::string_view message_id,
                                    std::string_view action, std::optional<double> latency_ms = std::nullopt);
/// The exchange record's message: "BootNotification CALL OUT" ("CALLRESULT IN" without an action).
std::string exchange_message(bool inbound, MessageType type, std::string_view action);

/// One OCPP message for the exchange log (SessionOptions::exchange_log).
struct Exchange {
  bool inbound = false;  ///< received (IN) or sent (OUT)
  MessageType type = MessageType::Call;  ///< the frame's type
  std::string_view message_id{};  ///< the frame's message id
  std::string_view action{};                    ///< for results: the CALL's action, when known
  std::optional<double> latency_ms{};           ///< for results
  std::string_view error_code{};                ///< CALLERROR / CALLRESULTERROR: added as "error_code"
  const boost::json::value* payload = nullptr;  ///< off by default; added as "payload", redacted
};
/// Logs `exchange` with exchange_fields() and exchange_message(); nothing is built when `level` is off.
void log_exchange(Logger& logger, LogLevel level, std::string_view component, std::string_view identity,
                  const Exchange& exchange) noexcept;

// ---- security events ---------------------------------------------------------------------------

/// {"security_event":"AUTH_FAILED","address":"10.0.0.7","event_time":"2026-...Z","details":"..."};
/// event_time defaults to now, details is left out when empty.
boost::json::object security_fields(std::string_view type, std::string_view address,
                                    std::string_view timestamp = {}, std::string_view details = {});
/// A warn record from component "security": "security event AUTH_FAILED: <details>" with security_fields().
void log_security_event(Logger& logger, std::string_view type, std::string_view identity, std::string_view address,
                        std::string_view timestamp = {}, std::string_view details = {}) noexcept;

}  // namespace ocpp
OCPP_API_END
