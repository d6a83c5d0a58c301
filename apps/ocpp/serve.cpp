// `ocpp serve`: a demo CSMS that accepts any identity and answers the common messages.
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <fstream>
#include <unordered_map>
#include <future>
#include <iostream>

#include "commands.hpp"
#include "demo_payloads.hpp"
#include "ocpp/ocpp.hpp"
#include "ocpp/server/basic_auth.hpp"

namespace ocpp::app {

std::pair<double, std::chrono::milliseconds> parse_rate(const std::string& text) {
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
    throw std::invalid_argument("--rate-limit wants N/window, e.g. 100/60s; got " + text);
  }
  static const std::pair<std::string_view, long long> units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  for (auto [name, ms] : units)
    if (unit == name && amount > 0) return {limit, std::chrono::milliseconds(amount * ms)};
  throw std::invalid_argument("--rate-limit window needs a unit ms, s, m or h; got " + text);
}

int serve(const ServeArgs& args) {
  IoPool pool(args.threads);
  ServerOptions options;
  options.protocols = args.protocols;
  options.strict_mode.enabled = args.strict;
  options.max_connections = args.max_connections;
  options.health_endpoint = args.metrics;
  options.exchange_log = args.exchange_log;
  const auto level = parse_log_level(args.log_level).value_or(LogLevel::info);
  if (args.log == "json") options.logger = make_json_logger(level);
  if (args.log == "pretty") options.logger = make_pretty_logger(level);
  if (!args.rate_limit.empty()) {
    auto [limit, window] = parse_rate(args.rate_limit);
    options.rate_limit.global = RateLimit{limit, window};
  }
  Server server(pool.executors(), options);
  std::atomic<int> transaction_ids{0};
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
    if (ctx.action == "BootNotification" && !ctx.is_send) {
      // Read the station's configuration back once its boot has been answered.
      boost::asio::post(ctx.session->get_executor(), [session = ctx.session, version] {
        session->safe_call(csms_followup_action(version), csms_followup_payload(version),
                           [](std::optional<boost::json::value>) {});
      });
    }
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

  const auto port = server.listen(args.port, args.host);
  std::cout << "ocpp serve: listening on " << args.host << ":" << port << " (protocols";
  for (const auto& p : args.protocols) std::cout << " " << p;
  std::cout << ", " << args.threads << " thread" << (args.threads == 1 ? "" : "s") << ")\n" << std::flush;

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
