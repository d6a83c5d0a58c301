// `ocpp serve`: a demo CSMS that accepts any identity and answers the common messages.
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <future>
#include <iostream>

#include "commands.hpp"
#include "demo_payloads.hpp"
#include "ocpp/ocpp.hpp"

namespace ocpp::app {

int serve(const ServeArgs& args) {
  IoPool pool(args.threads);
  ServerOptions options;
  options.protocols = args.protocols;
  options.strict_mode.enabled = args.strict;
  Server server(pool.executors(), options);
  std::atomic<int> transaction_ids{0};

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

  if (!args.quiet) {
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
