#pragma once
// Internal: one message on its way through a session's middleware.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ocpp/session/middleware.hpp"

namespace ocpp {
class RpcSession;
}

namespace ocpp::detail {

struct MessageStage {
  std::weak_ptr<RpcSession> session;
  MessagePhase phase{};
  bool outbound = false;
  Frame frame;
  std::string action;
  std::string identity;
  std::optional<RpcError> rejected;
  std::uint64_t epoch = 0;                       // the session's lanes it belongs to
  std::function<void(RpcSession&, MessageStage&)> done;  // on the session's executor, at the chain's end
};

}  // namespace ocpp::detail
