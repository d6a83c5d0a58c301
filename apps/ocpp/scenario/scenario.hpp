#pragma once
// A scenario file: the stations to run, their ramp-up, and the steps each of them plays against a
// CSMS with the expectations on the CSMS's answers and calls. Loaded and checked whole before
// anything connects.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "ocpp/rpc/protocol.hpp"

namespace ocpp::app::scenario {

// A file that does not parse or does not fit the format; says where (file, step, field) and why.
struct ScenarioError : UsageError {
  using UsageError::UsageError;
};

enum class StepKind { boot, authorize, start, meter_values, stop, status, wait, raw, expect_call };

struct Step {
  std::size_t number = 0;  // 1-based, as reports name it
  StepKind kind = StepKind::wait;
  std::string name;  // the file's "name", else made from the kind (and action)
  // boot .. status: overrides merged into the version's default payload; raw: the CALL's payload;
  // expect_call: the answer (empty: the default answer for the action).
  boost::json::object payload;
  std::string status;          // status: the connector status of the string shorthand
  std::string action;          // raw, expect_call
  std::string message_id;      // raw
  double seconds = 0;          // wait; meter_values: between samples; expect_call: within_s
  int repeat = 1;              // meter_values
  boost::json::object fields;  // expect_call: must be a subset of the CSMS's payload
  std::optional<boost::json::object> expect_result;
  std::optional<std::string> expect_error;
  std::vector<std::pair<std::string, std::string>> captures;  // variable, dotted path
  bool has_reply = false;                                     // expect_call: `payload` holds the file's "reply"

  bool checks() const { return kind != StepKind::wait; }
};

struct Scenario {
  std::string name;
  std::string protocol;
  ProtocolVersion version = ProtocolVersion::v16;
  std::size_t count = 1;
  std::string identity = "SIM-{n}";  // {n}: the station's number from 1
  double per_second = 0;             // stations started per second; 0: all at once
  double call_timeout_s = 10;
  boost::json::object variables;  // initial values of every station's variables
  std::vector<Step> steps;
};

// Throws ScenarioError.
Scenario load(const std::string& path);

}  // namespace ocpp::app::scenario
