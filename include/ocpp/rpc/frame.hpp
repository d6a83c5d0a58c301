#pragma once
/// @file
/// OCPP-J frames: parsing with the spec's answer for every malformed input, and serialisation.
/// IO-free: this layer is shared with the browser build.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/protocol.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// The OCPP-J message type: the number in the frame's first element.
enum class MessageType : int { Call = 2, CallResult = 3, CallError = 4, CallResultError = 5, Send = 6 };

/// The longest message id the spec allows.
inline constexpr std::size_t kMaxMessageIdLength = 36;

/// A well-formed frame. Which members are set depends on `type`:
/// Call/Send: id, action, payload; CallResult: id, payload;
/// CallError/CallResultError: id, error_code, error_code_text, description, details.
struct Frame {
  MessageType type{};  ///< which kind of frame
  std::string id{};  ///< the message id
  std::string action{};  ///< Call and Send: the action name
  boost::json::value payload{};  ///< Call, Send, CallResult: the payload
  ErrorCode error_code = ErrorCode::GenericError;  ///< errors: the code (GenericError for a spelling we do not know)
  std::string error_code_text{};  ///< errors: the code as spelled in the frame
  std::string description{};  ///< errors: the description
  boost::json::object details{};  ///< errors: the details object
};

/// A frame that is not acceptable. `reply` says whether the spec wants a CALLERROR for it (never for
/// responses or SEND); `id` is the CALL's id, or "-1" when it cannot be read.
struct FrameError {
  ErrorCode code = ErrorCode::RpcFrameworkError;  ///< the CALLERROR code to answer with
  std::string id = "-1";  ///< the id to answer with
  std::string message;  ///< what is wrong
  bool reply = true;  ///< whether to answer with a CALLERROR
  /// Set when the frame was recognisably a response to `id` (for failing a pending call early).
  bool is_response = false;
  MessageType type{};  ///< the frame's message type, when it could be read
};

/// How parse_frame() treats lenient input.
struct ParseOptions {
  /// CALLRESULT with a null payload is taken as {} (chargers send it for empty results).
  bool null_result_as_empty = true;
  /// Maximum JSON nesting depth (stack safety; OCPP payloads nest well under this).
  std::size_t max_depth = 32;
};

/// What parse_frame() returns: a frame, or why it is not acceptable.
struct ParseResult {
  /// Whether `frame` is set (else `error`).
  bool ok() const noexcept { return error.message.empty(); }
  Frame frame;  ///< the frame, when ok()
  FrameError error;  ///< why not, when !ok()
};

/// Reads one OCPP-J frame of `version`; never throws for bad input.
ParseResult parse_frame(std::string_view text, ProtocolVersion version, const ParseOptions& options = {});

/// The text of a CALL frame.
std::string serialize_call(std::string_view id, std::string_view action, const boost::json::value& payload);
/// The text of an ocpp2.1 SEND frame.
std::string serialize_send(std::string_view id, std::string_view action, const boost::json::value& payload);
/// The text of a CALLRESULT frame.
std::string serialize_call_result(std::string_view id, const boost::json::value& payload);
/// `code` is the wire spelling (see wire_name()).
std::string serialize_call_error(std::string_view id, std::string_view code, std::string_view description,
                                 const boost::json::object& details);
/// The text of an ocpp2.1 CALLRESULTERROR frame; `code` is the wire spelling.
std::string serialize_call_result_error(std::string_view id, std::string_view code, std::string_view description,
                                        const boost::json::object& details);

/// Appends `s` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view s);
/// Appends the JSON text of `v`.
void append_json(std::string& out, const boost::json::value& v);

}  // namespace ocpp
OCPP_API_END
