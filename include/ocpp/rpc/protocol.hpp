#pragma once
/// @file
/// OCPP-J subprotocols and what each one allows on the wire.
#include <string_view>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// The OCPP-J versions the library knows; `other` for any other subprotocol.
enum class ProtocolVersion { v16, v201, v21, other };

/// The subprotocol of OCPP 1.6.
inline constexpr std::string_view kOcpp16 = "ocpp1.6";
/// The subprotocol of OCPP 2.0.1.
inline constexpr std::string_view kOcpp201 = "ocpp2.0.1";
/// The subprotocol of OCPP 2.1.
inline constexpr std::string_view kOcpp21 = "ocpp2.1";

/// The version a WebSocket subprotocol names; `other` for an unknown one.
ProtocolVersion protocol_version(std::string_view subprotocol) noexcept;

/// The feature set a negotiated subprotocol enables. Custom (unknown) subprotocols get everything,
/// as the ocpp2.1 rules are the most permissive superset.
struct ProtocolFeatures {
  bool send_frames = false;         ///< SEND [6,...] (2.1)
  bool call_result_errors = false;  ///< CALLRESULTERROR [5,...] (2.1)
  bool ignore_unknown_types = false;  ///< 2.1 drops unknown message types; 1.6/2.0.1 answer them
};

/// The features of version `v`.
ProtocolFeatures features_of(ProtocolVersion v) noexcept;

}  // namespace ocpp
OCPP_API_END
