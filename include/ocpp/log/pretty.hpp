#pragma once
/// @file
/// Human log lines for a terminal (ocpp-ws-io's `prettify`), made by make_pretty_logger():
///   12:00:00.123 INFO  server CP001 Client connected  { port: 3000 }
///   12:00:00.124 ⚡ CP-101  →  BootNotification  [OUT]
///   12:00:00.169 ✅ CP-101  ←  BootNotification  [IN]   { latency_ms: 45 }
/// An exchange record (fields with "direction", see exchange_fields()) gets the arrow form: ⚡ CALL,
/// ✅ CALLRESULT, ❌ CALLERROR / CALLRESULTERROR, 📨 SEND; → out, ← in. Security records get 🔒.
/// Control characters from peers (identities, actions) are shown escaped, never sent to the terminal.
#include <string>
#include <string_view>

#include "ocpp/log/logger.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// One record as the pretty logger prints it, without the newline; `time` comes first. `color` adds
/// ANSI colours (level, direction, errors in red).
std::string format_pretty_line(const LogRecord& record, std::string_view time, bool color);

/// The pretty lines' clock: local time "HH:MM:SS.mmm".
std::string local_clock_time();

/// Whether make_pretty_logger() colours `out` by default: a terminal, NO_COLOR unset, TERM not "dumb".
bool color_by_default(std::FILE* out) noexcept;

}  // namespace ocpp
OCPP_API_END
