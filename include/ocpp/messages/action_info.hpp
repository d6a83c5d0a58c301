#pragma once
/// @file
/// One row of a version's action table: name, direction, pattern and validators. Kept apart from
/// <ocpp/messages/common.hpp> so that <ocpp/messages/find_action.hpp> stays cheap to include.
#include <string_view>

#include <ocpp/schema/validation.hpp>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// Who initiates an action. Not part of the OCA schemas: see codegen/directions.json.
enum class Direction {
  ToCsms,             ///< Charging Station (Charge Point) -> CSMS (Central System)
  ToChargingStation,  ///< CSMS -> Charging Station
  Both,               ///< either side (DataTransfer)
};

/// How an action travels on the wire.
enum class MessagePattern {
  Call,  ///< CALL [2,...] answered by CALLRESULT [3,...] / CALLERROR [4,...]
  Send,  ///< OCPP 2.1 SEND [6,...]: no response (NotifyPeriodicEventStream)
};

/// "ToCsms", "ToChargingStation" or "Both".
std::string_view to_string(Direction d) noexcept;
/// "Call" or "Send".
std::string_view to_string(MessagePattern p) noexcept;

/// One row of a version's action table (ocpp::v16::actions(), ...).
struct ActionInfo {
  std::string_view name;  ///< "BootNotification"
  Direction direction;  ///< who initiates it
  MessagePattern pattern;  ///< CALL or SEND
  schema::ValidateFn validate_request;   ///< payload of the CALL (or SEND)
  schema::ValidateFn validate_response;  ///< payload of the CALLRESULT; nullptr for Send
};

}  // namespace ocpp
OCPP_API_END
