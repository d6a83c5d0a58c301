#pragma once
#include <chrono>
#include <cstddef>
#include <utility>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ocpp/server/server.hpp"

namespace ocpp::app {

// A misfit of flags found after parsing (a profile without its certificate, ...): main() prints it
// and exits 2, as for a parse error, so scripts can tell bad usage from a failed run.
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct ServeArgs {
  std::uint16_t port = 9000;
  std::string host = "0.0.0.0";
  std::vector<std::string> protocols{"ocpp2.1", "ocpp2.0.1", "ocpp1.6"};
  std::size_t threads = 1;
  bool quiet = false;  // no exchange printing (for benchmarks)
  bool strict = false;  // validate every payload against the OCA schemas
  bool demo_flows = false;  // start a transaction remotely after each boot, limit it with a TxProfile
  std::string rate_limit;  // "N/window" per connection, e.g. "100/60s"; empty: none
  std::size_t max_connections = 0;
  bool legacy_identities = false;  // ServerOptions::strict_identity off
  std::size_t max_handshakes = ServerOptions{}.max_handshakes;  // 0: no bound
  std::size_t max_handshakes_per_address = ServerOptions{}.max_handshakes_per_address;
  std::string connection_rate_limit;  // "N/window" new connections per remote address; empty: none
  std::string log;            // "json" | "pretty": the library's logger instead of the demo's printing
  std::string log_level = "info";
  bool exchange_log = false;  // every OCPP message through the logger
  bool metrics = false;       // GET /health and /metrics on the same port
  bool web = false;           // serve the browser simulator's files on the same port
  std::string web_dir;        // empty: $OCPP_WEB_DIR, else the installed or the built site
  bool no_compression = false;  // decline permessage-deflate (accepted by default, as 2.x requires)
  std::string password_file;  // lines "identity:password" (split at the first colon): Basic Auth
  int profile = -1;           // security profile 0..3; -1: 1 with a password file, else 0
  std::vector<std::string> certs;  // profiles 2/3: server certificates, paired in order with keys
  std::vector<std::string> keys;
  std::string ca;  // profile 3: CA bundle of the accepted client certificates
  std::string redis;    // join the cluster on this Redis (redis:// or rediss://)
  std::string node_id;  // the node's stable name; empty: a random one
  std::string prefix = "ocpp:";
  std::size_t lease_ttl_ms = 5000;
};
// "100/60s", "5/500ms", "1000/1m", "10/1h" → {limit, window}; throws std::invalid_argument.
std::pair<double, std::chrono::milliseconds> parse_rate(const std::string& text, const std::string& flag = "--rate-limit");
int serve(const ServeArgs& args);

struct SimulateArgs {
  std::string url = "ws://127.0.0.1:9000";
  std::string identity = "CP001";
  std::string protocol = "ocpp1.6";
  std::size_t count = 1;
  bool quiet = false;
  bool strict = false;
  bool compression = false;  // offer permessage-deflate
  std::string password;  // Basic Auth (security profiles 1 and 2)
  int profile = -1;      // -1: the client infers it from the URL scheme, password and certificate
  std::string cert;      // profile 3; "{id}" is replaced with each station's identity
  std::string key;
  std::string ca;        // profiles 2/3: CA bundle to verify the CSMS with; empty: the system's
  std::string scenario;  // a scenario file (apps/ocpp/scenario): scripted steps and expectations
  std::string junit;     // with a scenario: write a JUnit report here
  bool json = false;     // one JSON object with the result (the scenario's report with a scenario)
};
int simulate(const SimulateArgs& args);

struct BenchArgs {
  std::string url = "ws://127.0.0.1:9000";
  std::size_t clients = 100;
  std::size_t calls = 100000;  // in total
  std::size_t concurrency = 1;  // in flight per connection
  std::string protocol = "ocpp1.6";
  std::string action = "Heartbeat";
  std::string payload = "{}";
  std::size_t threads = 1;
  bool json = false;
  std::string password;  // Basic Auth (profiles 1 and 2), the same for every connection
  std::string ca;        // wss://: CA bundle to verify the server with
  bool no_verify = false;
};
int bench(const BenchArgs& args);

struct FuzzArgs {
  std::string url = "ws://127.0.0.1:9000";
  std::size_t duration = 60;  // seconds
  std::size_t connections = 4;  // fuzzing at a time, beside the liveness probe
  std::uint64_t seed = 0;
  std::string protocols = "ocpp1.6,ocpp2.0.1,ocpp2.1";  // each connection offers one of them
  std::size_t answer_timeout_ms = 5000;  // longer without an answer (or a due close): a hang
  bool strict = false;  // the server validates payloads: a schema-invalid CALL must get a CALLERROR
  std::optional<std::uint64_t> replay;  // run only this connection's cases, printing each
  bool json = false;
};
// Exit 0 with no finding, 1 with any.
int fuzz(const FuzzArgs& args);

struct CallArgs {
  std::string redis = "redis://127.0.0.1:6379";
  std::string prefix = "ocpp:";
  std::string to;
  std::string protocol;  // empty: whatever the station speaks
  std::string action;
  std::string payload = "{}";
  std::string message_id;  // the idempotency key; empty: a generated id
  std::size_t timeout_ms = 30000;
};
// Prints the result (exit 0) or the CALLERROR (exit 3); the other outcomes exit with
// call_exit_code().
int call_station(const CallArgs& args);
int call_exit_code(cluster::Outcome outcome);

struct ClusterArgs {
  std::string redis = "redis://127.0.0.1:6379";
  std::string prefix = "ocpp:";
  std::vector<std::string> identities;  // also say which node holds these
  bool json = false;                    // one JSON object: {"nodes": [...], "owners": [...]}
};
int cluster_status(const ClusterArgs& args);

struct CertsArgs {
  std::string out = "certs";
  std::vector<std::string> identities{"CP001"};
  std::vector<std::string> hosts;  // more names or addresses for the server certificates
};
int certs(const CertsArgs& args);

struct CheckArgs {
  std::string url = "ws://127.0.0.1:9000";
  std::string identity = "CHECK001";
  std::string protocol = "ocpp1.6";
  int profile = -1;  // -1: the checks follow from the URL scheme and credentials
  std::string password;  // Basic Auth: also check its refusals (profiles 1 and 2)
  std::string cert, key;  // profile 3: also check that a connection without them is refused
  std::string ca;         // wss://: verify the server with it; empty: the system's CAs
  std::string report = "text";  // text | json | junit
  bool json = false;            // --json: report json
  std::size_t timeout_ms = 3000;  // each step of a probe
};
// Runs the edge-case catalogue against a server; exit 1 when a check fails.
int check(const CheckArgs& args);

}  // namespace ocpp::app
