#pragma once
/// @file
/// OCPP-J message ids: the default generator and the type that replaces it.
#include <functional>
#include <string>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// A random UUID v4 string (36 characters) from a per-thread generator seeded by the OS. Unique
/// across connections and process restarts, as OCPP 2.1 and the 1.6 errata ask of message ids.
std::string random_message_id();

/// Tests inject deterministic ids through this.
using MessageIdGenerator = std::function<std::string()>;

}  // namespace ocpp
OCPP_API_END
