#pragma once
/// @file
/// RPC error codes with the spelling each OCPP version uses, and the typed exceptions of the library.
#include <boost/json/object.hpp>

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ocpp/rpc/protocol.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// The RPC error codes of OCPP-J (1.6 and 2.x); wire_name() spells them per version.
enum class ErrorCode : std::uint8_t {
  GenericError,
  NotImplemented,
  NotSupported,
  InternalError,
  ProtocolError,
  SecurityError,
  FormatViolation,  ///< "FormationViolation" on ocpp1.6
  PropertyConstraintViolation,
  OccurrenceConstraintViolation,  ///< "OccurenceConstraintViolation" on ocpp1.6
  TypeConstraintViolation,
  MessageTypeNotSupported,  ///< 2.x only; ocpp1.6 has no such code (sent as FormationViolation)
  RpcFrameworkError,        ///< 2.x only; ocpp1.6 has no such code (sent as FormationViolation)
};

/// The code as it goes on the wire for a protocol version.
std::string_view wire_name(ErrorCode code, ProtocolVersion version) noexcept;
/// Any spelling of any version; unknown strings map to GenericError.
ErrorCode parse_error_code(std::string_view text) noexcept;
/// The spec's description of a code, used when a handler gives none.
std::string_view default_description(ErrorCode code) noexcept;

/// Base of every error the library raises for an OCPP call.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A CALLERROR: thrown by handlers to answer with that code, and raised to callers when the peer
/// answers with a CALLERROR (or CALLRESULTERROR).
class RpcError : public Error {
 public:
  /// A CALLERROR with `code`, `description` and `details`; what() is default_description() when `description` is empty.
  explicit RpcError(ErrorCode code, std::string description = {}, boost::json::object details = {});
  /// As received: keeps the peer's exact code text (for codes unknown to us, code() is GenericError).
  RpcError(std::string wire_code, std::string description, boost::json::object details);

  /// The error code (GenericError for a received spelling we do not know).
  ErrorCode code() const noexcept { return code_; }
  /// The code as it was spelled on the wire.
  const std::string& wire_code() const noexcept { return wire_code_; }
  /// The error description.
  const std::string& description() const noexcept { return description_; }
  /// The error details object.
  const boost::json::object& details() const noexcept { return details_; }

 private:
  ErrorCode code_;
  std::string wire_code_;
  std::string description_;
  boost::json::object details_;
};

/// What an exception says, for logs: its what(), or "a non-exception".
std::string describe_exception(std::exception_ptr error);

/// The peer did not answer within the call timeout.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

/// The call could not be made or completed because of the connection's state: not connected,
/// closing, closed while the call was pending, or the queue overflowed.
class ConnectionError : public Error {
 public:
  /// A connection error with the close code, if the connection closed (0 otherwise).
  ConnectionError(std::string message, std::uint16_t close_code = 0)
      : Error(std::move(message)), close_code_(close_code) {}
  /// The close code, or 0.
  std::uint16_t close_code() const noexcept { return close_code_; }

 private:
  std::uint16_t close_code_;
};

/// A call or SEND refused at once because the connection's send queue is full: the peer does not
/// read what is sent to it (SessionOptions::max_send_queue_bytes). The connection is being closed
/// with close_code() (1013 or 1008).
class SendQueueFullError : public ConnectionError {
 public:
  /// As ConnectionError.
  using ConnectionError::ConnectionError;
};

/// connect() failed: HTTP status when the server answered without upgrading (0 otherwise).
class ConnectError : public Error {
 public:
  /// A connect failure; `retryable` false when retrying cannot help.
  ConnectError(std::string message, unsigned http_status = 0, bool retryable = true)
      : Error(std::move(message)), http_status_(http_status), retryable_(retryable) {}
  /// The HTTP status of a refused upgrade, or 0.
  unsigned http_status() const noexcept { return http_status_; }
  /// False for handshake results that retrying cannot change (no or wrong subprotocol).
  bool retryable() const noexcept { return retryable_; }

 private:
  unsigned http_status_;
  bool retryable_;
};

/// connect() failed because the TLS peer's certificate was not trusted (unknown CA, wrong name,
/// expired). Retryable for reconnects, as the CSMS may renew its certificate; a first connect does
/// not wait for that (ClientOptions::retry_initial_connect).
class CertificateError : public ConnectError {
 public:
  /// A certificate failure, retryable.
  explicit CertificateError(std::string message) : ConnectError(std::move(message)) {}
};

}  // namespace ocpp
OCPP_API_END
