#pragma once
/// @file
/// Masks secrets before text reaches a log: passwords, the OCPP AuthorizationKey and
/// BasicAuthPassword, HTTP Authorization credentials, URL passwords and PEM private keys.
/// IO-free; every Logger runs its message and fields through this before a sink sees them.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// What a masked value becomes.
inline constexpr std::string_view kRedacted = "[REDACTED]";

/// Whether `key` names a secret: case-insensitive, ignoring '_' and '-', it ends with "password",
/// "passphrase", "privatekey", "authorizationkey" or "authorization" (so password, AuthorizationKey,
/// BasicAuthPassword, apnPassword, private_key, Proxy-Authorization).
bool is_secret_key(std::string_view key) noexcept;

/// The fast path: false means redact(text) would return `text` unchanged. One scan, no allocation.
bool may_contain_secret(std::string_view text) noexcept;

/// `text` with every secret replaced by kRedacted:
///  - the value of a secret key in JSON ("password":"x", "password": 5, nested objects, also in
///    JSON escaped inside a JSON string) and in prose (password=x, password: x, password='x y');
///    JSON stays valid (non-string values become the string "[REDACTED]");
///  - Authorization credentials ("Authorization: Basic [REDACTED]"; the scheme stays);
///  - the password of a URL (`ws://CP1:[REDACTED]@host/`);
///  - a PEM block whose label has PRIVATE KEY (RSA, EC, ENCRYPTED), even without its END line;
///  - OCPP configuration carried as data: the "value" beside "key":"AuthorizationKey" (1.6
///    ChangeConfiguration, GetConfiguration) and the "attributeValue" / variableAttribute "value"
///    beside "variable":{"name":"BasicAuthPassword"} (2.x Set/GetVariables, NotifyReport). When such
///    text is not parseable JSON (truncated), every "value"/"attributeValue" in it is masked.
std::string redact(std::string_view text);

/// The same on structured data, in place, recursively: secret keys' values become kRedacted, the
/// OCPP configuration rules above apply, and strings go through redact(text).
void redact(boost::json::object& fields);
/// The same on any JSON value, in place.
void redact(boost::json::value& value);

/// Whether redact(fields) would change anything (the logger's fast path: no copy when false).
bool may_contain_secret(const boost::json::object& fields) noexcept;

}  // namespace ocpp
OCPP_API_END
