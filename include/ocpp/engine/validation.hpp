#pragma once
/// @file
/// Strict mode's failures: the error a caller sees, the event, and the schema keyword → OCPP error
/// code table (README, "Strict mode").
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "ocpp/engine/options.hpp"
#include "ocpp/messages/action_info.hpp"
#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/protocol.hpp"
#include "ocpp/rpc/visibility.hpp"
#include "ocpp/schema/validation.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// Where a payload failed its schema, and what happened to it.
enum class ValidationPhase {
  inbound_call,    ///< the peer's CALL: answered with the mapped CALLERROR, the handler is not run
                   ///< (an invalid SEND is dropped, since SEND is never answered)
  outbound_call,   ///< our CALL or SEND: fails locally, nothing is sent
  handler_result,  ///< our handler's result: the peer gets InternalError instead
  inbound_result,  ///< the peer's CALLRESULT: our call fails; on ocpp2.1 the peer gets a CALLRESULTERROR
};

/// type → TypeConstraintViolation; required, minItems, maxItems, minProperties, maxProperties →
/// OccurrenceConstraintViolation; enum, const, pattern, additionalProperties →
/// PropertyConstraintViolation; everything else (format, lengths, bounds, multipleOf) →
/// FormatViolation. Spelled on the wire as each version spells them.
ErrorCode error_code_for_keyword(std::string_view keyword) noexcept;

/// The action table strict mode checks with (the generated validators, or the compact ones in a
/// build with OCPP_COMPACT_SCHEMAS): nullptr for an action the protocol does not have.
const ActionInfo* strict_action(ProtocolVersion version, std::string_view action) noexcept;

/// Throws std::invalid_argument when strict mode names a protocol without bundled schemas.
void check_strict_mode_options(const StrictModeOptions& strict);

/// A payload that fails its schema: code() is the mapped code, details() carry the JSON pointer and
/// the keyword ({"path": ..., "keyword": ...}).
class ValidationFailure : public RpcError {
 public:
  /// The failure of `action`'s request (or response) schema.
  ValidationFailure(std::string_view action, bool response, schema::ValidationError error);
  /// The schema failure: path, keyword and message.
  const schema::ValidationError& error() const noexcept { return error_; }

 private:
  schema::ValidationError error_;
};

/// A typed call or send that cannot be made: the action goes the other way, or belongs to another
/// protocol than the connection's. Nothing was sent.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// A payload failed its schema in strict mode (RpcSession::on_validation_failure).
struct ValidationFailureEvent {
  ValidationPhase phase;  ///< where it failed
  MessageType type;  ///< Call, Send or CallResult
  std::string_view action;  ///< the action
  std::string_view message_id;  ///< the frame's message id
  const boost::json::value& payload;  ///< the payload that failed
  const schema::ValidationError& error;  ///< the first failure found
  ErrorCode code;  ///< what the peer was told (inbound), or what the caller's error carries
};

}  // namespace ocpp
OCPP_API_END
