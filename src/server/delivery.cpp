#include "server/delivery.hpp"

#include <atomic>
#include <mutex>

#include "session/complete.hpp"

namespace ocpp::detail {
namespace asio = boost::asio;

void broadcast(const Registry& registry, const RouteFn& remote, asio::any_io_executor ex,
               std::optional<std::vector<std::string>> identities,
               std::string action, boost::json::value payload, CallOptions options,
               asio::any_completion_handler<Server::BroadcastSignature> handler) {
  struct Gather {
    Gather(asio::any_completion_handler<Server::BroadcastSignature> h, asio::any_io_executor e)
        : handler(std::move(h)), ex(std::move(e)) {}
    std::mutex m;
    Server::BroadcastResult result;
    std::size_t remaining = 0;
    asio::any_completion_handler<Server::BroadcastSignature> handler;
    asio::any_io_executor ex;
    // Called once per target; the last one completes the broadcast.
    void done(std::string identity, std::string error) {
      std::lock_guard lock(m);
      if (error.empty())
        result.delivered.push_back(std::move(identity));
      else
        result.failed.emplace_back(std::move(identity), std::move(error));
      if (--remaining == 0) complete_later(ex, std::move(handler), std::move(result));
    }
  };
  std::vector<std::pair<std::string, std::shared_ptr<ServerClient>>> targets;
  if (identities) {
    for (auto& id : *identities) targets.emplace_back(id, registry.find(id));
  } else {
    for (auto& c : registry.all()) targets.emplace_back(c->identity(), c);
  }
  auto gather = std::make_shared<Gather>(std::move(handler), std::move(ex));
  if (targets.empty()) return complete_later(gather->ex, std::move(gather->handler), Server::BroadcastResult{});
  gather->remaining = targets.size();
  for (auto& [id, client] : targets) {
    auto done = [gather, id = id](std::exception_ptr e, boost::json::value) {
      std::string why;
      if (e) {
        why = describe_exception(e);
        if (why.empty()) why = "failed";  // the result's "failed" list keeps a reason for each
      }
      gather->done(id, std::move(why));
    };
    if (client)
      client->call(action, payload, options, std::move(done));
    else if (remote)
      remote(id, action, payload, options, std::move(done));
    else
      gather->done(id, "not connected");
  }
}

void close_all(std::vector<std::shared_ptr<ServerClient>> clients, CloseOptions options,
               const std::shared_ptr<CallbackGate>& gate, asio::any_io_executor ex,
               asio::any_completion_handler<void()> handler) {
  if (clients.empty()) return complete_later(gate, ex, std::move(handler));
  struct Remaining {
    Remaining(std::size_t n, asio::any_completion_handler<void()> h, std::shared_ptr<CallbackGate> g,
              asio::any_io_executor e)
        : count(n), handler(std::move(h)), gate(std::move(g)), ex(std::move(e)) {}
    std::atomic<std::size_t> count;
    asio::any_completion_handler<void()> handler;
    std::shared_ptr<CallbackGate> gate;
    asio::any_io_executor ex;
  };
  auto remaining = std::make_shared<Remaining>(clients.size(), std::move(handler), gate, std::move(ex));
  for (auto& c : clients)
    c->close(options, [remaining](CloseResult) {
      if (--remaining->count == 0) complete_later(remaining->gate, remaining->ex, std::move(remaining->handler));
    });
}

}  // namespace ocpp::detail
