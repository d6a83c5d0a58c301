// Strict mode: which schema checks which payload, and what a failure becomes.
#include <algorithm>

#if OCPP_COMPACT_SCHEMAS
#include "ocpp/schema/compact.hpp"
#else
#include "ocpp/messages/find_action.hpp"
#endif
#include "state.hpp"

namespace ocpp {
namespace json = boost::json;

const ActionInfo* strict_action(ProtocolVersion version, std::string_view action) noexcept {
#if OCPP_COMPACT_SCHEMAS
  return schema::compact::find_action(version, action);
#else
  switch (version) {
    case ProtocolVersion::v16: return v16::find_action(action);
    case ProtocolVersion::v201: return v201::find_action(action);
    case ProtocolVersion::v21: return v21::find_action(action);
    case ProtocolVersion::other: return nullptr;
  }
  return nullptr;
#endif
}

namespace {

bool contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string describe(std::string_view action, bool response, const schema::ValidationError& e) {
  std::string s(action);
  s += response ? " response" : " request";
  s += " failed schema validation at ";
  s += e.path.empty() ? "/" : e.path;
  s += " (";
  s += e.keyword;
  s += "): ";
  s += e.message;
  return s;
}

// By emplace, not from an initializer list: value_ref's conversions are 5 KB of the browser engine.
json::object details_of(const schema::ValidationError& error) {
  json::object details(2);
  details.emplace("path", error.path);
  details.emplace("keyword", error.keyword);
  return details;
}

}  // namespace

ErrorCode error_code_for_keyword(std::string_view k) noexcept {
  if (k == "type") return ErrorCode::TypeConstraintViolation;
  if (k == "required" || k == "minItems" || k == "maxItems" || k == "minProperties" || k == "maxProperties")
    return ErrorCode::OccurrenceConstraintViolation;
  if (k == "enum" || k == "const" || k == "pattern" || k == "additionalProperties")
    return ErrorCode::PropertyConstraintViolation;
  return ErrorCode::FormatViolation;
}

ValidationFailure::ValidationFailure(std::string_view action, bool response, schema::ValidationError error)
    : RpcError(error_code_for_keyword(error.keyword), describe(action, response, error), details_of(error)),
      error_(std::move(error)) {}

void RpcEngine::State::set_protocol(std::string p) {
  protocol = std::move(p);
  version = protocol_version(protocol);
  const auto& mode = options.strict_mode;
  strict = mode.enabled && (mode.protocols.empty() || contains(mode.protocols, protocol));
}

std::optional<schema::ValidationError> RpcEngine::State::strict_failure(std::string_view action, bool response,
                                                                        const json::value& payload) const {
  const auto& mode = options.strict_mode;
  if (!strict || (!mode.methods.empty() && !contains(mode.methods, action))) return std::nullopt;
  const ActionInfo* info = strict_action(version, action);
  schema::ValidateFn fn = info ? (response ? info->validate_response : info->validate_request) : nullptr;
  if (!fn) {
    if (!mode.reject_unknown_actions) return std::nullopt;
    return schema::ValidationError{"", "action", "no schema for " + std::string(action) + " in " + protocol};
  }
  schema::ValidationOptions vo;
  vo.lenient_date_time = mode.lenient_date_time;
  schema::ValidationError error;
  if (fn(payload, vo, &error)) return std::nullopt;
  return error;
}

void RpcEngine::State::report_validation_failure(ValidationPhase phase, MessageType type, std::string_view action,
                                                 std::string_view id, const json::value& payload,
                                                 const schema::ValidationError& error, ErrorCode code) {
  log(LogLevel::warn, "strict mode: " + describe(action, type == MessageType::CallResult, error));
  if (events.validation_failure)
    emit("on_validation_failure", events.validation_failure,
         ValidationFailureEvent{phase, type, action, id, payload, error, code});
}

void check_strict_mode_options(const StrictModeOptions& strict) {
  for (const auto& p : strict.protocols)
    if (protocol_version(p) == ProtocolVersion::other)
      throw std::invalid_argument("strict_mode: no schemas for protocol \"" + p + "\"");
}

}  // namespace ocpp
