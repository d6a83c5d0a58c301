#pragma once
#include <chrono>
#include <cstddef>
#include <utility>
#include <cstdint>
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
  std::string rate_limit;  // "N/window" per connection, e.g. "100/60s"; empty: none
  std::size_t max_connections = 0;
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
};
int cluster_status(const ClusterArgs& args);

struct CertsArgs {
  std::string out = "certs";
  std::vector<std::string> identities{"CP001"};
  std::vector<std::string> hosts;  // more names or addresses for the server certificates
};
int certs(const CertsArgs& args);

}  // namespace ocpp::app
