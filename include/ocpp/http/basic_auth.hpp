#pragma once
/// @file
/// HTTP Basic Auth as security profiles 1 and 2 use it: username = the station's identity, the
/// password binary-safe. IO-free; the station encodes, the CSMS decodes and checks.
#include <optional>
#include <string>
#include <string_view>

#include "ocpp/rpc/protocol.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// "Basic <base64(identity:password)>", what a station sends.
std::string basic_auth_header(std::string_view identity, std::string_view password);

/// The password in an Authorization header for `identity`. The header is split after the known
/// identity, so colons in either part are fine. nullopt ("no password") for another scheme,
/// malformed base64, or a username that is not the identity.
std::optional<std::string> basic_auth_password(std::string_view header, std::string_view identity);

/// Compares in time that depends only on the lengths, so a wrong guess tells nothing of the right one.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

/// The spec's rule for a station's password: ocpp1.6 16-20 bytes (or their hex form, up to 40
/// digits); ocpp2.0.1 16-40 and ocpp2.1 16-64 printable characters (passwordString).
bool is_valid_ocpp_password(ProtocolVersion version, std::string_view password) noexcept;

}  // namespace ocpp
OCPP_API_END
