// Size probe of the browser engine's core: the RPC engine with strict mode (so every schema of the
// three versions is linked) behind one exported C function. Built -Oz; its .wasm + .js gzipped
// size is what the engine costs before any bindings (codegen/README.md, Compact validators).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ocpp/engine/engine.hpp"
#include "ocpp/log/logger.hpp"

namespace {

// Records the last written frame; nothing else is needed to drive on_frame().
class ProbeHost final : public ocpp::EngineHost {
 public:
  std::string last;
  void write(std::string frame) override { last = std::move(frame); }
  void close_transport(std::uint16_t, std::string_view) override {}
  void terminate_transport() override {}
  void close_session(ocpp::CloseOptions) override {}
  ocpp::HandlerRef find_handler(std::string_view) override { return nullptr; }
  void run_handler(ocpp::HandlerRef, ocpp::InboundRequest&) override {}
  void schedule(std::optional<ocpp::TimePoint>) override {}
  void post_advance(std::shared_ptr<ocpp::detail::MessageStage>, std::size_t) override {}
  std::weak_ptr<ocpp::EngineHost> weak_host() override { return {}; }
};

}  // namespace

// Feeds `frame` to a strict engine on `protocol`; returns the length of its answer.
extern "C" int ocpp_probe(const char* protocol, const char* frame) {
  ProbeHost host;
  ocpp::SessionOptions options;
  options.logger = ocpp::null_logger();
  options.strict_mode.enabled = true;
  ocpp::RpcEngine engine(host, std::make_shared<const ocpp::SessionOptions>(std::move(options)), "probe");
  engine.open(protocol);
  engine.on_frame(frame);
  return static_cast<int>(host.last.size());
}
