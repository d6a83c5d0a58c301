#include "scenario.hpp"

#include "json_tools.hpp"

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string_view>

namespace ocpp::app::scenario {
namespace json = boost::json;

namespace {

constexpr double max_seconds = 600;  // every wait and deadline is bounded, so a run always ends

// Where in the file a check is, for the message: "step 3.expect_call.within_s".
class Where {
 public:
  Where(const std::string& file, std::string path) : file_(file), path_(std::move(path)) {}
  Where operator/(std::string_view key) const {
    return {file_, path_.empty() ? std::string(key) : path_ + "." + std::string(key)};
  }
  [[noreturn]] void fail(const std::string& reason) const {
    throw ScenarioError(file_ + ": " + (path_.empty() ? "" : path_ + ": ") + reason);
  }

 private:
  const std::string& file_;
  std::string path_;
};

const json::object& object_at(const json::value& v, const Where& where) {
  if (!v.is_object()) where.fail("must be an object");
  return v.as_object();
}

std::string string_at(const json::value& v, const Where& where) {
  if (!v.is_string() || v.as_string().empty()) where.fail("must be a non-empty string");
  return std::string(v.as_string());
}

double number_at(const json::value& v, const Where& where, double low, double high, bool low_open = false) {
  if (!v.is_number()) where.fail("must be a number");
  const double d = v.to_number<double>();
  if (d < low || d > high || (low_open && d == low)) {
    std::ostringstream range;
    range << "must be " << (low_open ? "> " : ">= ") << low << " and <= " << high;
    where.fail(range.str());
  }
  return d;
}

void only_keys(const json::object& o, const Where& where, std::initializer_list<std::string_view> keys) {
  for (const auto& [key, _] : o) {
    bool known = false;
    for (auto k : keys) known = known || k == key;
    if (known) continue;
    std::string list;
    for (auto k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
    (where / key).fail("unknown field (expected one of: " + list + ")");
  }
}

std::vector<std::pair<std::string, std::string>> captures_at(const json::value& v, const Where& where) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, path] : object_at(v, where)) out.emplace_back(name, string_at(path, where / name));
  return out;
}

constexpr std::pair<std::string_view, StepKind> kinds[] = {{"boot", StepKind::boot},
                                                           {"authorize", StepKind::authorize},
                                                           {"start", StepKind::start},
                                                           {"meter_values", StepKind::meter_values},
                                                           {"stop", StepKind::stop},
                                                           {"status", StepKind::status},
                                                           {"wait", StepKind::wait},
                                                           {"raw", StepKind::raw},
                                                           {"expect_call", StepKind::expect_call}};

void read_expect_call(Step& step, const json::value& v, const Where& where) {
  const auto& o = object_at(v, where);
  only_keys(o, where, {"action", "within_s", "fields", "reply", "capture"});
  if (!o.contains("action")) where.fail("needs \"action\", the call the CSMS must make");
  if (!o.contains("within_s")) where.fail("needs \"within_s\", how long to wait for the call");
  step.action = string_at(o.at("action"), where / "action");
  step.seconds = number_at(o.at("within_s"), where / "within_s", 0, max_seconds, true);
  if (const auto* f = o.if_contains("fields")) step.fields = object_at(*f, where / "fields");
  if (const auto* r = o.if_contains("reply")) {
    step.payload = object_at(*r, where / "reply");
    step.has_reply = true;
  }
  if (const auto* c = o.if_contains("capture")) step.captures = captures_at(*c, where / "capture");
}

void read_raw(Step& step, const json::value& v, const Where& where) {
  const json::array* frame = v.if_array();
  if (!frame || frame->size() != 4 || !(*frame)[0].is_number() || (*frame)[0].to_number<double>() != 2 ||
      !(*frame)[1].is_string() || !(*frame)[2].is_string() || !(*frame)[3].is_object())
    where.fail(
        "must be a CALL frame [2, \"messageId\", \"Action\", {payload}] (the station's session correlates "
        "the answer, so other frame types cannot be sent)");
  step.message_id = std::string((*frame)[1].as_string());
  step.action = std::string((*frame)[2].as_string());
  if (step.message_id.empty() || step.action.empty()) where.fail("the message id and the action must not be empty");
  step.payload = (*frame)[3].as_object();
}

Step read_step(const json::value& v, const Where& where, std::size_t number) {
  const auto& o = object_at(v, where);
  Step step;
  step.number = number;
  const json::value* argument = nullptr;
  std::string_view kind_key;
  for (auto [key, kind] : kinds) {
    if (const auto* a = o.if_contains(key)) {
      if (argument)
        where.fail("has both \"" + std::string(kind_key) + "\" and \"" + std::string(key) + "\"; one kind per step");
      argument = a;
      kind_key = key;
      step.kind = kind;
    }
  }
  if (!argument) where.fail("needs one of: boot, authorize, start, meter_values, stop, status, wait, raw, expect_call");
  const Where at = where / kind_key;
  switch (step.kind) {
    case StepKind::wait:
      only_keys(o, where, {"wait", "name"});
      step.seconds = number_at(*argument, at, 0, max_seconds);
      break;
    case StepKind::expect_call:
      only_keys(o, where, {"expect_call", "name"});
      read_expect_call(step, *argument, at);
      break;
    case StepKind::raw:
      only_keys(o, where, {"raw", "name", "expect_result", "expect_error", "capture"});
      read_raw(step, *argument, at);
      break;
    case StepKind::meter_values:
      only_keys(o, where, {"meter_values", "name", "expect_result", "expect_error", "capture", "repeat", "every_s"});
      step.payload = object_at(*argument, at);
      if (const auto* r = o.if_contains("repeat"))
        step.repeat = static_cast<int>(number_at(*r, where / "repeat", 1, 10000));
      if (const auto* e = o.if_contains("every_s")) step.seconds = number_at(*e, where / "every_s", 0, max_seconds);
      break;
    default:
      only_keys(o, where, {kind_key, "name", "expect_result", "expect_error", "capture"});
      if (step.kind == StepKind::status && !argument->is_string() && !argument->is_object())
        at.fail("must be the connector status (\"Charging\") or an object of payload fields");
      if (argument->is_string())
        step.status = string_at(*argument, at);
      else
        step.payload = object_at(*argument, at);
  }
  if (const auto* r = o.if_contains("expect_result")) step.expect_result = object_at(*r, where / "expect_result");
  if (const auto* e = o.if_contains("expect_error")) step.expect_error = string_at(*e, where / "expect_error");
  if (step.expect_result && step.expect_error) where.fail("has both expect_result and expect_error");
  if (const auto* c = o.if_contains("capture")) step.captures = captures_at(*c, where / "capture");
  if (const auto* n = o.if_contains("name")) step.name = string_at(*n, where / "name");
  if (step.name.empty()) step.name = std::string(kind_key) + (step.action.empty() ? "" : " " + step.action);
  return step;
}

// Every variable the steps use must be set somewhere: built in, declared, or captured (whether it
// is set before the step that uses it shows only at run time).
void check_variables(const Scenario& s, const std::string& path) {
  std::set<std::string, std::less<>> known{"identity", "n", "idTag", "transactionId"};
  for (const auto& [k, _] : s.variables) known.emplace(k);
  for (const auto& step : s.steps)
    for (const auto& [name, _] : step.captures) known.insert(name);
  auto check = [&](const json::value& v, const Where& where) {
    for (const auto& name : variable_names(v))
      if (!known.contains(name))
        where.fail("{" + name +
                   "} is never set (built in: identity, n, idTag, transactionId; else declare it under "
                   "\"variables\" or capture it)");
  };
  const Where top(path, "");
  check(json::value(s.variables), top / "variables");
  for (const auto& step : s.steps) {
    const Where at = top / ("step " + std::to_string(step.number));
    check(json::value(step.payload), at);
    check(json::value(step.fields), at);
    check(json::value(step.message_id), at);
    if (step.expect_result) check(json::value(*step.expect_result), at / "expect_result");
  }
}

}  // namespace

Scenario load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path + ": cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  const json::value root = json::parse(text.str(), ec);
  if (ec) throw ScenarioError(path + ": not JSON: " + ec.message());
  const Where top(path, "");
  const auto& o = object_at(root, top);
  only_keys(o, top, {"name", "protocol", "stations", "call_timeout_s", "variables", "steps"});

  Scenario s;
  if (!o.contains("protocol")) top.fail("needs \"protocol\": ocpp1.6, ocpp2.0.1 or ocpp2.1");
  s.protocol = string_at(o.at("protocol"), top / "protocol");
  s.version = protocol_version(s.protocol);
  if (s.version == ProtocolVersion::other)
    (top / "protocol").fail("must be ocpp1.6, ocpp2.0.1 or ocpp2.1, not " + s.protocol);
  s.name = o.contains("name") ? string_at(o.at("name"), top / "name") : std::filesystem::path(path).stem().string();
  if (const auto* st = o.if_contains("stations")) {
    const Where at = top / "stations";
    const auto& so = object_at(*st, at);
    only_keys(so, at, {"count", "identity", "per_second"});
    if (const auto* c = so.if_contains("count"))
      s.count = static_cast<std::size_t>(number_at(*c, at / "count", 1, 10000));
    if (const auto* i = so.if_contains("identity")) s.identity = string_at(*i, at / "identity");
    if (const auto* p = so.if_contains("per_second")) s.per_second = number_at(*p, at / "per_second", 0, 10000);
    if (s.count > 1 && s.identity.find("{n}") == std::string::npos)
      (at / "identity").fail("must contain {n} when count > 1, so each station has its own identity");
  }
  if (const auto* t = o.if_contains("call_timeout_s"))
    s.call_timeout_s = number_at(*t, top / "call_timeout_s", 0, max_seconds, true);
  if (const auto* v = o.if_contains("variables")) s.variables = object_at(*v, top / "variables");
  if (!o.contains("steps") || !o.at("steps").is_array() || o.at("steps").as_array().empty())
    top.fail("needs \"steps\", a non-empty array");
  const auto& steps = o.at("steps").as_array();
  for (std::size_t i = 0; i < steps.size(); ++i)
    s.steps.push_back(read_step(steps[i], top / ("step " + std::to_string(i + 1)), i + 1));
  check_variables(s, path);
  return s;
}

}  // namespace ocpp::app::scenario
