#include "ocpp/rpc/protocol.hpp"

namespace ocpp {

ProtocolVersion protocol_version(std::string_view subprotocol) noexcept {
  if (subprotocol == kOcpp16) return ProtocolVersion::v16;
  if (subprotocol == kOcpp201) return ProtocolVersion::v201;
  if (subprotocol == kOcpp21) return ProtocolVersion::v21;
  return ProtocolVersion::other;
}

ProtocolFeatures features_of(ProtocolVersion v) noexcept {
  switch (v) {
    case ProtocolVersion::v16:
    case ProtocolVersion::v201:
      return {};
    case ProtocolVersion::v21:
    case ProtocolVersion::other:
      break;
  }
  return {true, true, true};
}

}  // namespace ocpp
