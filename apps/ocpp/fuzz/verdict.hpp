#pragma once
// What the server did about one case, judged against what the case allows (fuzzgen::Expect):
// an answer that must come, a close with an allowed code, a pong, or nothing.
#include <optional>
#include <string>

#include "fuzz/campaign.hpp"
#include "generators/wire_cases.hpp"

namespace ocpp::app::wire_fuzz {

struct Verdict {
  bool closed = false;  // the connection is over
  std::optional<Finding> finding;
};

struct JudgeContext {
  ProtocolVersion version;
  bool strict = false;
  std::chrono::milliseconds timeout;
  Counters& counters;
  const std::function<void(const std::string&)>& trace;
};

// Reads the server's frames after `c` was sent until the case is settled. `sent` is false when
// the server had already closed the connection before all of the case could be written.
Verdict judge(WireSocket& socket, const fuzzgen::Case& c, bool sent, const JudgeContext& context);

}  // namespace ocpp::app::wire_fuzz
