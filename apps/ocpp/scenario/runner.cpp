#include "runner.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "demo_payloads.hpp"
#include "station_options.hpp"
#include "json_tools.hpp"
#include "ocpp/ocpp.hpp"

namespace ocpp::app::scenario {
namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}
std::string seconds_text(double seconds) {
  std::ostringstream out;
  out << seconds;
  return out.str();
}
double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A CSMS call taken by an expect_call step before or while the station reached it.
struct Claim {
  json::value params;
  std::string problem;  // the step's reply could not be built (the CSMS got InternalError)
};

struct Station {
  Station(asio::io_context& io, const Scenario& s, const OnCheck& on_check)
      : scenario(s), wake(io), sleep(io), report(on_check) {}

  const Scenario& scenario;
  std::shared_ptr<Client> client;
  json::object vars;
  std::size_t cursor = 0;               // the step being run; expect_call steps from here on take the CSMS's calls
  std::map<std::size_t, Claim> claims;  // by step index
  std::string closed;                   // why the connection closed, once it has
  asio::steady_timer wake;              // cancelled when a claim arrives
  asio::steady_timer sleep;             // waits, which claims do not cut short
  int seq = 0;                          // 2.x TransactionEvent seqNo
  int energy = 0;                       // Wh of the current transaction
  StationResult result;
  const OnCheck& report;

  void record(CheckResult check) {
    report(result.identity, check);
    result.checks.push_back(std::move(check));
  }
};

json::object initial_variables(const Scenario& s, const std::string& identity, std::size_t number) {
  json::object vars;
  vars["identity"] = identity;
  vars["n"] = number;
  vars["idTag"] = "TAG-0001";
  if (s.version != ProtocolVersion::v16) vars["transactionId"] = identity + "-tx1";
  for (const auto& [k, v] : s.variables) vars[k] = substitute(v, vars);
  return vars;
}

json::value default_reply(ProtocolVersion v, std::string_view action, const json::value& params) {
  auto reply = cp_response(v, action, params);
  if (reply.is_null()) return json::object{{"status", "Accepted"}};
  return reply;
}

// The station's answer to a CSMS call: the reply of the first expect_call step still ahead that
// waits for this action, else the default for the action.
HandlerResult answer(Station& st, CallContext& ctx) {
  const auto& steps = st.scenario.steps;
  for (std::size_t i = st.cursor; i < steps.size(); ++i) {
    const Step& step = steps[i];
    if (step.kind != StepKind::expect_call || step.action != ctx.action || st.claims.contains(i)) continue;
    Claim& claim = st.claims[i];
    claim.params = ctx.params;
    st.wake.cancel();
    if (!step.has_reply) return default_reply(st.scenario.version, ctx.action, ctx.params);
    try {
      return substitute(step.payload, st.vars);
    } catch (const std::exception& e) {
      claim.problem = std::string("reply: ") + e.what();
      throw RpcError(ErrorCode::InternalError, "scenario reply: " + std::string(e.what()));
    }
  }
  st.result.unexpected_calls.push_back(ctx.action);
  return default_reply(st.scenario.version, ctx.action, ctx.params);
}

const json::value& numeric_transaction(const json::object& vars) {
  const auto* tx = vars.if_contains("transactionId");
  if (!tx || !tx->is_int64()) throw std::runtime_error("no numeric {transactionId}: OCPP 1.6 needs a start step first");
  return *tx;
}

struct Request {
  std::string action;
  json::value payload;
  CallOptions options;
};

// The CALL of a message step: the version's default payload with the step's overrides, or the raw
// frame's. Throws std::runtime_error for a variable that is not set.
Request request(Station& st, const Step& step) {
  const auto v = st.scenario.version;
  const bool v16 = v == ProtocolVersion::v16;
  const auto& vars = st.vars;
  auto text = [&](std::string_view name) { return text_of(variable(vars, name)); };
  Request r;
  std::string& action = r.action;
  json::value& payload = r.payload;
  switch (step.kind) {
    case StepKind::boot:
      action = "BootNotification";
      payload = cp_boot(v);
      break;
    case StepKind::authorize:
      action = "Authorize";
      payload = cp_authorize(v, text("idTag"));
      break;
    case StepKind::status:
      action = "StatusNotification";
      payload = cp_status(v, step.status.empty() ? "Available" : step.status);
      break;
    case StepKind::start:
      action = v16 ? "StartTransaction" : "TransactionEvent";
      st.seq = 0;
      st.energy = 0;
      payload = cp_start(v, text("idTag"), v16 ? "" : text("transactionId"));
      break;
    case StepKind::meter_values:
      action = v16 ? "MeterValues" : "TransactionEvent";
      st.energy += 1000;
      payload = cp_meter(v, v16 ? text_of(numeric_transaction(vars)) : text("transactionId"), st.energy, ++st.seq);
      break;
    case StepKind::stop:
      action = v16 ? "StopTransaction" : "TransactionEvent";
      payload = cp_stop(v, v16 ? text_of(numeric_transaction(vars)) : text("transactionId"), st.energy, ++st.seq);
      break;
    case StepKind::raw:
      action = step.action;
      payload = substitute(step.payload, vars);
      r.options.message_id = text_of(substitute(json::value(step.message_id), vars));
      return r;
    default:
      throw std::logic_error("not a message step");
  }
  merge(payload.as_object(), substitute(step.payload, vars).as_object());
  return r;
}

// Stores the step's captures from `payload`; the reason when one is missing.
std::string capture(Station& st, const Step& step, const json::value& payload) {
  for (const auto& [name, path] : step.captures) {
    const auto* v = at_path(payload, path);
    if (!v) return "capture " + name + ": nothing at " + path + " in " + json::serialize(payload);
    st.vars[name] = *v;
  }
  return {};
}

asio::awaitable<void> pause(asio::steady_timer& timer, double seconds) {
  if (seconds <= 0) co_return;
  timer.expires_after(to_ms(seconds));
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// One CALL of a message step and its expectations; the failure, or empty.
asio::awaitable<std::string> exchange(Station& st, const Step& step) {
  Request r;
  try {
    r = request(st, step);
  } catch (const std::exception& e) {
    co_return e.what();
  }
  const std::string& action = r.action;
  json::value result;
  try {
    result = co_await st.client->call(action, std::move(r.payload), r.options, asio::use_awaitable);
  } catch (const RpcError& e) {
    if (step.expect_error && *step.expect_error == e.wire_code()) co_return std::string();
    co_return action + ": CALLERROR " + e.wire_code() + (e.description().empty() ? "" : " (" + e.description() + ")") +
        (step.expect_error ? "; expected " + *step.expect_error : "");
  } catch (const std::exception& e) {
    co_return action + ": " + e.what();
  }
  if (step.expect_error)
    co_return action + ": expected CALLERROR " + *step.expect_error + ", got " + json::serialize(result);
  if (step.expect_result) {
    try {
      if (auto why = mismatch(substitute(*step.expect_result, st.vars), result)) co_return action + " result: " + *why;
    } catch (const std::exception& e) {
      co_return std::string("expect_result: ") + e.what();
    }
  }
  if (st.scenario.version == ProtocolVersion::v16 && step.kind == StepKind::start)
    if (const auto* tx = at_path(result, "transactionId")) st.vars["transactionId"] = *tx;
  co_return capture(st, step, result);
}

asio::awaitable<std::string> expect_call(Station& st, const Step& step, std::size_t index) {
  const auto deadline = Clock::now() + to_ms(step.seconds);
  boost::system::error_code ec;
  while (!st.claims.contains(index)) {
    if (!st.closed.empty()) co_return st.closed + " before the CSMS called " + step.action;
    if (Clock::now() >= deadline)
      co_return "the CSMS did not call " + step.action + " within " + seconds_text(step.seconds) + " s";
    st.wake.expires_at(deadline);
    co_await st.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  const Claim& claim = st.claims.at(index);
  if (!claim.problem.empty()) co_return claim.problem;
  try {
    if (auto why = mismatch(substitute(json::value(step.fields), st.vars), claim.params))
      co_return step.action + " from the CSMS: " + *why;
  } catch (const std::exception& e) {
    co_return std::string("fields: ") + e.what();
  }
  co_return capture(st, step, claim.params);
}

asio::awaitable<std::string> run_step(Station& st, const Step& step, std::size_t index) {
  switch (step.kind) {
    case StepKind::wait:
      co_await pause(st.sleep, step.seconds);
      co_return std::string();
    case StepKind::expect_call:
      co_return co_await expect_call(st, step, index);
    case StepKind::meter_values:
      for (int i = 0; i < step.repeat; ++i) {
        if (i > 0) co_await pause(st.sleep, step.seconds);
        auto failure = co_await exchange(st, step);
        if (!failure.empty()) co_return failure;
      }
      co_return std::string();
    default:
      co_return co_await exchange(st, step);
  }
}

CheckResult check_of(std::size_t step, std::string name, std::string failure, double seconds) {
  CheckResult c;
  c.step = step;
  c.name = std::move(name);
  c.outcome = failure.empty() ? Outcome::passed : Outcome::failed;
  c.message = std::move(failure);
  c.seconds = seconds;
  return c;
}

void skip_from(Station& st, std::size_t index) {
  for (std::size_t i = index; i < st.scenario.steps.size(); ++i) {
    const Step& step = st.scenario.steps[i];
    if (!step.checks()) continue;
    CheckResult c = check_of(step.number, step.name, "", 0);
    c.outcome = Outcome::skipped;
    c.message = "an earlier check failed";
    st.record(std::move(c));
  }
}

asio::awaitable<void> run_station(Station& st, double delay_s) {
  co_await pause(st.sleep, delay_s);
  const auto started = Clock::now();
  std::string failure;
  try {
    co_await st.client->connect(asio::use_awaitable);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  st.record(check_of(0, "connect", failure, since(started)));
  std::size_t i = 0;
  for (; failure.empty() && i < st.scenario.steps.size(); ++i) {
    st.cursor = i;
    const Step& step = st.scenario.steps[i];
    const auto at = Clock::now();
    failure = co_await run_step(st, step, i);
    if (step.checks() || !failure.empty()) st.record(check_of(step.number, step.name, failure, since(at)));
  }
  skip_from(st, i);
  st.result.seconds = since(started);
  CloseOptions bye;  // not a braced temporary: g++ 12 miscompiles those inside coroutines
  bye.await_pending = false;
  co_await st.client->close(bye, asio::use_awaitable);
}

}  // namespace

RunResult run_stations(const Scenario& scenario, const SimulateArgs& args, const OnCheck& on_check) {
  asio::io_context io;
  const auto started = Clock::now();
  std::vector<std::unique_ptr<Station>> stations;
  for (std::size_t n = 1; n <= scenario.count; ++n) {
    auto st = std::make_unique<Station>(io, scenario, on_check);
    std::string identity = scenario.identity;
    for (auto at = identity.find("{n}"); at != std::string::npos; at = identity.find("{n}"))
      identity.replace(at, 3, std::to_string(n));
    st->result.identity = identity;
    st->client = make_station(io.get_executor(), args, identity, scenario.protocol, to_ms(scenario.call_timeout_s));
    try {
      st->vars = initial_variables(scenario, identity, n);
    } catch (const std::exception& e) {
      throw ScenarioError("variables: " + std::string(e.what()));
    }
    st->client->handle_any([raw = st.get()](CallContext& ctx) { return answer(*raw, ctx); });
    st->client->on_close([raw = st.get()](const CloseResult& r) {
      raw->closed = "the connection closed (" + std::to_string(r.code) + (r.reason.empty() ? "" : " " + r.reason) + ")";
      raw->wake.cancel();
    });
    stations.push_back(std::move(st));
  }
  for (std::size_t i = 0; i < stations.size(); ++i) {
    const double delay = scenario.per_second > 0 ? static_cast<double>(i) / scenario.per_second : 0;
    // A station's coroutine turns every failure into a check; anything else it throws is a bug,
    // and leaves io.run() rather than vanishing.
    asio::co_spawn(io, run_station(*stations[i], delay), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
  io.run();
  RunResult result;
  result.scenario = scenario.name;
  result.protocol = scenario.protocol;
  for (auto& st : stations) result.stations.push_back(std::move(st->result));
  result.seconds = since(started);
  return result;
}

}  // namespace ocpp::app::scenario
