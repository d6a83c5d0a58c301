#pragma once
/// @file
/// Shared declarations for the generated OCPP message types (ocpp::v16, ocpp::v201, ocpp::v21).
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/json/conversion.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <ocpp/messages/action_info.hpp>
#include <ocpp/schema/validation.hpp>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// Thrown by boost::json::value_to<T>() for the generated types when the JSON does not have the
/// shape of T (wrong JSON type, missing required member, unknown enum string, integer out of range).
/// Conversion does not check schema constraints (lengths, bounds, formats) nor reject unknown
/// members: run the validator first for that.
class ConversionError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Compile-time binding request type -> action. Specialised in the generated headers for every
/// `<Action>Request` type:
///   using request_type; using response_type (void for SEND messages);
///   static constexpr std::string_view name;      // "BootNotification"
///   static constexpr std::string_view protocol;  // "ocpp1.6" | "ocpp2.0.1" | "ocpp2.1"
///   static constexpr Direction direction; static constexpr MessagePattern pattern;
///   static constexpr schema::ValidateFn validate_request, validate_response (nullptr for SEND).
template <class Request>
struct action_traits;

/// Reverse binding for every `<Action>Response` type: request_type, name, protocol,
/// validate_response.
template <class Response>
struct response_traits;

/// A generated request type: a CALL request or a SEND message.
template <class T>
concept OcppRequest = requires {
  typename action_traits<T>::response_type;
  { action_traits<T>::name } -> std::convertible_to<std::string_view>;
};

/// A generated CALL request type (answered with its response type).
template <class T>
concept OcppCallRequest = OcppRequest<T> && !std::is_void_v<typename action_traits<T>::response_type>;

/// A generated SEND message type (never answered).
template <class T>
concept OcppSendMessage = OcppRequest<T> && std::is_void_v<typename action_traits<T>::response_type>;

/// A generated response type.
template <class T>
concept OcppResponse = requires {
  typename response_traits<T>::request_type;
  { response_traits<T>::name } -> std::convertible_to<std::string_view>;
};

}  // namespace ocpp
OCPP_API_END
