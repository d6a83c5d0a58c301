#include "ocpp/log/pretty.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "json_text.hpp"

namespace ocpp {
namespace json = boost::json;

namespace {

namespace ansi {
constexpr std::string_view reset = "\x1b[0m";
constexpr std::string_view bold = "\x1b[1m";
constexpr std::string_view dim = "\x1b[2m";
constexpr std::string_view red = "\x1b[31m";
constexpr std::string_view green = "\x1b[32m";
constexpr std::string_view yellow = "\x1b[33m";
constexpr std::string_view blue = "\x1b[34m";
constexpr std::string_view magenta = "\x1b[35m";
constexpr std::string_view cyan = "\x1b[36m";
constexpr std::string_view grey = "\x1b[90m";
}  // namespace ansi

// Builds a line, adding colour codes only when asked.
class Line {
 public:
  explicit Line(bool color) : color_(color) {}

  Line& styled(std::string_view style, std::string_view text) {
    if (color_) out_ += style;
    printable(text);
    if (color_) out_ += ansi::reset;
    return *this;
  }
  Line& plain(std::string_view text) {
    out_ += text;
    return *this;
  }
  Line& printable(std::string_view text) {
    // Peers choose identities and actions: an escape sequence must not reach the terminal.
    static constexpr char hex[] = "0123456789abcdef";
    for (char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if (c >= 0x20 && c != 0x7f) {
        out_.push_back(ch);
      } else if (c == '\n') {
        out_ += "\\n";
      } else if (c == '\t') {
        out_ += "\\t";
      } else {
        out_ += "\\x";
        out_.push_back(hex[c >> 4]);
        out_.push_back(hex[c & 0xf]);
      }
    }
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  bool color_;
  std::string out_;
};

std::string_view level_label(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO ";
    case LogLevel::warn: return "WARN ";
    case LogLevel::error: return "ERROR";
    case LogLevel::off: break;
  }
  return "OFF  ";
}

std::string_view level_style(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return ansi::grey;
    case LogLevel::info: return ansi::green;
    case LogLevel::warn: return ansi::yellow;
    default: return ansi::red;
  }
}

std::string_view string_field(const json::object* fields, std::string_view key) {
  if (!fields) return {};
  const auto* v = fields->if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}

// "  { latency_ms: 45, error_code: "NotImplemented" }" for the fields not in `skip`.
void append_extras(Line& line, const json::object* fields, std::initializer_list<std::string_view> skip,
                   std::string_view separator) {
  if (!fields) return;
  std::string text;
  for (const auto& kv : *fields) {
    bool skipped = false;
    for (std::string_view s : skip) skipped = skipped || kv.key() == s;
    if (skipped) continue;
    text += text.empty() ? "{ " : ", ";
    text += kv.key();
    text += ": ";
    detail::append_json_value(text, kv.value());
  }
  if (text.empty()) return;
  text += " }";
  line.plain(separator).styled(ansi::dim, text);
}

void format_exchange(Line& line, const LogRecord& r) {
  const bool inbound = string_field(r.fields, "direction") == "IN";
  const std::string_view type = string_field(r.fields, "type");
  const bool failed = type == "CALLERROR" || type == "CALLRESULTERROR";
  std::string_view icon = "⚡";
  if (type == "CALLRESULT") icon = "✅";
  if (failed) icon = "❌";
  if (type == "SEND") icon = "📨";
  const std::string_view direction_style = failed ? ansi::red : inbound ? ansi::green : ansi::blue;

  line.plain(icon).plain(" ").styled(ansi::bold, r.identity.empty() ? std::string_view("-") : r.identity);
  line.plain("  ").styled(direction_style, inbound ? "←" : "→").plain("  ");
  if (const std::string_view action = string_field(r.fields, "action"); !action.empty()) {
    line.styled(failed ? ansi::red : ansi::cyan, action);
  } else {
    line.styled(ansi::dim, "#" + std::string(string_field(r.fields, "message_id")));
  }
  line.plain("  ").styled(direction_style, inbound ? "[IN]" : "[OUT]");
  // Extras line up after [IN] and [OUT] alike.
  append_extras(line, r.fields, {"direction", "type", "action", "message_id"}, inbound ? "   " : "  ");
}

}  // namespace

std::string format_pretty_line(const LogRecord& r, std::string_view time, bool color) {
  Line line(color);
  line.styled(ansi::dim, time).plain(" ");
  if (!string_field(r.fields, "direction").empty()) {
    format_exchange(line, r);
    return line.take();
  }
  line.styled(level_style(r.level), level_label(r.level)).plain(" ");
  line.styled(ansi::magenta, r.component).plain(" ");
  if (!r.identity.empty()) line.styled(ansi::bold, r.identity).plain(" ");
  if (r.component == "security") line.plain("🔒 ");
  if (r.level >= LogLevel::error) {
    line.styled(ansi::red, r.message);
  } else {
    line.printable(r.message);
  }
  append_extras(line, r.fields, {}, "  ");
  return line.take();
}

std::string local_clock_time() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  return buf;
}

bool color_by_default(std::FILE* out) noexcept {
  if (!out || !isatty(fileno(out))) return false;
  if (const char* no_color = std::getenv("NO_COLOR"); no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::strcmp(term, "dumb") == 0);
}

namespace {

class PrettyLogger final : public Logger {
 public:
  PrettyLogger(LogLevel level, std::FILE* out, bool color) : Logger(level), out_(out), color_(color) {}

 protected:
  void write(const LogRecord& record) override {
    std::string line = format_pretty_line(record, local_clock_time(), color_);
    detail::write_line(out_, line);
  }

 private:
  std::FILE* out_;
  bool color_;
};

}  // namespace

std::shared_ptr<Logger> make_pretty_logger(LogLevel level, std::FILE* out, std::optional<bool> color) {
  if (!out) out = stdout;
  return std::make_shared<PrettyLogger>(level, out, color.value_or(color_by_default(out)));
}

}  // namespace ocpp
