// The typed API's failures: payloads that do not convert, and safe calls that failed.
#include "ocpp/session/session.hpp"

namespace ocpp::detail {

void throw_conversion_failure(std::string_view action, schema::ValidateFn validate, const boost::json::value& payload,
                              const std::exception& why) {
  schema::ValidationError error;
  if (validate && !validate(payload, {}, &error)) throw ValidationFailure(action, false, std::move(error));
  throw RpcError(ErrorCode::FormatViolation, std::string(action) + ": " + why.what());
}

void log_safe_call_failure(RpcSession& session, std::string_view action, std::exception_ptr error) {
  session.log(LogLevel::warn, "safe_call " + std::string(action) + " failed: " + describe_exception(std::move(error)));
}

}  // namespace ocpp::detail
