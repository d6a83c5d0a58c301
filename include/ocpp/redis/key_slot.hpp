#pragma once
/// @file
/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its hash tag, mod 16384.
/// A hash tag is what lies between the first '{' and the first '}' after it, when not empty: keys
/// that share one ("ocpp:{cp1}:owner", "ocpp:{cp1}:epoch") live in one slot, so one script may
/// touch them all.
#include <cstdint>
#include <string_view>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::redis {

/// The number of hash slots of a Redis Cluster.
inline constexpr std::uint16_t kSlots = 16384;

/// The part of the key that is hashed: its tag, or the whole key.
std::string_view hash_tag(std::string_view key) noexcept;
/// The slot `key` lives in, 0 to kSlots - 1.
std::uint16_t key_slot(std::string_view key) noexcept;

}  // namespace ocpp::redis
OCPP_API_END
