#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ocpp/log/logger.hpp"
#include "ocpp/log/pretty.hpp"
#include "ocpp/log/redact.hpp"
#include "ocpp/log/spdlog.hpp"

using namespace ocpp;
namespace json = boost::json;

namespace {

// A FILE* writing into memory, for the sinks' real output path.
class MemFile {
 public:
  MemFile() : file_(open_memstream(&buf_, &size_)) {}
  ~MemFile() {
    std::fclose(file_);
    std::free(buf_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  std::FILE* get() const { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buf_, size_);
  }
  std::vector<std::string> lines() {
    std::vector<std::string> out;
    std::istringstream in(text());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  char* buf_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_;
};

// Keeps what a sink received, to check what reaches sinks (not only what a format makes of it).
class CapturingLogger final : public Logger {
 public:
  using Logger::Logger;
  struct Seen {
    LogLevel level;
    std::string component, identity, message;
    std::optional<json::object> fields;
  };
  std::vector<Seen> seen;

 protected:
  void write(const LogRecord& r) override {
    seen.push_back({r.level, std::string(r.component), std::string(r.identity), std::string(r.message),
                    r.fields ? std::optional<json::object>(*r.fields) : std::nullopt});
  }
};

class ThrowingLogger final : public Logger {
 public:
  ThrowingLogger() : Logger(LogLevel::debug) {}

 protected:
  void write(const LogRecord&) override { throw std::runtime_error("sink down"); }
};

json::object parse_object(const std::string& line) {
  json::error_code ec;
  json::value v = json::parse(line, ec);
  EXPECT_FALSE(ec) << line;
  EXPECT_TRUE(v.is_object()) << line;
  return v.is_object() ? v.get_object() : json::object{};
}

std::string strip_ansi(const std::string& s) { return std::regex_replace(s, std::regex("\x1b\\[[0-9;]*m"), ""); }

}  // namespace

// ---- levels and the Logger interface ----------------------------------------------------------

TEST(Logger, LevelsGateRecords) {
  CapturingLogger logger(LogLevel::info);
  logger.log(LogLevel::debug, "rpc", "CP1", "hidden");
  logger.log(LogLevel::info, "rpc", "CP1", "shown");
  logger.log(LogLevel::error, "rpc", "", "also shown");
  logger.log(LogLevel::off, "rpc", "", "never: off is not a level to log at");
  ASSERT_EQ(logger.seen.size(), 2u);
  EXPECT_EQ(logger.seen[0].message, "shown");
  EXPECT_EQ(logger.seen[1].level, LogLevel::error);

  logger.set_level(LogLevel::off);
  EXPECT_FALSE(logger.enabled(LogLevel::error));
  logger.log(LogLevel::error, "rpc", "", "dropped");
  EXPECT_EQ(logger.seen.size(), 2u);
  logger.set_level(LogLevel::debug);
  EXPECT_TRUE(logger.enabled(LogLevel::debug));
}

TEST(Logger, LevelNames) {
  EXPECT_EQ(to_string(LogLevel::warn), "warn");
  EXPECT_EQ(parse_log_level("DEBUG"), LogLevel::debug);
  EXPECT_EQ(parse_log_level("warning"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("Error"), LogLevel::error);
  EXPECT_EQ(parse_log_level("off"), LogLevel::off);
  EXPECT_EQ(parse_log_level("verbose"), std::nullopt);
  EXPECT_EQ(parse_log_level("informational"), std::nullopt);
}


// The per-second cache must never serve a stale calendar part: every stamp, read back with
// strptime/timegm, lies between the clock readings taken around it, across a second boundary.
TEST(Logger, IsoTimestampIsNowInUtcWithMilliseconds) {
  const std::regex shape(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  const auto to_ms = [](const std::string& text) {
    std::tm tm{};
    EXPECT_NE(strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << text;
    return static_cast<long long>(timegm(&tm)) * 1000 + std::stoi(text.substr(20, 3));
  };
  const auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const auto until = now_ms() + 1100;
  int checked = 0;
  for (auto before = now_ms(); before < until; before = now_ms(), ++checked) {
    const std::string stamp = iso_timestamp();
    const auto after = now_ms();
    ASSERT_TRUE(std::regex_match(stamp, shape)) << stamp;
    const auto at = to_ms(stamp);
    ASSERT_GE(at, before) << stamp;
    ASSERT_LE(at, after) << stamp;
  }
  EXPECT_GT(checked, 100);
}
TEST(Logger, SinksReceiveRedactedMessageAndFields) {
  CapturingLogger logger(LogLevel::debug);
  json::object fields{{"password", "hunter2"}, {"user", "alice"}, {"note", "token=Authorization: Bearer abc.def"}};
  logger.log(LogLevel::info, "server", "CP1", "login password=hunter2 ok", fields);
  ASSERT_EQ(logger.seen.size(), 1u);
  const auto& seen = logger.seen[0];
  EXPECT_EQ(seen.message, "login password=[REDACTED] ok");
  ASSERT_TRUE(seen.fields);
  EXPECT_EQ(seen.fields->at("password"), "[REDACTED]");
  EXPECT_EQ(seen.fields->at("user"), "alice");
  EXPECT_EQ(seen.fields->at("note"), "token=Authorization: Bearer [REDACTED]");
  // The caller's object is left alone.
  EXPECT_EQ(fields.at("password"), "hunter2");
}

TEST(Logger, AFailingSinkDoesNotThrow) {
  ThrowingLogger logger;
  EXPECT_NO_THROW(logger.log(LogLevel::error, "rpc", "CP1", "boom"));
}

TEST(Logger, NullLoggerIsOff) {
  auto logger = null_logger();
  EXPECT_EQ(logger->level(), LogLevel::off);
  EXPECT_FALSE(logger->enabled(LogLevel::error));
  logger->log(LogLevel::error, "rpc", "", "nothing");
}

TEST(Logger, DefaultLoggerIsInfo) { EXPECT_EQ(default_logger()->level(), LogLevel::info); }

// ---- the JSON sink ---------------------------------------------------------------------------------

TEST(JsonLogger, OneParseableLinePerRecordWithTheKeys) {
  MemFile out;
  auto logger = make_json_logger(LogLevel::info, out.get());
  logger->log(LogLevel::debug, "server", "CP1", "filtered");
  logger->log(LogLevel::info, "server", "CP001", "Client connected");
  logger->log(LogLevel::error, "rpc", "", "no identity \"quoted\"\nsecond line");
  const auto lines = out.lines();
  ASSERT_EQ(lines.size(), 2u) << out.text();

  const auto first = parse_object(lines[0]);
  EXPECT_EQ(first.at("level"), "info");
  EXPECT_EQ(first.at("msg"), "Client connected");
  EXPECT_EQ(first.at("component"), "server");
  EXPECT_EQ(first.at("identity"), "CP001");
  ASSERT_TRUE(first.at("time").is_string());
  EXPECT_TRUE(std::regex_match(std::string(first.at("time").get_string()),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(lines[0].rfind("{\"level\":\"info\",\"time\":", 0), 0u) << lines[0];

  const auto second = parse_object(lines[1]);
  EXPECT_EQ(second.at("level"), "error");
  EXPECT_EQ(second.at("msg"), "no identity \"quoted\"\nsecond line");
  EXPECT_FALSE(second.contains("identity"));
}

TEST(JsonLogger, FieldsAreMergedAtTheTopLevel) {
  MemFile out;
  auto logger = make_json_logger(LogLevel::debug, out.get());
  json::object fields{{"latency_ms", 45.5}, {"count", 3}, {"ok", true}, {"nested", {{"a", json::array{1, 2}}}},
                      {"msg", "clash"},     {"nan", std::nan("")}};
  logger->log(LogLevel::warn, "rpc", "CP1", "with fields", fields);
  const auto lines = out.lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto o = parse_object(lines[0]);
  EXPECT_EQ(o.at("msg"), "with fields");
  EXPECT_EQ(o.at("fields.msg"), "clash");
  EXPECT_EQ(o.at("latency_ms").to_number<double>(), 45.5);
  EXPECT_EQ(o.at("count"), 3);
  EXPECT_EQ(o.at("ok"), true);
  EXPECT_EQ(o.at("nested").at("a").at(1), 2);
  EXPECT_TRUE(o.at("nan").is_null());
  // Numbers are written the short way, not boost::json's 4.55E1.
  EXPECT_NE(lines[0].find("\"latency_ms\":45.5"), std::string::npos) << lines[0];
}

TEST(JsonLogger, InvalidUtf8StaysParseable) {
  MemFile out;
  auto logger = make_json_logger(LogLevel::info, out.get());
  logger->log(LogLevel::info, "server", std::string("CP\xff\xfe", 4), std::string("caf\xc3\xa9 \xe2\x82", 8));
  const auto lines = out.lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto o = parse_object(lines[0]);
  EXPECT_EQ(o.at("identity"), "CP\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(o.at("msg"), "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
}

TEST(JsonLogger, RecordsSecretsRedacted) {
  MemFile out;
  auto logger = make_json_logger(LogLevel::info, out.get());
  json::object fields{{"BasicAuthPassword", "s3cret-basic"},
                      {"headers", {{"Authorization", "Basic Q1AxOnMzY3JldA=="}}},
                      {"tls", {{"privateKey", "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"}}}};
  logger->log(LogLevel::info, "server", "CP1", "auth AuthorizationKey=0011aabb failed", fields);
  const std::string text = out.text();
  for (const char* secret : {"s3cret-basic", "Q1AxOnMzY3JldA", "MIIEv", "0011aabb"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
  const auto o = parse_object(out.lines().at(0));
  EXPECT_EQ(o.at("BasicAuthPassword"), "[REDACTED]");
  EXPECT_EQ(o.at("headers").at("Authorization"), "Basic [REDACTED]");
  EXPECT_EQ(o.at("tls").at("privateKey"), "[REDACTED]");
  EXPECT_EQ(o.at("msg"), "auth AuthorizationKey=[REDACTED] failed");
}

TEST(JsonLogger, WholeLinesFromSeveralThreads) {
  MemFile out;
  auto logger = make_json_logger(LogLevel::info, out.get());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string payload(200 + t * 50, char('a' + t));
      json::object fields{{"thread", t}};
      for (int i = 0; i < kPerThread; ++i) logger->log(LogLevel::info, "rpc", "CP" + std::to_string(t), payload, fields);
    });
  }
  for (auto& th : threads) th.join();
  const auto lines = out.lines();
  ASSERT_EQ(lines.size(), std::size_t(kThreads * kPerThread));
  std::vector<int> per_thread(kThreads);
  for (const auto& line : lines) {
    const auto o = parse_object(line);
    const auto t = o.at("thread").to_number<int>();
    ASSERT_EQ(o.at("msg").get_string().size(), std::size_t(200 + t * 50));
    ++per_thread[t];
  }
  for (int n : per_thread) EXPECT_EQ(n, kPerThread);
}

// ---- the exchange log ------------------------------------------------------------------------

TEST(Exchange, FieldsForEveryMessageType) {
  const auto call = exchange_fields(false, MessageType::Call, "m-1", "BootNotification");
  EXPECT_EQ(call, (json::object{{"direction", "OUT"}, {"type", "CALL"}, {"action", "BootNotification"},
                                {"message_id", "m-1"}}));
  const auto result = exchange_fields(true, MessageType::CallResult, "m-1", "BootNotification", 45.0);
  EXPECT_EQ(result.at("direction"), "IN");
  EXPECT_EQ(result.at("type"), "CALLRESULT");
  EXPECT_EQ(result.at("latency_ms").to_number<double>(), 45.0);
  EXPECT_EQ(exchange_fields(true, MessageType::CallError, "x", "").at("type"), "CALLERROR");
  EXPECT_FALSE(exchange_fields(true, MessageType::CallError, "x", "").contains("action"));
  EXPECT_EQ(exchange_fields(true, MessageType::CallResultError, "x", "A").at("type"), "CALLRESULTERROR");
  EXPECT_EQ(exchange_fields(false, MessageType::Send, "x", "NotifyPeriodicEventStream").at("type"), "SEND");
  EXPECT_FALSE(call.contains("latency_ms"));
  EXPECT_EQ(exchange_fields(true, MessageType::CallResult, "m", "A", 1.23456789).at("latency_ms").to_number<double>(),
            1.235);

  EXPECT_EQ(exchange_message(false, MessageType::Call, "BootNotification"), "BootNotification CALL OUT");
  EXPECT_EQ(exchange_message(true, MessageType::CallResult, ""), "CALLRESULT IN");
}

TEST(Exchange, LogExchangeAddsErrorCodeAndRedactedPayload) {
  MemFile out;
  auto logger = make_json_logger(LogLevel::info, out.get());
  const json::value payload = json::parse(R"({"key":"AuthorizationKey","value":"00112233"})");
  log_exchange(*logger, LogLevel::info, "server", "CP-101",
               {.inbound = false, .type = MessageType::Call, .message_id = "42", .action = "ChangeConfiguration",
                .payload = &payload});
  log_exchange(*logger, LogLevel::info, "server", "CP-101",
               {.inbound = true, .type = MessageType::CallError, .message_id = "42", .action = "ChangeConfiguration",
                .latency_ms = 12.5, .error_code = "NotSupported"});
  log_exchange(*logger, LogLevel::debug, "server", "CP-101", {.message_id = "43", .action = "Reset"});  // filtered
  const auto lines = out.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(out.text().find("00112233"), std::string::npos);
  const auto call = parse_object(lines[0]);
  EXPECT_EQ(call.at("msg"), "ChangeConfiguration CALL OUT");
  EXPECT_EQ(call.at("payload").at("key"), "AuthorizationKey");
  EXPECT_EQ(call.at("payload").at("value"), "[REDACTED]");
  const auto error = parse_object(lines[1]);
  EXPECT_EQ(error.at("type"), "CALLERROR");
  EXPECT_EQ(error.at("error_code"), "NotSupported");
  EXPECT_EQ(error.at("latency_ms").to_number<double>(), 12.5);
}

TEST(SecurityEvents, LoggedWithIdentityAddressAndTime) {
  MemFile out;
  auto logger = make_json_logger(LogLevel::info, out.get());
  log_security_event(*logger, "AUTH_FAILED", "CP-7", "10.0.0.7", "2026-01-01T00:00:00.000Z",
                     "bad Authorization: Basic Q1A3Onh4");
  log_security_event(*logger, "CONNECTION_LIMIT", "", "10.0.0.8");
  const auto lines = out.lines();
  ASSERT_EQ(lines.size(), 2u);
  const auto o = parse_object(lines[0]);
  EXPECT_EQ(o.at("level"), "warn");
  EXPECT_EQ(o.at("component"), "security");
  EXPECT_EQ(o.at("identity"), "CP-7");
  EXPECT_EQ(o.at("security_event"), "AUTH_FAILED");
  EXPECT_EQ(o.at("address"), "10.0.0.7");
  EXPECT_EQ(o.at("event_time"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(o.at("details"), "bad Authorization: Basic [REDACTED]");
  EXPECT_EQ(o.at("msg"), "security event AUTH_FAILED: bad Authorization: Basic [REDACTED]");
  const auto second = parse_object(lines[1]);
  EXPECT_TRUE(std::regex_match(std::string(second.at("event_time").get_string()),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_FALSE(second.contains("details"));
}

// ---- the pretty sink -------------------------------------------------------------------------------

TEST(Pretty, PlainRecords) {
  const json::object fields{{"port", 3000}};
  EXPECT_EQ(format_pretty_line({LogLevel::info, "server", "CP001", "Client connected"}, "12:00:00.123", false),
            "12:00:00.123 INFO  server CP001 Client connected");
  EXPECT_EQ(format_pretty_line({LogLevel::warn, "server", "", "listening", &fields}, "12:00:00.123", false),
            "12:00:00.123 WARN  server listening  { port: 3000 }");
  EXPECT_EQ(format_pretty_line({LogLevel::error, "rpc", "CP\x1b[2J", "line\nbreak"}, "t", false),
            "t ERROR rpc CP\\x1b[2J line\\nbreak");
  const auto security = security_fields("AUTH_FAILED", "10.0.0.7", "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(format_pretty_line({LogLevel::warn, "security", "CP1", "security event AUTH_FAILED", &security}, "t",
                               false),
            "t WARN  security CP1 🔒 security event AUTH_FAILED  { security_event: \"AUTH_FAILED\", address: "
            "\"10.0.0.7\", event_time: \"2026-01-01T00:00:00.000Z\" }");
}

TEST(Pretty, ExchangeRecords) {
  const auto out_call = exchange_fields(false, MessageType::Call, "1", "BootNotification");
  const auto in_result = exchange_fields(true, MessageType::CallResult, "1", "BootNotification", 45.0);
  auto in_error = exchange_fields(true, MessageType::CallError, "2", "Reset", 3.0);
  in_error.emplace("error_code", "NotImplemented");
  const auto in_call = exchange_fields(true, MessageType::Call, "3", "Heartbeat");
  const auto no_action = exchange_fields(true, MessageType::CallResult, "abc", "");
  const auto send = exchange_fields(false, MessageType::Send, "4", "NotifyPeriodicEventStream");
  const auto line = [](const json::object& f) {
    return format_pretty_line({LogLevel::info, "server", "CP-101", "ignored", &f}, "12:00:00.123", false);
  };
  EXPECT_EQ(line(out_call), "12:00:00.123 ⚡ CP-101  →  BootNotification  [OUT]");
  EXPECT_EQ(line(in_result), "12:00:00.123 ✅ CP-101  ←  BootNotification  [IN]   { latency_ms: 45 }");
  EXPECT_EQ(line(in_error), "12:00:00.123 ❌ CP-101  ←  Reset  [IN]   { latency_ms: 3, error_code: \"NotImplemented\" }");
  EXPECT_EQ(line(in_call), "12:00:00.123 ⚡ CP-101  ←  Heartbeat  [IN]");
  EXPECT_EQ(line(no_action), "12:00:00.123 ✅ CP-101  ←  #abc  [IN]");
  EXPECT_EQ(line(send), "12:00:00.123 📨 CP-101  →  NotifyPeriodicEventStream  [OUT]");
}

TEST(Pretty, ColourOnlyWhenAsked) {
  const auto in_result = exchange_fields(true, MessageType::CallResult, "1", "BootNotification", 45.0);
  const LogRecord records[] = {{LogLevel::info, "server", "CP001", "Client connected"},
                               {LogLevel::error, "server", "CP001", "failed"},
                               {LogLevel::info, "server", "CP-101", "x", &in_result}};
  for (const auto& r : records) {
    const std::string plain = format_pretty_line(r, "12:00:00.123", false);
    const std::string coloured = format_pretty_line(r, "12:00:00.123", true);
    EXPECT_EQ(plain.find('\x1b'), std::string::npos);
    EXPECT_NE(coloured.find("\x1b["), std::string::npos);
    EXPECT_EQ(strip_ansi(coloured), plain);
  }
  EXPECT_NE(format_pretty_line(records[1], "t", true).find("\x1b[31m"), std::string::npos);  // errors red
}

TEST(Pretty, LoggerWritesLines) {
  MemFile out;
  EXPECT_FALSE(color_by_default(out.get()));  // not a terminal
  auto logger = make_pretty_logger(LogLevel::info, out.get());
  logger->log(LogLevel::info, "server", "CP001", "Client connected password=x");
  log_exchange(*logger, LogLevel::info, "server", "CP-101",
               {.inbound = false, .type = MessageType::Call, .message_id = "1", .action = "BootNotification"});
  const auto lines = out.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(R"(\d\d:\d\d:\d\d\.\d{3} INFO  server CP001 Client connected password=\[REDACTED\])")))
      << lines[0];
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(R"(\d\d:\d\d:\d\d\.\d{3} ⚡ CP-101  →  BootNotification  \[OUT\])")))
      << lines[1];
  EXPECT_EQ(out.text().find('\x1b'), std::string::npos);
}

// ---- redaction --------------------------------------------------------------------------------

TEST(Redact, SecretKeys) {
  for (const char* key : {"password", "Password", "PASSWORD", "AuthorizationKey", "authorizationKey",
                          "BasicAuthPassword", "basicAuthPassword", "privateKey", "private_key", "apnPassword",
                          "passphrase", "Authorization", "Proxy-Authorization", "passwd"})
    EXPECT_TRUE(is_secret_key(key)) << key;
  for (const char* key : {"user", "idTag", "publicKey", "passwordPolicy", "key", "value", "Authorize",
                          "localAuthorizationList", "authorized", "private", ""})
    EXPECT_FALSE(is_secret_key(key)) << key;
}

TEST(Redact, JsonValuesOfEveryKey) {
  for (const char* key : {"password", "AuthorizationKey", "authorizationKey", "BasicAuthPassword", "basicAuthPassword",
                          "privateKey", "PrivateKey", "PASSWORD"}) {
    const std::string k = key;
    EXPECT_EQ(redact("{\"" + k + "\":\"hunter2\",\"user\":\"x\"}"), "{\"" + k + "\":\"[REDACTED]\",\"user\":\"x\"}");
    EXPECT_EQ(redact("{ \"" + k + "\" : \"hunter2\" }"), "{ \"" + k + "\" : \"[REDACTED]\" }");
  }
}

TEST(Redact, NonStringJsonValuesBecomeStrings) {
  EXPECT_EQ(redact(R"({"password":12345,"x":1})"), R"({"password":"[REDACTED]","x":1})");
  EXPECT_EQ(redact(R"({"password": true})"), R"({"password": "[REDACTED]"})");
  EXPECT_EQ(redact(R"({"password":null})"), R"({"password":"[REDACTED]"})");
  EXPECT_EQ(redact(R"({"password":{"a":"}","b":[1,2]},"x":1})"), R"({"password":"[REDACTED]","x":1})");
  EXPECT_EQ(redact(R"({"password":["a","b"]})"), R"({"password":"[REDACTED]"})");
  EXPECT_EQ(redact("{\"password\":\n  \"pretty\"\n}"), "{\"password\":\n  \"[REDACTED]\"\n}");
}

TEST(Redact, EscapedQuotesInsideValues) {
  EXPECT_EQ(redact(R"({"password":"a\"b,c\\","user":"x"})"), R"({"password":"[REDACTED]","user":"x"})");
  EXPECT_EQ(redact(R"({"password":"\"","next":"\"ok\""})"), R"({"password":"[REDACTED]","next":"\"ok\""})");
}

TEST(Redact, NestedAndRepeated) {
  const std::string in =
      R"([2,"1","SetNetworkProfile",{"connectionData":{"basicAuthPassword":"one","apn":{"apnPassword":"two","apn":"net"}},"list":[{"password":"three"},{"password":"four"}]}])";
  const std::string out = redact(in);
  for (const char* secret : {"one", "two", "three", "four"}) EXPECT_EQ(out.find(std::string("\"") + secret), std::string::npos) << out;
  const json::value v = json::parse(out);
  EXPECT_EQ(v.at(3).at("connectionData").at("apn").at("apn"), "net");
  EXPECT_EQ(v.at(3).at("list").at(1).at("password"), "[REDACTED]");
}

TEST(Redact, JsonInsideAJsonString) {
  const std::string in = R"({"raw":"[2,\"1\",\"X\",{\"password\":\"se\\\"cret\",\"n\":1}]","after":"kept"})";
  const std::string out = redact(in);
  EXPECT_EQ(out.find("se\\\\\\\"cret"), std::string::npos) << out;
  EXPECT_EQ(out.find("cret"), std::string::npos) << out;
  const json::value v = json::parse(out);
  EXPECT_EQ(v.at("after"), "kept");
  const json::value inner = json::parse(v.at("raw").get_string());
  EXPECT_EQ(inner.at(3).at("password"), "[REDACTED]");
  EXPECT_EQ(inner.at(3).at("n"), 1);
}

TEST(Redact, ProseKeyValues) {
  EXPECT_EQ(redact("login password=hunter2 user=bob"), "login password=[REDACTED] user=bob");
  EXPECT_EQ(redact("password: hunter2, retry"), "password: [REDACTED], retry");
  EXPECT_EQ(redact("BasicAuthPassword='two words' set"), "BasicAuthPassword='[REDACTED]' set");
  EXPECT_EQ(redact("AuthorizationKey = 0011aabb"), "AuthorizationKey = [REDACTED]");
  EXPECT_EQ(redact("--private-key=/etc/key.pem --port=1"), "--private-key=[REDACTED] --port=1");
  EXPECT_EQ(redact("a password=x and a PASSWORD=y"), "a password=[REDACTED] and a PASSWORD=[REDACTED]");
  EXPECT_EQ(redact("?user=a&password=b&x=c"), "?user=a&password=[REDACTED]&x=c");
}

TEST(Redact, AuthorizationHeader) {
  EXPECT_EQ(redact("Authorization: Basic Q1AxOnNlY3JldA=="), "Authorization: Basic [REDACTED]");
  EXPECT_EQ(redact("authorization: Bearer eyJhbGciOi.eyJzdWIi.sig"), "authorization: Bearer [REDACTED]");
  EXPECT_EQ(redact("GET /CP1 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Q1AxOnNlY3JldA==\r\nUpgrade: websocket\r\n"),
            "GET /CP1 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic [REDACTED]\r\nUpgrade: websocket\r\n");
  EXPECT_EQ(redact("Authorization: Q1AxOnNlY3JldA== rest"), "Authorization: [REDACTED] rest");
  EXPECT_EQ(redact(R"({"authorization":"Basic Q1AxOnNlY3JldA=="})"), R"({"authorization":"Basic [REDACTED]"})");
  EXPECT_EQ(redact(R"({"Authorization":"opaque"})"), R"({"Authorization":"[REDACTED]"})");
}

TEST(Redact, UrlPasswords) {
  EXPECT_EQ(redact("connecting to ws://CP1:s3cret@csms.example:9000/ocpp"),
            "connecting to ws://CP1:[REDACTED]@csms.example:9000/ocpp");
  EXPECT_EQ(redact("ws://csms.example:9000/ocpp/CP1"), "ws://csms.example:9000/ocpp/CP1");
  EXPECT_EQ(redact("wss://user@host/x"), "wss://user@host/x");
}

TEST(Redact, PemPrivateKeys) {
  for (const char* label : {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"}) {
    const std::string l = label;
    const std::string pem = "-----BEGIN " + l + "-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nAbCd==\n-----END " + l + "-----";
    EXPECT_EQ(redact("key:\n" + pem + "\ndone"), "key:\n[REDACTED]\ndone") << label;
  }
  const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----";
  EXPECT_EQ(redact(cert + "\nprivate stuff"), cert + "\nprivate stuff");
  // Truncated, and inside a JSON string with escaped newlines: JSON stays valid.
  const std::string in = R"({"pem":"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nxyz","n":1})";
  const std::string out = redact(in);
  EXPECT_EQ(out, R"({"pem":"[REDACTED]","n":1})");
  EXPECT_EQ(redact("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE"), "[REDACTED]");
}

TEST(Redact, OcppConfigurationCarriedAsData) {
  // 1.6 ChangeConfiguration: only the secret's value goes.
  EXPECT_EQ(redact(R"([2,"7","ChangeConfiguration",{"key":"AuthorizationKey","value":"0011223344556677"}])"),
            R"([2,"7","ChangeConfiguration",{"key":"AuthorizationKey","value":"[REDACTED]"}])");
  EXPECT_EQ(redact(R"([2,"8","ChangeConfiguration",{"key":"HeartbeatInterval","value":"60"}])"),
            R"([2,"8","ChangeConfiguration",{"key":"HeartbeatInterval","value":"60"}])");
  // 1.6 GetConfiguration.conf: the other keys keep their values.
  const std::string conf = redact(
      R"([3,"9",{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"60"},{"key":"AuthorizationKey","readonly":false,"value":"abcdef"}]}])");
  const json::value c = json::parse(conf);
  EXPECT_EQ(c.at(2).at("configurationKey").at(0).at("value"), "60");
  EXPECT_EQ(c.at(2).at("configurationKey").at(1).at("value"), "[REDACTED]");
  // 2.x SetVariables and NotifyReport.
  const std::string set = redact(
      R"([2,"1","SetVariables",{"setVariableData":[{"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"},"attributeValue":"pa55word"},{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attributeValue":"300"}]}])");
  EXPECT_EQ(set.find("pa55word"), std::string::npos) << set;
  const json::value s = json::parse(set);
  EXPECT_EQ(s.at(3).at("setVariableData").at(1).at("attributeValue"), "300");
  const std::string report = redact(
      R"({"reportData":[{"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"},"variableAttribute":[{"type":"Actual","value":"pa55word"}]}]})");
  EXPECT_EQ(report.find("pa55word"), std::string::npos) << report;
  // Not parseable (truncated in a message): every value goes, to be safe.
  EXPECT_EQ(redact(R"(bad frame: [2,"7","ChangeConfiguration",{"key":"AuthorizationKey","value":"0011)"),
            R"(bad frame: [2,"7","ChangeConfiguration",{"key":"AuthorizationKey","value":"[REDACTED])");
  // The structured form.
  json::object o{{"key", "AuthorizationKey"}, {"value", "0011"}};
  redact(o);
  EXPECT_EQ(o.at("value"), "[REDACTED]");
}

TEST(Redact, OrdinaryTextIsLeftAlone) {
  const char* texts[] = {
      R"([2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"ModelY"}])",
      R"([2,"1","Authorize",{"idTag":"ABC123"}])",
      R"([3,"1",{"idTagInfo":{"status":"Accepted"}}])",
      "Client connected from 10.0.0.1:54321",
      "The passenger authorized a private session; passwords rotate monthly",
      R"({"localAuthorizationList":[{"idTag":"A"}],"note":"password reset requested"})",
      "handler for Authorize threw: bad idTag",
      "key=value password",
      "",
  };
  for (const char* t : texts) EXPECT_EQ(redact(t), t);
  EXPECT_FALSE(may_contain_secret(texts[0]));
  EXPECT_FALSE(may_contain_secret(texts[1]));
  EXPECT_FALSE(may_contain_secret(texts[3]));
  EXPECT_TRUE(may_contain_secret(texts[4]));
  EXPECT_TRUE(may_contain_secret("ws://a"));
}

TEST(Redact, RedactedJsonStaysValid) {
  const char* inputs[] = {
      R"({"password":"a\"b","x":[1,{"privateKey":{"k":[1,2]}}],"Authorization":"Bearer t"})",
      R"([2,"1","X",{"passwd":12.5e3,"pass_word":false,"note":"password: x"}])",
      R"({"raw":"{\"password\":[1,2],\"q\":\"password=x y\"}"})",
  };
  for (const char* in : inputs) {
    const std::string out = redact(in);
    json::error_code ec;
    json::parse(out, ec);
    EXPECT_FALSE(ec) << out;
    EXPECT_NE(out.find("[REDACTED]"), std::string::npos) << out;
  }
}

TEST(Redact, StructuredFields) {
  json::object fields{{"password", 1},
                      {"user", "bob"},
                      {"nested", {{"list", json::array{json::object{{"BasicAuthPassword", "x"}}, "password=y"}}}},
                      {"pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}};
  EXPECT_TRUE(may_contain_secret(fields));
  redact(fields);
  EXPECT_EQ(fields.at("password"), "[REDACTED]");
  EXPECT_EQ(fields.at("user"), "bob");
  EXPECT_EQ(fields.at("nested").at("list").at(0).at("BasicAuthPassword"), "[REDACTED]");
  EXPECT_EQ(fields.at("nested").at("list").at(1), "password=[REDACTED]");
  EXPECT_EQ(fields.at("pem"), "[REDACTED]");
  EXPECT_FALSE(may_contain_secret(json::object{{"user", "bob"}, {"n", 1}}));
}

// Random documents with secrets (marked ZQ...QZ) under secret keys at any depth, with quotes,
// backslashes and brackets in the values; written plain, as JSON inside a JSON string (twice), with
// spaces and newlines, and inside prose. Every time: no marker survives and the JSON still parses.
TEST(Redact, RandomDocumentsNeverLeak) {
  std::mt19937 rng(20260101);
  const auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const auto text = [&] {
    static const std::string chars = "abXZ09 \"\\/,:;{}[]=&'\n\t-_";
    std::string s;
    for (int i = pick(12); i > 0; --i) s += chars[pick(int(chars.size()))];
    return s;
  };
  static const char* secret_keys[] = {"password", "AuthorizationKey", "basicAuthPassword", "privateKey",
                                      "Authorization", "apn_password"};
  static const char* plain_keys[] = {"a", "b", "idTag", "note", "value", "key"};
  std::function<json::value(int)> make = [&](int depth) -> json::value {
    switch (depth > 3 ? pick(3) : pick(6)) {
      case 0: return json::value(text());
      case 1: return json::value(pick(1000));
      case 2: return json::value(nullptr);
      case 3: {
        json::array a;
        for (int i = pick(4); i > 0; --i) a.push_back(make(depth + 1));
        return a;
      }
      default: {
        json::object o;
        for (int i = 1 + pick(4); i > 0; --i) {
          if (pick(3) == 0) {
            const std::string secret = "ZQ" + text() + "QZ";
            o[secret_keys[pick(6)]] = pick(4) == 0 ? json::value(json::object{{"x", secret}}) : json::value(secret);
          } else {
            o[plain_keys[pick(6)]] = make(depth + 1);
          }
        }
        return o;
      }
    }
  };
  std::function<std::string(const json::value&)> spaced = [&](const json::value& v) -> std::string {
    if (v.is_object()) {
      std::string out = "{\n";
      for (const auto& kv : v.get_object())
        out += (out.size() > 2 ? ",\n  " : "  ") + json::serialize(json::value(kv.key())) + " :  " + spaced(kv.value());
      return out + "\n}";
    }
    if (v.is_array()) {
      std::string out = "[ ";
      for (const auto& e : v.get_array()) out += (out.size() > 2 ? " , " : "") + spaced(e);
      return out + " ]";
    }
    return json::serialize(v);
  };
  const auto wrap = [](const std::string& s) { return json::serialize(json::object{{"raw", s}}); };
  // The JSON a redacted input should still be: unwrapped as often as it was wrapped.
  const auto unwrap = [](std::string s, int times) {
    for (; times > 0; --times) s = std::string(json::parse(s).at("raw").get_string());
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    const json::value doc = make(0);
    const std::string plain = json::serialize(doc);
    const std::pair<std::string, int> cases[] = {
        {plain, 0}, {wrap(plain), 1}, {wrap(wrap(plain)), 2}, {spaced(doc), 0}, {"bad: " + plain + " end", -1}};
    for (const auto& [input, wrapped] : cases) {
      const std::string out = redact(input);
      ASSERT_EQ(out.find("ZQ"), std::string::npos) << input << "\n" << out;
      ASSERT_EQ(out.find("QZ"), std::string::npos) << input << "\n" << out;
      const std::string inner = wrapped < 0 ? out.substr(5, out.size() - 9) : out;
      json::error_code ec;
      json::parse(unwrap(inner, std::max(wrapped, 0)), ec);
      ASSERT_FALSE(ec) << input << "\n" << out;
    }
  }
}

// ---- spdlog ---------------------------------------------------------------------------------------

TEST(Spdlog, WritesThroughTheSpdlogLogger) {
  std::ostringstream stream;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream);
  auto spd = std::make_shared<spdlog::logger>("ocpp", sink);
  spd->set_pattern("%l %v");
  spd->set_level(spdlog::level::info);
  auto logger = make_spdlog_logger(spd);
  EXPECT_EQ(logger->level(), LogLevel::info);

  logger->log(LogLevel::debug, "rpc", "CP1", "not shown");
  logger->log(LogLevel::info, "server", "CP001", "Client connected {}", json::object{{"port", 3000}});
  logger->log(LogLevel::warn, "rpc", "", "password=hunter2");
  logger->log(LogLevel::error, "rpc", "CP1", "failed");
  spd->flush();
  EXPECT_EQ(stream.str(),
            "info [server] CP001: Client connected {} {\"port\":3000}\n"
            "warning [rpc] password=[REDACTED]\n"
            "error [rpc] CP1: failed\n");
}
