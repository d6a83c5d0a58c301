#pragma once
/// @file
/// The CSMS's auth callback for security profiles 1 and 2 (HTTP Basic Auth).
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ocpp/http/basic_auth.hpp"
#include "ocpp/rpc/visibility.hpp"
#include "ocpp/server/connection.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// An auth callback for profiles 1 and 2: `lookup` gives the station's password (nullopt: unknown
/// station); a missing, malformed or wrong one gets 401 (with WWW-Authenticate). With
/// `check_rules`, a stored password that breaks is_valid_ocpp_password for the station's first
/// offered protocol is refused too.
AuthCallback basic_auth(std::function<std::optional<std::string>(std::string_view identity)> lookup,
                        bool check_rules = false);

}  // namespace ocpp
OCPP_API_END
