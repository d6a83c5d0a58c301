#pragma once
// The action tables strict mode uses, by protocol version.
#include <string_view>

#include "ocpp/messages/find_action.hpp"
#include "ocpp/rpc/protocol.hpp"

namespace ocpp::web {

inline const ActionInfo* find_action(ProtocolVersion version, std::string_view action) noexcept {
  switch (version) {
    case ProtocolVersion::v16: return v16::find_action(action);
    case ProtocolVersion::v201: return v201::find_action(action);
    case ProtocolVersion::v21: return v21::find_action(action);
    case ProtocolVersion::other: return nullptr;
  }
  return nullptr;
}

}  // namespace ocpp::web
