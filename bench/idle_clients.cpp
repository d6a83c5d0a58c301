// idle_clients: opens N idle OCPP-J connections to a server and holds them until stdin closes.
//
//   idle_clients --url ws://127.0.0.1:9000 --count 10000 [--prefix IDLE] [--protocol ocpp1.6]
//                [--batch 200] [--ping-ms 0]
//                [--password P] [--ca FILE] [--no-verify] [--cert FILE --key FILE]
//                [--compression] [--call-bytes 0]
//
// TLS (security profiles 2 and 3): a wss:// URL; --password sends Basic Auth (profile 2),
// --ca names the CA bundle the server certificate must chain to (else --no-verify), --cert/--key
// a client certificate (profile 3; every connection presents the same one). --compression offers
// permessage-deflate; --call-bytes N makes every connection send one DataTransfer with N bytes of
// compressible text and wait for the answer before it counts as connected, so both sides'
// compressors and inflaters have run once.
//
// Connections are opened in batches (the next batch starts once every connection of the current
// one has completed its WebSocket upgrade or failed), so the server's accept backlog is never
// flooded. Once all have been attempted it prints `READY <connected>` on stdout (and
// `FAILED <n> <first error>` on stderr if some failed), then sends nothing at all: no CALLs and,
// by default, no WebSocket pings (the server may still ping; the client answers with pongs).
// Before anything else it prints `START_RSS_KB <kB>` (its own VmRSS with no client created).
// When stdin reaches EOF it prints `DROPPED <n>` (connections the server closed meanwhile) on
// stdout, closes every connection and exits. Used by bench/idle_memory.sh.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ocpp/ocpp.hpp"

namespace {

struct Args {
  std::string url = "ws://127.0.0.1:9000";
  std::size_t count = 10000;
  std::string prefix = "IDLE";
  std::string protocol = "ocpp1.6";
  std::size_t batch = 200;
  long ping_ms = 0;
  std::string password;
  std::string ca;
  bool verify = true;
  std::string cert;
  std::string key;
  bool compression = false;
  std::size_t call_bytes = 0;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "idle_clients: %s\nusage: idle_clients --url ws://HOST:PORT --count N [--prefix IDLE] "
               "[--protocol ocpp1.6] [--batch 200] [--ping-ms 0] [--password P] [--ca FILE] [--no-verify] "
               "[--cert FILE --key FILE] [--compression] [--call-bytes 0]\n",
               msg);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") usage("help");
    if (k == "--no-verify") {
      a.verify = false;
      continue;
    }
    if (k == "--compression") {
      a.compression = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value for " + k).c_str());
    const std::string v = argv[++i];
    if (k == "--url") a.url = v;
    else if (k == "--count") a.count = std::stoul(v);
    else if (k == "--prefix") a.prefix = v;
    else if (k == "--protocol") a.protocol = v;
    else if (k == "--batch") a.batch = std::max<std::size_t>(1, std::stoul(v));
    else if (k == "--ping-ms") a.ping_ms = std::stol(v);
    else if (k == "--password") a.password = v;
    else if (k == "--ca") a.ca = v;
    else if (k == "--cert") a.cert = v;
    else if (k == "--key") a.key = v;
    else if (k == "--call-bytes") a.call_bytes = std::stoul(v);
    else usage(("unknown option " + k).c_str());
  }
  return a;
}

struct State {
  Args args;
  boost::asio::io_context io;
  std::vector<std::shared_ptr<ocpp::Client>> clients;
  std::size_t next = 0;        // next client index to start
  std::size_t in_batch = 0;    // connects of the current batch still pending
  std::size_t connected = 0;
  std::size_t failed = 0;
  std::size_t dropped = 0;
  bool closing = false;
  std::string first_error;
};

void start_batch(State& s);

void on_connected(State& s, std::exception_ptr e) {
  if (e) {
    if (s.failed++ == 0) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        s.first_error = ex.what();
      }
    }
  } else {
    ++s.connected;
  }
  if (--s.in_batch == 0) start_batch(s);
}

void start_batch(State& s) {
  if (s.next >= s.clients.size()) {
    if (s.failed) std::fprintf(stderr, "FAILED %zu %s\n", s.failed, s.first_error.c_str());
    std::printf("READY %zu\n", s.connected);
    std::fflush(stdout);
    return;
  }
  const std::size_t end = std::min(s.clients.size(), s.next + s.args.batch);
  s.in_batch = end - s.next;
  for (; s.next < end; ++s.next) {
    auto& client = s.clients[s.next];
    client->connect([&s, &client](std::exception_ptr e) {
      if (e || s.args.call_bytes == 0) return on_connected(s, e);
      std::string data;
      while (data.size() < s.args.call_bytes) data += "Energy.Active.Import.Register " + std::to_string(data.size()) + "; ";
      data.resize(s.args.call_bytes);
      client->call("DataTransfer", boost::json::object{{"vendorId", "idle"}, {"data", data}},
                   [&s](std::exception_ptr e, boost::json::value) {
                     // A CALLERROR (a server without DataTransfer) is an answer too.
                     try {
                       if (e) std::rethrow_exception(e);
                     } catch (const ocpp::RpcError&) {
                       e = nullptr;
                     } catch (...) {
                     }
                     on_connected(s, e);
                   });
    });
  }
}

}  // namespace

long self_rss_kb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %ld", &kb) == 1) break;
  std::fclose(f);
  return kb;
}

int main(int argc, char** argv) {
  State s;
  s.args = parse(argc, argv);
  // Baseline before any client exists, so the driver can compute the client side's cost too.
  std::printf("START_RSS_KB %ld\n", self_rss_kb());
  std::fflush(stdout);

  ocpp::ClientOptions o;
  o.endpoint = s.args.url;
  o.protocols = {s.args.protocol};
  o.reconnect = false;
  o.ping_interval = std::chrono::milliseconds(s.args.ping_ms);
  o.logger = ocpp::null_logger();
  if (!s.args.password.empty()) o.password = s.args.password;
  o.tls.ca_file = s.args.ca;
  o.tls.verify_server = s.args.verify;
  o.tls.cert_file = s.args.cert;
  o.tls.key_file = s.args.key;
  o.compression.enabled = s.args.compression;
  s.clients.reserve(s.args.count);
  for (std::size_t i = 0; i < s.args.count; ++i) {
    o.identity = s.args.prefix + std::to_string(i + 1);
    auto c = ocpp::Client::create(s.io.get_executor(), o);
    c->on_close([&s](const ocpp::CloseResult&) {
      if (!s.closing) ++s.dropped;
    });
    s.clients.push_back(std::move(c));
  }

  boost::asio::post(s.io, [&s] { start_batch(s); });
  auto guard = boost::asio::make_work_guard(s.io);
  std::thread io_thread([&s] { s.io.run(); });

  // Hold until stdin closes (the driving script closes the pipe, or exits).
  char buf[256];
  while (std::fread(buf, 1, sizeof buf, stdin) > 0) {
  }

  boost::asio::post(s.io, [&s] {
    std::printf("DROPPED %zu\n", s.dropped);
    std::fflush(stdout);
    s.closing = true;
    for (auto& c : s.clients) c->close(ocpp::CloseOptions{1000, "", false, true});
  });
  guard.reset();
  // The closes are forced (no closing handshake), so run() returns almost at once; the watchdog
  // only guards against a connection that never finishes closing.
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    std::_Exit(0);
  }).detach();
  io_thread.join();
  return 0;
}
