// `ocpp simulate`: charge points that boot, heartbeat, report status, run a transaction with meter
// values and answer the CSMS's common calls. Exit status 0 only if every call succeeded.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string_view>

#include "commands.hpp"
#include "demo_payloads.hpp"
#include "scenario/run.hpp"
#include "station_options.hpp"
#include "ocpp/ocpp.hpp"
#include "progress.hpp"

namespace ocpp::app {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct Tally {
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::atomic<int> answered{0};  // CSMS calls we answered
};

asio::awaitable<bool> step(Client& cp, std::string action, json::value payload, Tally& tally, bool quiet,
                           json::value* out = nullptr) {
  try {
    auto result = co_await cp.call(action, std::move(payload), asio::use_awaitable);
    ++tally.ok;
    if (out) *out = std::move(result);
    co_return true;
  } catch (const std::exception& e) {
    ++tally.failed;
    if (!quiet) std::cerr << cp.identity() << ": " << action << " failed: " << e.what() << "\n";
    co_return false;
  }
}

std::string tx_id_of(ProtocolVersion v, const json::value& start_result, const std::string& identity) {
  if (v == ProtocolVersion::v16) {
    if (const auto* id = start_result.as_object().if_contains("transactionId"); id && id->is_int64())
      return std::to_string(id->as_int64());
    return "0";
  }
  return identity + "-tx1";
}

asio::awaitable<void> run_station(std::shared_ptr<Client> cp, ProtocolVersion v, Tally& tally, bool quiet) {
  try {
    co_await cp->connect(asio::use_awaitable);
  } catch (const std::exception& e) {
    ++tally.failed;
    std::cerr << cp->identity() << ": connect failed: " << e.what() << "\n";
    co_return;
  }
  Client& c = *cp;
  const bool v16 = v == ProtocolVersion::v16;
  json::value start_result;
  bool ok = co_await step(c, "BootNotification", cp_boot(v), tally, quiet) &&
            co_await step(c, "Heartbeat", json::object(), tally, quiet) &&
            co_await step(c, "StatusNotification", cp_status(v, "Available"), tally, quiet) &&
            co_await step(c, "Authorize", cp_authorize(v, "TAG-0001"), tally, quiet);
  if (ok) {
    const std::string pending_tx = c.identity() + "-tx1";
    ok = co_await step(c, v16 ? "StartTransaction" : "TransactionEvent", cp_start(v, "TAG-0001", pending_tx),
                       tally, quiet, &start_result) &&
         co_await step(c, "StatusNotification", cp_status(v, v16 ? "Charging" : "Occupied"), tally, quiet);
    const std::string tx = tx_id_of(v, start_result, c.identity());
    for (int i = 1; ok && i <= 2; ++i)
      ok = co_await step(c, v16 ? "MeterValues" : "TransactionEvent", cp_meter(v, tx, i * 1500, i), tally, quiet);
    if (ok)
      ok = co_await step(c, v16 ? "StopTransaction" : "TransactionEvent", cp_stop(v, tx, 4500, 3), tally, quiet) &&
           co_await step(c, "StatusNotification", cp_status(v, "Available"), tally, quiet);
  }
  CloseOptions bye;  // not a braced temporary: g++ 12 miscompiles those inside coroutines
  co_await cp->close(bye, asio::use_awaitable);
}

// "{id}" in a --cert/--key path becomes the station's identity, so each of --count stations can
// present its own certificate (profile 3 binds the certificate's CN to the identity).
std::string for_station(std::string path, const std::string& identity) {
  static constexpr std::string_view placeholder = "{id}";
  for (auto at = path.find(placeholder); at != std::string::npos; at = path.find(placeholder, at + identity.size()))
    path.replace(at, placeholder.size(), identity);
  return path;
}

void require_file(const std::string& flag, const std::string& path, const std::string& identity) {
  if (!path.empty() && !std::filesystem::is_regular_file(path))
    throw UsageError(flag + ": no file " + path + " (for " + identity + ")");
}

}  // namespace

std::shared_ptr<Client> make_station(asio::any_io_executor executor, const SimulateArgs& args,
                                     const std::string& identity, const std::string& protocol,
                                     std::chrono::milliseconds call_timeout) {
  ClientOptions o;
  o.endpoint = args.url;
  o.identity = identity;
  o.protocols = {protocol};
  o.strict_mode.enabled = args.strict;
  if (!args.password.empty()) o.password = args.password;
  o.compression.enabled = args.compression;
  if (args.profile >= 0) o.security_profile = static_cast<SecurityProfile>(args.profile);
  o.tls.ca_file = args.ca;
  o.tls.cert_file = for_station(args.cert, o.identity);
  o.tls.key_file = for_station(args.key, o.identity);
  require_file("--cert", o.tls.cert_file, o.identity);
  require_file("--key", o.tls.key_file, o.identity);
  o.reconnect = false;
  o.call_timeout = call_timeout;
  o.connect_timeout = call_timeout;
  try {
    return Client::create(std::move(executor), o);
  } catch (const std::invalid_argument& e) {
    // A profile that does not fit the URL or the credentials: bad usage, not a failed run. The
    // library names its option fields, so point at the flags that set them.
    throw UsageError(std::string(e.what()) + "; see --url, --profile, --password, --cert and --key");
  }
}

int simulate(const SimulateArgs& args) {
  if (!args.scenario.empty()) return scenario::run(args);
  if (!args.junit.empty()) throw UsageError("--junit reports on a --scenario run; give --scenario FILE");
  const auto version = protocol_version(args.protocol);
  asio::io_context io;
  Tally tally;
  std::vector<std::shared_ptr<Client>> stations;
  for (std::size_t i = 0; i < args.count; ++i) {
    const auto identity = args.count == 1 ? args.identity : args.identity + "-" + std::to_string(i + 1);
    auto cp = make_station(io.get_executor(), args, identity, args.protocol, std::chrono::seconds(10));
    cp->handle_any([&tally, version](CallContext& ctx) -> HandlerResult {
      auto response = cp_response(version, ctx.action, ctx.params);
      if (response.is_null()) throw RpcError(ErrorCode::NotImplemented, "The simulator does not handle " + ctx.action);
      ++tally.answered;
      return response;
    });
    if (!args.quiet && !args.json)  // --json: stdout carries the result only
      cp->on_message([id = identity](const MessageEvent& e) { print_exchange(id, e.direction == MessageDirection::in, e.raw); });
    stations.push_back(cp);
    asio::co_spawn(io, run_station(cp, version, tally, args.quiet), asio::detached);
  }
  {
    std::optional<Progress> progress;
    if (args.count > 1)
      progress.emplace("ocpp simulate", [&] {
        return std::to_string(tally.ok) + " calls succeeded, " + std::to_string(tally.failed) + " failed, " +
               std::to_string(tally.answered) + " CSMS calls answered (" + std::to_string(args.count) + " charge points)";
      });
    io.run();
  }
  if (args.json) {
    std::cout << json::serialize(json::object{{"charge_points", args.count},
                                              {"protocol", args.protocol},
                                              {"succeeded", tally.ok.load()},
                                              {"failed", tally.failed.load()},
                                              {"csms_calls_answered", tally.answered.load()}})
              << "\n";
    return tally.failed == 0 && tally.ok > 0 ? 0 : 1;
  }
  std::cout << "ocpp simulate: " << args.count << " charge point" << (args.count == 1 ? "" : "s") << " ("
            << args.protocol << "), " << tally.ok << " calls succeeded, " << tally.failed << " failed, "
            << tally.answered << " CSMS calls answered\n";
  return tally.failed == 0 && tally.ok > 0 ? 0 : 1;
}

}  // namespace ocpp::app
