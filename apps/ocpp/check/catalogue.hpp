#pragma once
// The edge-case catalogue `ocpp check` runs against a server: one check per line of the field
// reference's §4 that can be seen from outside (frame level, handshake, Basic Auth, TLS,
// lifecycle), each named by its catalogue id and the spec clause it checks.
#include <functional>
#include <string>
#include <vector>

#include "ocpp/rpc/protocol.hpp"
#include "probe.hpp"

namespace ocpp::app::conformance {

struct Settings {
  Target target;
  std::string protocol;  // the subprotocol to offer
};

// What one check saw.
struct Outcome {
  std::string sent;      // what was sent
  std::string required;  // what the spec required
  std::string got;       // what came back
  bool pass = false;
};

struct Check {
  std::string id;      // the catalogue's, e.g. "4.1-1"
  std::string clause;  // the spec's, e.g. "OCPP 2.0.1 Part 4 §4.2.3"
  std::string title;
  std::function<Outcome(const Settings&)> run;
};

struct Result {
  std::string id, clause, title;
  Outcome outcome;
};

// The checks that apply: the security ones only with credentials or wss://.
std::vector<Check> catalogue(const Settings& settings);

}  // namespace ocpp::app::conformance
