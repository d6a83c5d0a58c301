#pragma once
// One browser client's RPC engine: the EngineHost whose IO is JavaScript's (host.hpp).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ocpp/engine/engine.hpp"

namespace ocpp::web {

class WebSession final : public EngineHost, public std::enable_shared_from_this<WebSession> {
 public:
  WebSession(int client, std::shared_ptr<const SessionOptions> options, std::string identity);
  RpcEngine& engine() noexcept { return engine_; }
  int client() const noexcept { return client_; }

  // The answer of the handler run with `token`; a token no longer tracked is ignored.
  void answer(int token, Reply reply);
  void run_posted();
  // Whether JavaScript listens to the engine's event `event` ("message", "badMessage", ...).
  void listen(std::string_view event, bool on);

  void write(std::string frame) override;
  void close_transport(std::uint16_t code, std::string_view reason) override;
  void terminate_transport() override;
  void close_session(CloseOptions options) override;
  HandlerRef find_handler(std::string_view action) override;
  void run_handler(HandlerRef handler, InboundRequest& call) override;
  void schedule(std::optional<TimePoint> deadline) override;
  void post_advance(std::shared_ptr<detail::MessageStage> stage, std::size_t step) override;
  std::weak_ptr<EngineHost> weak_host() override;

 private:
  struct Tracked;
  int client_;
  RpcEngine engine_;
  int next_token_ = 0;
  std::map<int, std::shared_ptr<Tracked>> tracked_;
  std::vector<std::pair<std::shared_ptr<detail::MessageStage>, std::size_t>> posted_;
};

}  // namespace ocpp::web
