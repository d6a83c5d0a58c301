#pragma once
// OCPP-J texts for a protocol: CALLs with schema-valid payloads (the generated "minimal" samples of
// the requests a station sends), payloads made invalid one step at a time, and text that is not
// an OCPP-J frame at all.
#include <string>
#include <string_view>

#include "generators/rng.hpp"

namespace ocpp::fuzzgen {

struct Call {
  std::string action;
  std::string payload;  // JSON text
};

// A station-to-CSMS request that the protocol's schema accepts. `protocol` is "ocpp1.6",
// "ocpp2.0.1" or "ocpp2.1"; another spelling throws std::invalid_argument.
Call valid_call(Rng& rng, std::string_view protocol);

// `call` with one change that its schema is meant to refuse: a required member removed, a member
// of the wrong type, or an unknown member. Whether it really is refused is for the caller to ask
// the validators (a schema may allow what looked like a break).
Call invalid_call(Rng& rng, Call call);

// [2,"id","Action",{...}]
std::string call_text(std::string_view id, const Call& call);

// `text` with a few bytes replaced by printable ASCII, then cut at a random point: valid UTF-8,
// rarely still an OCPP-J frame.
std::string broken_text(Rng& rng, std::string text);

}  // namespace ocpp::fuzzgen
