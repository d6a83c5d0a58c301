// The `ocpp` command line tool: a demo CSMS, a charge point simulator and a load generator.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "ocpp/version.hpp"

namespace {
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ocpp: OCPP-J tools (demo CSMS, charge point simulator, load generator)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(ocpp::version()));

  ocpp::app::ServeArgs serve;
  std::string serve_protocols = "ocpp2.1,ocpp2.0.1,ocpp1.6";
  auto* s = app.add_subcommand("serve", "Run a demo CSMS that answers the common charge point messages");
  s->add_option("--port", serve.port, "Port to listen on (0 = any)")->capture_default_str();
  s->add_option("--host", serve.host, "Address to bind")->capture_default_str();
  s->add_option("--protocols", serve_protocols, "Accepted subprotocols, in preference order")->capture_default_str();
  s->add_option("--threads", serve.threads, "I/O threads (one io_context each)")->capture_default_str();
  s->add_flag("--quiet", serve.quiet, "Do not print the exchanges");
  s->add_flag("--strict", serve.strict, "Strict mode: validate every payload against the OCA schemas");
  s->add_flag("--demo-flows", serve.demo_flows,
              "After each boot, start a transaction remotely (RemoteStartTransaction / RequestStartTransaction) "
              "and limit each started transaction with a TxProfile (SetChargingProfile)");
  s->add_flag("--no-compression", serve.no_compression,
              "Decline permessage-deflate (accepted by default: OCPP 2.0.1 and 2.1 require a CSMS to)");
  s->add_option("--rate-limit", serve.rate_limit, "Calls per connection and window, e.g. 100/60s (over it: dropped)");
  s->add_option("--max-connections", serve.max_connections, "Open connections at most (0: no cap)");
  s->add_flag("--legacy-identities", serve.legacy_identities,
              "Admit identities outside OCPP's identifierString characters (anything but control characters and "
              "'/'; with Basic Auth, colons too); the 48-character bound stays");
  s->add_option("--max-handshakes", serve.max_handshakes,
                "Connections still in their handshake at most (0: no bound; beyond: closed at accept)")
      ->capture_default_str();
  s->add_option("--max-handshakes-per-address", serve.max_handshakes_per_address,
                "The same per remote address (0: no bound; load generators on one host need more)")
      ->capture_default_str();
  s->add_option("--connection-rate-limit", serve.connection_rate_limit,
                "New connections per remote address and window, e.g. 500/1s (over it: HTTP 429)");
  s->add_option("--log", serve.log, "Log through the library's logger: json or pretty (replaces the exchange printing)")
      ->check(CLI::IsMember({"json", "pretty"}));
  s->add_option("--log-level", serve.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  s->add_flag("--exchange-log", serve.exchange_log, "Log every OCPP message (direction, action, id, latency)");
  s->add_flag("--metrics", serve.metrics, "Serve GET /health and /metrics (Prometheus) on the same port");
  auto* web = s->add_option("--web", serve.web_dir,
                            "Serve the browser simulator's files (GET /) from DIR on the same port (default: "
                            "$OCPP_WEB_DIR, else ../share/ocpp-ws-io/web beside the ocpp executable, or "
                            "build/wasm/web/site in the source tree for the ocpp of a build tree)")
                  ->expected(0, 1)
                  ->type_name("[DIR]");
  s->add_option("--password-file", serve.password_file,
                "Basic Auth: lines of identity:password (split at the first colon); others get 401")
      ->check(CLI::ExistingFile);
  s->add_option("--profile", serve.profile,
                "Security profile: 0 ws://, 1 ws:// + Basic Auth, 2 wss:// + Basic Auth, 3 wss:// + client "
                "certificate (default: 1 with --password-file, else 0)")
      ->check(CLI::Range(0, 3));
  s->add_option("--cert", serve.certs,
                "Profiles 2/3: server certificate (PEM, chain after it); repeatable, paired in order with "
                "--key, e.g. an RSA and an ECDSA one side by side")
      ->check(CLI::ExistingFile);
  s->add_option("--key", serve.keys, "Profiles 2/3: the private key (PEM) of the --cert in the same position")
      ->check(CLI::ExistingFile);
  s->add_option("--ca", serve.ca, "Profile 3: CA bundle (PEM) the stations' client certificates must chain to")
      ->check(CLI::ExistingFile);
  s->add_option("--redis", serve.redis,
                "Join a cluster on this Redis (redis://[user:password@]host:port[/db], rediss:// for TLS; "
                "redis-sentinel://host:port[,...]/master; redis-cluster://host:port[,...]): calls reach stations on any "
                "node");
  s->add_option("--node-id", serve.node_id, "With --redis: this node's stable name (default: a random one)");
  s->add_option("--redis-prefix", serve.prefix, "With --redis: the prefix of the cluster's keys")->capture_default_str();
  s->add_option("--lease-ttl-ms", serve.lease_ttl_ms,
                "With --redis: the node's lease; a node that cannot renew it within this time closes its stations "
                "(1012)")
      ->capture_default_str();

  ocpp::app::SimulateArgs sim;
  auto* m = app.add_subcommand("simulate", "Run simulated charge points against a CSMS");
  m->add_option("--url", sim.url, "CSMS endpoint (ws://host:port[/path]; wss:// for profiles 2 and 3)")
      ->capture_default_str();
  m->add_option("--identity", sim.identity, "Identity (with --count > 1: a prefix, numbered)")->capture_default_str();
  m->add_option("--protocol", sim.protocol, "ocpp1.6, ocpp2.0.1 or ocpp2.1")->capture_default_str();
  m->add_option("--count", sim.count, "Number of charge points")->capture_default_str();
  m->add_flag("--quiet", sim.quiet, "Print only the summary");
  m->add_flag("--strict", sim.strict, "Strict mode: validate every payload against the OCA schemas");
  m->add_flag("--compression", sim.compression, "Offer permessage-deflate");
  m->add_option("--password", sim.password, "Basic Auth password (security profiles 1 and 2)");
  m->add_option("--profile", sim.profile,
                "Security profile 0-3, checked against the URL scheme and credentials (default: inferred "
                "from them)")
      ->check(CLI::Range(0, 3));
  m->add_option("--cert", sim.cert,
                "Profile 3: client certificate (PEM); {id} is replaced with each station's identity, e.g. "
                "certs/client-{id}.pem for --count > 1");
  m->add_option("--key", sim.key, "Profile 3: the client certificate's private key (PEM); {id} as for --cert");
  m->add_option("--ca", sim.ca, "Profiles 2/3: CA bundle (PEM) to verify the CSMS with (default: the system's)")
      ->check(CLI::ExistingFile);
  m->add_option("--scenario", sim.scenario,
                "Run the stations, steps and expectations of a scenario file (JSON; it names the identities and "
                "the protocol); exit 1 when an expectation fails, 2 for a bad file")
      ->check(CLI::ExistingFile);
  m->add_option("--junit", sim.junit, "With --scenario: write a JUnit XML report to this file");
  m->add_flag("--json", sim.json,
              "Print one JSON object with the result instead of the exchanges and the summary (with --scenario: "
              "the scenario's report)");

  ocpp::app::BenchArgs b;
  auto* l = app.add_subcommand("bench", "Load-generate CALLs against any OCPP-J server");
  l->add_option("--url", b.url, "Server endpoint")->capture_default_str();
  l->add_option("--clients", b.clients, "Connections")->capture_default_str();
  l->add_option("--calls", b.calls, "Calls in total")->capture_default_str();
  l->add_option("--concurrency", b.concurrency, "Calls in flight per connection")->capture_default_str();
  l->add_option("--protocol", b.protocol, "Subprotocol to offer")->capture_default_str();
  l->add_option("--action", b.action, "Action to call")->capture_default_str();
  l->add_option("--payload", b.payload, "JSON payload of each call")->capture_default_str();
  l->add_option("--threads", b.threads, "Client I/O threads")->capture_default_str();
  l->add_flag("--json", b.json, "Print one JSON line");
  l->add_option("--password", b.password, "Basic Auth password of every connection (security profiles 1 and 2)");
  l->add_option("--ca", b.ca, "wss://: CA bundle (PEM) to verify the server with (default: the system's)")
      ->check(CLI::ExistingFile);
  l->add_flag("--no-verify", b.no_verify, "wss://: do not verify the server's certificate");

  ocpp::app::FuzzArgs fz;
  auto* f = app.add_subcommand("fuzz", "Send valid and broken frames to any OCPP-J server and report crashes, hangs, "
                                       "unexpected closes and answers that break the spec");
  f->add_option("--url", fz.url, "Server endpoint (ws://host:port[/path])")->capture_default_str();
  f->add_option("--duration", fz.duration, "Seconds to run")->capture_default_str();
  f->add_option("--connections", fz.connections, "Fuzzing connections at a time")->capture_default_str();
  f->add_option("--seed", fz.seed, "Seed of every generated case (a finding names the one that replays it)")
      ->capture_default_str();
  f->add_option("--protocol", fz.protocols, "Subprotocols offered, one per connection")->capture_default_str();
  f->add_option("--answer-timeout-ms", fz.answer_timeout_ms, "Longer without a due answer or close: a hang")
      ->capture_default_str();
  f->add_flag("--strict", fz.strict, "The server validates payloads: a schema-invalid CALL must get a CALLERROR");
  f->add_option("--replay", fz.replay, "Run only this connection's cases and print each exchange");
  f->add_flag("--json", fz.json, "Print one JSON object with the result");
  std::string fuzz_report = "text";
  f->add_option("--report", fuzz_report, "text or json (json: the same as --json)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  ocpp::app::CallArgs call;
  auto* k = app.add_subcommand(
      "call", "Call a station connected to any node of a cluster and print its answer. Exit: 0 result, 3 CALLERROR, "
              "4 not connected, 5 timeout, 6 node down, 7 expired, 8 overloaded, 9 unknown outcome, 10 duplicate, "
              "11 rejected, 12 Redis unavailable");
  k->add_option("--redis", call.redis, "The cluster's Redis")->capture_default_str();
  k->add_option("--redis-prefix", call.prefix, "The prefix of the cluster's keys")->capture_default_str();
  k->add_option("--to", call.to, "The station's identity")->required();
  k->add_option("--protocol", call.protocol, "The station's protocol, checked on its node (default: any)");
  k->add_option("--action", call.action, "Action")->required();
  k->add_option("--payload", call.payload, "JSON payload")->capture_default_str();
  k->add_option("--message-id", call.message_id, "Message id, also the idempotency key (default: generated)");
  k->add_option("--timeout-ms", call.timeout_ms, "Deadline of the call")->capture_default_str();

  ocpp::app::ClusterArgs cl;
  auto* n = app.add_subcommand("cluster", "List a cluster's nodes (lease, stations, inbox) and who holds identities");
  n->add_option("--redis", cl.redis, "The cluster's Redis")->capture_default_str();
  n->add_option("--redis-prefix", cl.prefix, "The prefix of the cluster's keys")->capture_default_str();
  n->add_option("--identity", cl.identities, "Also show which node holds this station (repeatable)");
  n->add_flag("--json", cl.json, "Print one JSON object: the nodes and the owners of the --identity stations");

  ocpp::app::CertsArgs certs;
  auto* c = app.add_subcommand("certs", "Make a CA, RSA and ECDSA server certificates and a client certificate");
  c->add_option("--out", certs.out, "Directory to write to")->capture_default_str();
  c->add_option("--identity", certs.identities,
                "The client certificate's CN (the station's identity); repeatable, one certificate each")
      ->capture_default_str();
  c->add_option("--host", certs.hosts, "More names or addresses for the server certificates (repeatable)");

  ocpp::app::CheckArgs chk;
  auto* q = app.add_subcommand("check", "Run the OCPP-J edge-case catalogue against a CSMS; exit 1 on a failed check");
  q->add_option("--url", chk.url, "CSMS endpoint (ws://host:port[/path]; wss:// for profiles 2 and 3)")
      ->capture_default_str();
  q->add_option("--identity", chk.identity, "Identity to connect as (appended to the URL)")->capture_default_str();
  q->add_option("--protocol", chk.protocol, "ocpp1.6, ocpp2.0.1 or ocpp2.1")->capture_default_str();
  q->add_option("--profile", chk.profile, "Security profile 0-3, checked against the URL and credentials")
      ->check(CLI::Range(0, 3));
  q->add_option("--password", chk.password, "Basic Auth password: also checks missing and wrong ones get 401");
  q->add_option("--cert", chk.cert, "Profile 3: client certificate (PEM); also checks one is required")
      ->check(CLI::ExistingFile);
  q->add_option("--key", chk.key, "Profile 3: its private key (PEM)")->check(CLI::ExistingFile);
  q->add_option("--ca", chk.ca, "wss://: CA bundle (PEM) to verify the CSMS with (default: the system's)")
      ->check(CLI::ExistingFile);
  q->add_option("--report", chk.report, "text, json or junit")
      ->check(CLI::IsMember({"text", "json", "junit"}))
      ->capture_default_str();
  q->add_flag("--json", chk.json, "Same as --report json");
  q->add_option("--timeout-ms", chk.timeout_ms, "Deadline of each step of a check")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Bad usage exits 2 (CLI11's own codes are 100+), the same as the flag misfits found later.
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*s) {
      serve.protocols = split(serve_protocols);
      serve.web = web->count() > 0;
      return ocpp::app::serve(serve);
    }
    if (*m) return ocpp::app::simulate(sim);
    if (*l) return ocpp::app::bench(b);
    if (*f) {
      fz.json = fz.json || fuzz_report == "json";
      return ocpp::app::fuzz(fz);
    }
    if (*c) return ocpp::app::certs(certs);
    if (*k) return ocpp::app::call_station(call);
    if (*n) return ocpp::app::cluster_status(cl);
    if (*q) return ocpp::app::check(chk);
  } catch (const ocpp::app::UsageError& e) {
    std::cerr << "ocpp: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ocpp: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
