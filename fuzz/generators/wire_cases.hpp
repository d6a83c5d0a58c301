#pragma once
// What one fuzzing connection sends, case by case, and what RFC 6455 and OCPP-J allow the server
// to do about each case. A plan is a function of (seed, connection index) only.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "generators/payloads.hpp"
#include "generators/rng.hpp"

namespace ocpp::fuzzgen {

struct Expect {
  // A CALLRESULT or CALLERROR with the case's id. Required, unless a close or silence is allowed.
  bool answer = false;
  // Broken text: any text frame from the server ends the wait (a CALLERROR may carry id "-1").
  bool any_text = false;
  // A close frame with one of these codes, or the TCP connection ending without one, is allowed.
  std::vector<std::uint16_t> close_codes;
  bool any_close_code = false;
  // Nothing at all is allowed (the server may wait for bytes that never come, or ignore the frame).
  bool silence_ok = false;
  // A pong with this payload is required.
  bool pong = false;
  std::string pong_payload;

  bool close_allowed() const { return any_close_code || !close_codes.empty(); }
};

struct Case {
  std::string kind;                 // "valid", "bad_utf8", ...
  std::vector<std::string> writes;  // sent back to back; more than one exercises partial reads
  Expect expect;
  std::string id;   // the CALL's id, when the case carries one
  Call call;        // its action and payload
  bool invalid_payload = false;  // the payload was broken on purpose (see invalid_call)
  bool last = false;             // the connection cannot carry anything after this case
};

// The case `kind` (one of case_kinds()), or a random one if `kind` is empty.
Case make_case(Rng& rng, std::string_view protocol, std::string id, std::string_view kind = {});
const std::vector<std::string_view>& case_kinds();
// A well-formed CALL of `call` that must be answered.
Case valid_case(Rng& rng, std::string id, Call call);

// One connection's cases: 1 to 8 of them, stopping after the first that ends the connection.
std::vector<Case> connection_plan(std::uint64_t seed, std::uint64_t connection, std::string_view protocol);

}  // namespace ocpp::fuzzgen
