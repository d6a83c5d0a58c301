#include "ocpp/log/logger.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>

#include "json_text.hpp"
#include "ocpp/log/redact.hpp"

namespace ocpp {
namespace json = boost::json;

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: break;
  }
  return "off";
}

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
  if (name.size() > 8) return std::nullopt;
  std::string lower;
  for (char c : name) lower.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
  if (lower == "debug") return LogLevel::debug;
  if (lower == "info") return LogLevel::info;
  if (lower == "warn" || lower == "warning") return LogLevel::warn;
  if (lower == "error") return LogLevel::error;
  if (lower == "off") return LogLevel::off;
  return std::nullopt;
}

void Logger::emit(const LogRecord& record) noexcept {
  try {
    LogRecord r = record;
    std::string message;
    if (may_contain_secret(r.message)) {
      message = redact(r.message);
      r.message = message;
    }
    json::object fields;
    if (r.fields && may_contain_secret(*r.fields)) {
      fields = *r.fields;
      redact(fields);
      r.fields = &fields;
    }
    write(r);
  } catch (...) {
    // A log line is not worth failing the operation that wrote it.
  }
}

namespace {
void put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) at[i] = static_cast<char>('0' + value % 10);
}
}  // namespace

// A CSMS stamps every Heartbeat and BootNotification answer with this, so it stays off printf and
// formats the calendar part once per second per thread.
std::string iso_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const auto seconds = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0));
  thread_local std::time_t cached_second = -1;
  thread_local char text[] = "YYYY-MM-DDTHH:MM:SS.mmmZ";
  if (seconds != cached_second) {
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    put_digits(text, static_cast<unsigned>(tm.tm_year + 1900), 4);
    put_digits(text + 5, static_cast<unsigned>(tm.tm_mon + 1), 2);
    put_digits(text + 8, static_cast<unsigned>(tm.tm_mday), 2);
    put_digits(text + 11, static_cast<unsigned>(tm.tm_hour), 2);
    put_digits(text + 14, static_cast<unsigned>(tm.tm_min), 2);
    put_digits(text + 17, static_cast<unsigned>(tm.tm_sec), 2);
    cached_second = seconds;
  }
  put_digits(text + 20, static_cast<unsigned>(ms - static_cast<long long>(seconds) * 1000), 3);
  return std::string(text, sizeof text - 1);
}

std::string format_json_line(const LogRecord& record, std::string_view time) {
  std::string line;
  line.reserve(96 + record.message.size());
  line += "{\"level\":\"";
  line += to_string(record.level);
  line += "\",\"time\":";
  detail::append_json_text(line, time);
  line += ",\"msg\":";
  detail::append_json_text(line, record.message);
  line += ",\"component\":";
  detail::append_json_text(line, record.component);
  if (!record.identity.empty()) {
    line += ",\"identity\":";
    detail::append_json_text(line, record.identity);
  }
  if (record.fields) {
    static constexpr std::array<std::string_view, 5> reserved{"level", "time", "msg", "component", "identity"};
    for (const auto& kv : *record.fields) {
      line.push_back(',');
      const std::string_view key = kv.key();
      bool clash = false;
      for (std::string_view r : reserved) clash = clash || key == r;
      detail::append_json_text(line, clash ? "fields." + std::string(key) : std::string(key));
      line.push_back(':');
      detail::append_json_value(line, kv.value());
    }
  }
  line.push_back('}');
  return line;
}

std::string fields_to_json(const json::object& fields) {
  std::string out;
  detail::append_json_value(out, json::value(fields));
  return out;
}

namespace detail {

namespace {

// Length of the well-formed UTF-8 sequence at s[i], 0 if there is none.
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const auto cont = [&](std::size_t k) { return (byte(k) & 0xC0u) == 0x80u; };
  const unsigned c = byte(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned c1 = byte(1);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned c1 = byte(1);
    if (c == 0xF0 && c1 < 0x90) return 0;
    if (c == 0xF4 && c1 > 0x8F) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

void append_json_text(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = utf8_length(s, i); n > 0) {
        out.append(s, i, n);
        i += n;
      } else {
        out += "\\ufffd";
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xf]);
        } else {
          out.push_back(char(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

void append_json_value(std::string& out, const json::value& v) {
  char buf[32];
  switch (v.kind()) {
    case json::kind::null: out += "null"; return;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case json::kind::int64: out.append(buf, std::to_chars(buf, buf + sizeof buf, v.get_int64()).ptr); return;
    case json::kind::uint64: out.append(buf, std::to_chars(buf, buf + sizeof buf, v.get_uint64()).ptr); return;
    case json::kind::double_: {
      const double d = v.get_double();
      if (!std::isfinite(d)) {
        out += "null";
      } else {
        out.append(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
      }
      return;
    }
    case json::kind::string: append_json_text(out, v.get_string()); return;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_value(out, e);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_text(out, kv.key());
        out.push_back(':');
        append_json_value(out, kv.value());
      }
      out.push_back('}');
      return;
    }
  }
}

void write_line(std::FILE* out, std::string& line) {
  line.push_back('\n');
  // One write per line under the stream's own lock, so lines from several threads (and several
  // sinks on one stream) never interleave; flushed so a piped stdout is not held back. The log
  // layer stays free of thread primitives: stdio already has the lock.
  flockfile(out);
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
  funlockfile(out);
}

}  // namespace detail

namespace {

class JsonLogger final : public Logger {
 public:
  JsonLogger(LogLevel level, std::FILE* out) : Logger(level), out_(out) {}

 protected:
  void write(const LogRecord& record) override {
    std::string line = format_json_line(record, iso_timestamp());
    detail::write_line(out_, line);
  }

 private:
  std::FILE* out_;
};

class NullLogger final : public Logger {
 public:
  NullLogger() : Logger(LogLevel::off) {}

 protected:
  void write(const LogRecord&) override {}
};

std::string_view type_name(MessageType type) noexcept {
  switch (type) {
    case MessageType::Call: return "CALL";
    case MessageType::CallResult: return "CALLRESULT";
    case MessageType::CallError: return "CALLERROR";
    case MessageType::CallResultError: return "CALLRESULTERROR";
    case MessageType::Send: return "SEND";
  }
  return "UNKNOWN";
}

}  // namespace

std::shared_ptr<Logger> make_json_logger(LogLevel level, std::FILE* out) {
  return std::make_shared<JsonLogger>(level, out ? out : stdout);
}
std::shared_ptr<Logger> null_logger() { return std::make_shared<NullLogger>(); }
std::shared_ptr<Logger> default_logger() {
#ifdef OCPP_NO_LOG_OUTPUT
  static const std::shared_ptr<Logger> logger = null_logger();
#else
  static const std::shared_ptr<Logger> logger = make_json_logger(LogLevel::info, stdout);
#endif
  return logger;
}

json::object exchange_fields(bool inbound, MessageType type, std::string_view message_id, std::string_view action,
                             std::optional<double> latency_ms) {
  json::object f;
  f.reserve(5);
  f.emplace("direction", inbound ? "IN" : "OUT");
  f.emplace("type", type_name(type));
  if (!action.empty()) f.emplace("action", action);
  f.emplace("message_id", message_id);
  // Rounded to microseconds: the clock is not finer and the line stays short.
  if (latency_ms) f.emplace("latency_ms", std::round(*latency_ms * 1000.0) / 1000.0);
  return f;
}

std::string exchange_message(bool inbound, MessageType type, std::string_view action) {
  std::string m;
  if (!action.empty()) {
    m += action;
    m.push_back(' ');
  }
  m += type_name(type);
  m += inbound ? " IN" : " OUT";
  return m;
}

void log_exchange(Logger& logger, LogLevel level, std::string_view component, std::string_view identity,
                  const Exchange& e) noexcept {
  if (!logger.enabled(level)) return;
  try {
    json::object f = exchange_fields(e.inbound, e.type, e.message_id, e.action, e.latency_ms);
    if (!e.error_code.empty()) f.emplace("error_code", e.error_code);
    if (e.payload) f.emplace("payload", *e.payload);
    logger.log(level, component, identity, exchange_message(e.inbound, e.type, e.action), f);
  } catch (...) {
  }
}

json::object security_fields(std::string_view type, std::string_view address, std::string_view timestamp,
                             std::string_view details) {
  json::object f;
  f.emplace("security_event", type);
  f.emplace("address", address);
  if (timestamp.empty()) {
    f.emplace("event_time", iso_timestamp());
  } else {
    f.emplace("event_time", timestamp);
  }
  if (!details.empty()) f.emplace("details", details);
  return f;
}

void log_security_event(Logger& logger, std::string_view type, std::string_view identity, std::string_view address,
                        std::string_view timestamp, std::string_view details) noexcept {
  if (!logger.enabled(LogLevel::warn)) return;
  try {
    std::string message = "security event " + std::string(type);
    if (!details.empty()) message += ": " + std::string(details);
    logger.log(LogLevel::warn, "security", identity, message, security_fields(type, address, timestamp, details));
  } catch (...) {
  }
}

}  // namespace ocpp
