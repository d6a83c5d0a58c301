#include "ocpp/rpc/error.hpp"

#include <array>
#include <utility>

namespace ocpp {
namespace {

struct CodeInfo {
  ErrorCode code;
  std::string_view name;
  std::string_view description;
};

// Descriptions follow the OCPP-J tables (each text belongs to its own code, unlike ocpp-ws-io).
constexpr std::array<CodeInfo, 12> kCodes{{
    {ErrorCode::GenericError, "GenericError", "Any other error not covered by the more specific error codes"},
    {ErrorCode::NotImplemented, "NotImplemented", "Requested Action is not known by receiver"},
    {ErrorCode::NotSupported, "NotSupported", "Requested Action is recognized but not supported by the receiver"},
    {ErrorCode::InternalError, "InternalError",
     "An internal error occurred and the receiver was not able to process the requested Action successfully"},
    {ErrorCode::ProtocolError, "ProtocolError", "Payload for Action is not conform the PDU structure"},
    {ErrorCode::SecurityError, "SecurityError",
     "During the processing of Action a security issue occurred preventing receiver from completing the Action "
     "successfully"},
    {ErrorCode::FormatViolation, "FormatViolation", "Payload for Action is syntactically incorrect"},
    {ErrorCode::PropertyConstraintViolation, "PropertyConstraintViolation",
     "Payload is syntactically correct but at least one field contains an invalid value"},
    {ErrorCode::OccurrenceConstraintViolation, "OccurrenceConstraintViolation",
     "Payload for Action is syntactically correct but at least one of the fields violates occurrence constraints"},
    {ErrorCode::TypeConstraintViolation, "TypeConstraintViolation",
     "Payload for Action is syntactically correct but at least one of the fields violates data type constraints"},
    {ErrorCode::MessageTypeNotSupported, "MessageTypeNotSupported",
     "A message with a Message Type Number received that is not supported by this implementation"},
    {ErrorCode::RpcFrameworkError, "RpcFrameworkError",
     "Content of the call is not a valid RPC Request, for example: MessageId could not be read"},
}};

const CodeInfo& info(ErrorCode code) noexcept { return kCodes[static_cast<std::size_t>(code)]; }

}  // namespace

std::string_view wire_name(ErrorCode code, ProtocolVersion version) noexcept {
  if (version == ProtocolVersion::v16) {
    switch (code) {
      case ErrorCode::FormatViolation:
      case ErrorCode::MessageTypeNotSupported:
      case ErrorCode::RpcFrameworkError:
        return "FormationViolation";
      case ErrorCode::OccurrenceConstraintViolation:
        return "OccurenceConstraintViolation";
      default:
        break;
    }
  }
  return info(code).name;
}

ErrorCode parse_error_code(std::string_view text) noexcept {
  for (const auto& c : kCodes)
    if (c.name == text) return c.code;
  if (text == "FormationViolation") return ErrorCode::FormatViolation;
  if (text == "OccurenceConstraintViolation") return ErrorCode::OccurrenceConstraintViolation;
  return ErrorCode::GenericError;
}

std::string_view default_description(ErrorCode code) noexcept { return info(code).description; }

RpcError::RpcError(ErrorCode code, std::string description, boost::json::object details)
    : Error(description.empty() ? std::string(default_description(code)) : description),
      code_(code),
      wire_code_(info(code).name),
      description_(std::move(description)),
      details_(std::move(details)) {}

RpcError::RpcError(std::string wire_code, std::string description, boost::json::object details)
    : Error(wire_code + (description.empty() ? "" : ": " + description)),
      code_(parse_error_code(wire_code)),
      wire_code_(std::move(wire_code)),
      description_(std::move(description)),
      details_(std::move(details)) {}

std::string describe_exception(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "a non-exception";
  }
}

}  // namespace ocpp
