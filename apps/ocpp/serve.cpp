// `ocpp serve`: a demo CSMS that accepts any identity and answers the common messages.
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <future>
#include <iostream>

#include "commands.hpp"
#include "demo_payloads.hpp"
#include "ocpp/ocpp.hpp"
#include "ocpp/cluster/redis_adapter.hpp"
#include "ocpp/server/basic_auth.hpp"

namespace ocpp::app {

std::pair<double, std::chrono::milliseconds> parse_rate(const std::string& text, const std::string& flag) {
  const auto slash = text.find('/');
  std::size_t used = 0;
  double limit = 0;
  long long amount = 0;
  std::string unit;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    limit = std::stod(text.substr(0, slash), &used);
    if (used != slash || limit <= 0) throw std::invalid_argument("");
    const std::string window = text.substr(slash + 1);
    amount = std::stoll(window, &used);
    unit = window.substr(used);
  } catch (const std::exception&) {
    throw std::invalid_argument(flag + " wants N/window, e.g. 100/60s; got " + text);
  }
  static const std::pair<std::string_view, long long> units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  for (auto [name, ms] : units)
    if (unit == name && amount > 0) return {limit, std::chrono::milliseconds(amount * ms)};
  throw std::invalid_argument(flag + " window needs a unit ms, s, m or h; got " + text);
}

namespace {

// Checks the flags against each other before anything listens, so a misfit never half-starts.
SecurityProfile checked_profile(const ServeArgs& args) {
  const int number = args.profile >= 0 ? args.profile : args.password_file.empty() ? 0 : 1;
  if (number > 3) throw UsageError("--profile must be 0, 1, 2 or 3");
  const auto profile = static_cast<SecurityProfile>(number);
  const std::string name = "--profile " + std::to_string(number);
  if (uses_password(profile) && args.password_file.empty())
    throw UsageError(name + " needs --password-file (HTTP Basic Auth)");
  if (!uses_password(profile) && !args.password_file.empty())
    throw UsageError("--password-file is for profiles 1 and 2, not " + name +
                     (number == 3 ? " (stations authenticate by client certificate)" : ""));
  if (args.certs.size() != args.keys.size())
    throw UsageError("--cert and --key pair up in order; got " + std::to_string(args.certs.size()) +
                     " certificate(s) and " + std::to_string(args.keys.size()) + " key(s)");
  if (uses_tls(profile) && args.certs.empty()) throw UsageError(name + " (TLS) needs at least one --cert and --key");
  if (!uses_tls(profile) && !args.certs.empty()) throw UsageError("--cert/--key are for profiles 2 and 3, not " + name);
  if (profile == SecurityProfile::tls_client_cert && args.ca.empty())
    throw UsageError(name + " needs --ca, the CA that signed the stations' client certificates");
  if (profile != SecurityProfile::tls_client_cert && !args.ca.empty())
    throw UsageError("--ca is for profile 3, not " + name);
  return profile;
}

// --web without DIR or $OCPP_WEB_DIR: run from the build tree, the site the wasm preset stages in
// the source tree; installed, the site installed beside it (<prefix>/share/ocpp-ws-io/web), so an
// installed or packaged `ocpp` never points into the tree it was built in.
std::filesystem::path default_web_dir(std::string& hint) {
  std::error_code ec;
  const auto bin = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec && std::filesystem::equivalent(bin, OCPP_BUILD_BIN_DIR, ec)) {
    hint = " (build the site: cmake --preset wasm && ninja -C build/wasm; or give --web DIR or $OCPP_WEB_DIR)";
    return OCPP_BUILD_WEB_DIR;
  }
  hint = " (install the browser simulator's site there, or give --web DIR or $OCPP_WEB_DIR)";
  return (bin / OCPP_INSTALLED_WEB_DIR).lexically_normal();
}

// --web [DIR]: the directory, which must hold the page, so a missing build is reported at start
// and not as a 404 in the browser.
std::filesystem::path web_root(const ServeArgs& args) {
  std::filesystem::path dir = args.web_dir;
  std::string hint;
  if (dir.empty()) {
    const char* env = std::getenv("OCPP_WEB_DIR");
    dir = env && *env ? std::filesystem::path(env) : default_web_dir(hint);
  }
  if (!std::filesystem::is_regular_file(dir / "index.html"))
    throw UsageError("--web: no index.html in " + dir.string() + hint);
  return dir;
}

}  // namespace

int serve(const ServeArgs& args) {
  const auto profile = checked_profile(args);
  const auto web = args.web ? web_root(args) : std::filesystem::path();
  IoPool pool(args.threads);
  ServerOptions options;
  options.protocols = args.protocols;
  options.strict_mode.enabled = args.strict;
  options.max_connections = args.max_connections;
  options.strict_identity = !args.legacy_identities;
  options.max_handshakes = args.max_handshakes;
  options.max_handshakes_per_address = args.max_handshakes_per_address;
  options.health_endpoint = args.metrics;
  options.web_root = web;
  options.compression.enabled = !args.no_compression;
  options.exchange_log = args.exchange_log;
  const auto level = parse_log_level(args.log_level).value_or(LogLevel::info);
  if (args.log == "json") options.logger = make_json_logger(level);
  if (args.log == "pretty") options.logger = make_pretty_logger(level);
  if (!args.rate_limit.empty()) {
    auto [limit, window] = parse_rate(args.rate_limit);
    options.rate_limit.global = RateLimit{limit, window};
  }
  if (!args.connection_rate_limit.empty()) {
    auto [limit, window] = parse_rate(args.connection_rate_limit, "--connection-rate-limit");
    options.connection_rate_limit = RateLimit{limit, window};
  }
  if (!args.redis.empty()) {
    cluster::RedisAdapterOptions redis;
    redis.connection.url = args.redis;
    redis.connection.logger = options.logger;
    redis.prefix = args.prefix;
    options.cluster.adapter = std::make_shared<cluster::RedisAdapter>(pool.executor(0), std::move(redis));
    options.cluster.node_id = args.node_id;
    options.cluster.lease_ttl = std::chrono::milliseconds(args.lease_ttl_ms);
  } else if (!args.node_id.empty()) {
    throw UsageError("--node-id is for a cluster: give --redis too");
  }
  Server server(pool.executors(), options);
  std::atomic<int> transaction_ids{0};
  std::atomic<int> demo_ids{0};  // remote start and charging profile ids of --demo-flows
  if (!args.password_file.empty()) {
    auto passwords = std::make_shared<std::unordered_map<std::string, std::string>>();
    std::ifstream in(args.password_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (line.empty() || line.front() == '#' || colon == std::string::npos) continue;
      (*passwords)[line.substr(0, colon)] = line.substr(colon + 1);
    }
    server.auth(basic_auth([passwords](std::string_view identity) -> std::optional<std::string> {
      auto it = passwords->find(std::string(identity));
      if (it == passwords->end()) return std::nullopt;
      return it->second;
    }));
  }

  server.handle_any([&](CallContext& ctx) -> HandlerResult {
    const auto version = protocol_version(ctx.protocol);
    auto response = csms_response(version, ctx.action, ctx.params, ++transaction_ids);
    if (response.is_null())
      throw RpcError(ErrorCode::NotImplemented, "The demo CSMS does not handle " + ctx.action);
    // Posted, so the station has the answer to its call before the CSMS's own call reaches it.
    auto call_later = [&ctx](std::string action, boost::json::value payload) {
      boost::asio::post(ctx.session->get_executor(), [session = ctx.session, action = std::move(action),
                                                      payload = std::move(payload)]() mutable {
        session->safe_call(std::move(action), std::move(payload), [](std::optional<boost::json::value>) {});
      });
    };
    if (ctx.is_send) return response;
    if (ctx.action == "BootNotification") {
      // Read the station's configuration back once its boot has been answered.
      call_later(csms_followup_action(version), csms_followup_payload(version));
      if (args.demo_flows) call_later(csms_remote_start_action(version), csms_remote_start(version, ++demo_ids));
    }
    if (args.demo_flows)
      if (auto tx = started_transaction(version, ctx.action, ctx.params, response))
        call_later("SetChargingProfile", csms_tx_profile(version, *tx, ++demo_ids));
    return response;
  });

  if (!args.quiet && args.log.empty()) {
    server.on_client([](const std::shared_ptr<ServerClient>& client) {
      std::cout << "== " << client->identity() << " connected (" << client->protocol()
                << ") from " << client->handshake().remote_address << "\n"
                << std::flush;
      client->on_message([id = client->identity()](const MessageEvent& e) {
        print_exchange(id, e.direction == MessageDirection::in, e.raw);
      });
      client->on_close([id = client->identity()](const CloseResult& r) {
        std::cout << "== " << id << " disconnected (" << r.code << (r.reason.empty() ? "" : " " + r.reason)
                  << ")\n"
                  << std::flush;
      });
    });
  }

  std::uint16_t port = 0;
  if (uses_tls(profile)) {
    ListenOptions listen{.port = args.port, .host = args.host, .profile = profile};
    for (std::size_t i = 0; i < args.certs.size(); ++i)
      listen.tls.certificates.push_back({args.certs[i], args.keys[i], ""});
    listen.tls.ca_file = args.ca;
    port = server.listen(listen);
  } else {
    // Profile 1 is the auth callback alone, as it was before listeners knew their profile.
    port = server.listen(args.port, args.host);
  }
  std::cout << "ocpp serve: listening on " << args.host << ":" << port << " (";
  if (profile != SecurityProfile::none)
    std::cout << "security profile " << static_cast<int>(profile) << (uses_tls(profile) ? " over TLS" : "") << ", ";
  std::cout << "protocols";
  for (const auto& p : args.protocols) std::cout << " " << p;
  std::cout << ", " << args.threads << " thread" << (args.threads == 1 ? "" : "s");
  if (!args.redis.empty()) std::cout << ", cluster node " << server.node_name() << " on " << args.redis;
  if (!web.empty()) {
    // An unspecified bind address is no place a browser can go to.
    const bool any = args.host == "0.0.0.0" || args.host == "::";
    const bool v6 = args.host.find(':') != std::string::npos;
    const auto host = any ? std::string("localhost") : v6 ? "[" + args.host + "]" : args.host;
    std::cout << ", web on " << (uses_tls(profile) ? "https" : "http") << "://" << host << ":" << port << "/";
  }
  std::cout << ")\n" << std::flush;

  std::promise<void> stopped;
  boost::asio::signal_set signals(pool.executor(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    server.close(CloseOptions{close_code::going_away, "Server shutting down", true, false},
                 [&] { stopped.set_value(); });
  });
  pool.start();
  stopped.get_future().wait();
  pool.stop();
  pool.join();
  std::cout << "ocpp serve: stopped\n";
  return 0;
}

}  // namespace ocpp::app
