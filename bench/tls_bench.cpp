// tls_bench: TLS handshakes per second per core against our server (security profile 2 / 3).
//
//   tls_bench [--case NAME]... [--runs 3] [--seconds 10] [--warmup 2] [--concurrency 32]
//             [--client-threads 1] [--no-pin] [--idle-wait 300] [--idle-max-busy 10]
//             [--json-out FILE] [--certs DIR]
//   tls_bench serve --certs DIR [--key ecdsa|rsa|both] [--profile 0|2|3] [--no-binding]
//             [--host 127.0.0.1] [--port 0] [--threads 1]
//   tls_bench rawserve --certs DIR [--key ecdsa|rsa] [--profile 2|3] [--tickets N] [--host 127.0.0.1] [--port 0]
//   tls_bench certs --out DIR
//   tls_bench speed [--certs DIR] [--seconds 2]
//   tls_bench sslmem [--certs DIR] [--count 1000]
//
// Default mode: for every case and run, starts `tls_bench serve` (our ocpp::Server, one I/O thread,
// one listener with ONE certificate: ECDSA P-256 or RSA-2048, from ocpp::tls::write_demo_set) in a
// child process pinned to CPU 0, and drives it from this process (pinned to CPU 1) with raw OpenSSL
// clients on non-blocking sockets, `--concurrency` connections in flight, each doing:
//
//   handshake: TCP connect, full TLS handshake (never a resumption), close_notify + FIN, read
//              until the server closes. No HTTP, no WebSocket.
//   upgrade:   TCP connect, full TLS handshake, HTTP upgrade (ocpp1.6, Basic Auth, a per-slot
//              identity) answered 101, WebSocket close frame, read until the server closes. The
//              server runs its whole connection pipeline (session, on_client, close handshake).
//   plain-upgrade: the same upgrade over ws:// (profile 0), the baseline without TLS.
//
// Load runs continuously for warmup + seconds; after the warm-up it samples the server's CPU time
// (all threads: /proc/<pid>/task/*/schedstat, ns) and the completed count, and again at the end:
// server CPU per handshake = delta CPU / delta completed, handshakes/s per server core = 1e6 / that.
// This is CPU time, not wall-clock rate, so it holds on a shared box and when the client, not the
// server, is the bottleneck (ECDSA: the client's signature check costs more than the server's
// signature). The client does not verify the chain (SSL_VERIFY_NONE; it still checks the
// handshake signature), offers OpenSSL's default groups (X25519 first) and the OCPP suites.
//
// Case names: <ecdsa|rsa>-<1.3|1.2>-<handshake|upgrade>[-p3][-raw] (p3: profile 3 listener, the
// client presents a client certificate the server verifies; raw: handshake cases against
// `tls_bench rawserve`, a minimal single-threaded epoll + OpenSSL server with the same SSL_CTX
// settings as ours, i.e. what this OpenSSL costs with no server around it; raw-t0: the same without
// TLS 1.3 session tickets) and plain-upgrade.
// Default: ecdsa/rsa x 1.3/1.2 handshake against ours and raw, ecdsa/rsa 1.3 upgrade,
// ecdsa-1.3-handshake-p3 against ours and raw, plain-upgrade.
// Before any run it waits until the machine is idle (like bench/lib.sh) and records whether it was.
//
// serve is also the TLS server of bench/idle_memory.sh; certs writes the demo certificate set;
// speed times private-key signatures with those keys (the signature ceiling); sslmem counts the
// heap OpenSSL itself keeps per idle server-side connection (see the sslmem namespace below).
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ocpp/ocpp.hpp"
#include "ocpp/tls/certs.hpp"
#include "ocpp/tls/tls.hpp"

extern char** environ;

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "tls_bench: %s\n", msg.c_str());
  std::exit(1);
}

// The certificate directory given with --certs, or else a demo set made for this run and removed
// at its end.
struct CertsDir {
  std::string path;
  bool temporary = false;
  explicit CertsDir(std::string given) : path(std::move(given)) {
    if (!path.empty()) return;
    char templ[] = "/tmp/tls_bench.XXXXXX";
    if (!mkdtemp(templ)) die("mkdtemp");
    path = templ;
    temporary = true;
    ocpp::tls::write_demo_set(path, "CP001");
  }
  ~CertsDir() {
    std::error_code ignored;
    if (temporary) std::filesystem::remove_all(path, ignored);
  }
  CertsDir(const CertsDir&) = delete;
  CertsDir& operator=(const CertsDir&) = delete;
};

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "no OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

void pin_to_cpu(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(pid, sizeof set, &set) != 0)
    std::fprintf(stderr, "tls_bench: warning: cannot pin %d to CPU %d: %s\n", pid, cpu, std::strerror(errno));
}

// ---------------------------------------------------------------------------------------------
// serve: our server with one TLS (or plain) listener.

struct ServeArgs {
  std::string certs;
  std::string key = "ecdsa";
  int profile = 2;
  bool binding = true;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t threads = 1;
  int tickets = -1;  // rawserve
};

int serve(const ServeArgs& a) {
  ocpp::IoPool pool(a.threads);
  ocpp::ServerOptions options;
  options.protocols = {"ocpp1.6", "ocpp2.0.1"};
  options.logger = ocpp::null_logger();
  // The handshake rate is what is measured: every handshake the client opens must be served.
  options.max_handshakes = 0;
  options.max_handshakes_per_address = 0;
  ocpp::Server server(pool.executors(), options);
  server.handle_any([](ocpp::CallContext& ctx) -> ocpp::HandlerResult {
    if (ctx.action == "Heartbeat") return json::object{{"currentTime", ocpp::iso_timestamp()}};
    if (ctx.action == "BootNotification" && ctx.protocol == "ocpp1.6")
      return json::object{{"status", "Accepted"}, {"currentTime", ocpp::iso_timestamp()}, {"interval", 300}};
    throw ocpp::RpcError(ocpp::ErrorCode::NotImplemented, "not in tls_bench");
  });

  ocpp::ListenOptions lo;
  lo.host = a.host;
  lo.port = a.port;
  lo.profile = static_cast<ocpp::SecurityProfile>(a.profile);
  if (a.profile >= 2) {
    const fs::path dir(a.certs);
    if (a.key == "ecdsa" || a.key == "both")
      lo.tls.certificates.push_back({(dir / "server-ecdsa.pem").string(), (dir / "server-ecdsa.key").string(), ""});
    if (a.key == "rsa" || a.key == "both")
      lo.tls.certificates.push_back({(dir / "server-rsa.pem").string(), (dir / "server-rsa.key").string(), ""});
    if (lo.tls.certificates.empty()) die("--key must be ecdsa, rsa or both");
    if (a.profile == 3) lo.tls.ca_file = (dir / "ca.pem").string();
    if (!a.binding) lo.tls.binding = nullptr;
  }
  std::uint16_t port = 0;
  try {
    port = server.listen(lo);
  } catch (const std::exception& e) {
    die(std::string("listen failed: ") + e.what());
  }
  std::printf("LISTENING %u\n", static_cast<unsigned>(port));
  std::fflush(stdout);

  std::promise<void> stopped;
  boost::asio::signal_set signals(pool.executor(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    server.close(ocpp::CloseOptions{1001, "", false, true}, [&] { stopped.set_value(); });
  });
  pool.start();
  stopped.get_future().wait();
  pool.stop();
  pool.join();
  return 0;
}


// ---------------------------------------------------------------------------------------------
// rawserve: the least a TLS server can do per connection with this OpenSSL, for reference. One
// thread, epoll, non-blocking sockets, the same SSL_CTX settings as src/tls/context.cpp (OCPP
// suites, server preference, SSL_MODE_RELEASE_BUFFERS, default session cache); each connection:
// accept, handshake, read until close_notify / EOF, send close_notify, close. No HTTP.

int rawserve(const ServeArgs& a) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_cipher_list(ctx, std::string(ocpp::kOcppCipherList).c_str());
  SSL_CTX_set_ciphersuites(ctx, std::string(ocpp::kOcppCipherSuitesTls13).c_str());
  if (a.tickets >= 0) SSL_CTX_set_num_tickets(ctx, static_cast<std::size_t>(a.tickets));
  const fs::path dir(a.certs);
  const std::string stem = a.key == "rsa" ? "server-rsa" : "server-ecdsa";
  if (SSL_CTX_use_certificate_chain_file(ctx, (dir / (stem + ".pem")).c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, (dir / (stem + ".key")).c_str(), SSL_FILETYPE_PEM) != 1)
    die("rawserve: cannot load " + stem + ": " + openssl_error());
  if (a.profile == 3) {
    SSL_CTX_load_verify_locations(ctx, (dir / "ca.pem").c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    static constexpr unsigned char sid[] = "ocpp";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
  }
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(a.port);
  inet_pton(AF_INET, a.host.c_str(), &addr.sin_addr);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 4096) != 0)
    die(std::string("rawserve: bind/listen: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("LISTENING %u\n", static_cast<unsigned>(ntohs(addr.sin_port)));
  std::fflush(stdout);

  static std::atomic<bool> stop{false};
  struct sigaction sa{};
  sa.sa_handler = [](int) { stop = true; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  std::vector<SSL*> conns;  // by fd
  auto drop = [&](int fd) {
    if (SSL* ssl = conns[fd]) {
      SSL_free(ssl);
      conns[fd] = nullptr;
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
  };
  auto want = [&](int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
  };
  std::vector<epoll_event> evs(256);
  while (!stop) {
    const int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 200);
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == lfd) {
        for (;;) {
          const int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          if (static_cast<std::size_t>(c) >= conns.size()) conns.resize(c + 1024, nullptr);
          SSL* ssl = SSL_new(ctx);
          SSL_set_fd(ssl, c);
          SSL_set_accept_state(ssl);
          conns[c] = ssl;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
        continue;
      }
      SSL* ssl = conns[fd];
      if (!ssl) continue;
      for (;;) {
        ERR_clear_error();
        char buf[4096];
        const int r = SSL_is_init_finished(ssl) ? SSL_read(ssl, buf, sizeof buf) : SSL_do_handshake(ssl);
        if (r > 0) continue;
        const int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
          want(fd, EPOLLIN);
          break;
        }
        if (e == SSL_ERROR_WANT_WRITE) {
          want(fd, EPOLLOUT);
          break;
        }
        if (e == SSL_ERROR_ZERO_RETURN) SSL_shutdown(ssl);
        drop(fd);
        break;
      }
    }
  }
  return 0;
}


// ---------------------------------------------------------------------------------------------
// sslmem: OpenSSL's own heap per idle server-side connection after a full handshake, counted
// through CRYPTO_set_mem_functions (so it must run before anything else touches OpenSSL). Server
// and client SSL objects talk over a socketpair in this process; only allocations made inside
// server-side calls are attributed to the server, and the count starts after one warm-up
// connection (lazy initialisation). The same SSL_CTX settings as rawserve.

namespace sslmem {
thread_local int owner = 0;  // 1 while inside a server-side call
long live[2];
long blocks[2];
struct alignas(16) Hdr {
  std::size_t size;
  int owner;
};
void* alloc(std::size_t n, const char*, int) {
  auto* h = static_cast<Hdr*>(std::malloc(sizeof(Hdr) + n));
  if (!h) return nullptr;
  h->size = n;
  h->owner = owner;
  live[owner] += static_cast<long>(n);
  ++blocks[owner];
  return h + 1;
}
void release(void* p, const char*, int) {
  if (!p) return;
  Hdr* h = static_cast<Hdr*>(p) - 1;
  live[h->owner] -= static_cast<long>(h->size);
  --blocks[h->owner];
  std::free(h);
}
void* resize(void* p, std::size_t n, const char* f, int l) {
  if (!p) return alloc(n, f, l);
  Hdr* h = static_cast<Hdr*>(p) - 1;
  live[h->owner] -= static_cast<long>(h->size);
  --blocks[h->owner];
  h = static_cast<Hdr*>(std::realloc(h, sizeof(Hdr) + n));
  h->size = n;
  h->owner = owner;
  live[owner] += static_cast<long>(n);
  ++blocks[owner];
  return h + 1;
}

int run(const std::string& certs, int count) {
  struct Variant {
    const char* key;
    int version;
    bool release_buffers;
    int profile;
  };
  const Variant variants[] = {{"ecdsa", TLS1_3_VERSION, true, 2},  {"ecdsa", TLS1_3_VERSION, false, 2},
                              {"rsa", TLS1_3_VERSION, true, 2},    {"ecdsa", TLS1_2_VERSION, true, 2},
                              {"ecdsa", TLS1_3_VERSION, true, 3}};
  const fs::path dir(certs);
  std::printf("OpenSSL heap held per idle server-side connection (%d connections, %s):\n", count,
              OpenSSL_version(OPENSSL_VERSION));
  for (const auto& v : variants) {
    SSL_CTX* sc = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (v.release_buffers) SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_cipher_list(sc, std::string(ocpp::kOcppCipherList).c_str());
    SSL_CTX_set_ciphersuites(sc, std::string(ocpp::kOcppCipherSuitesTls13).c_str());
    const std::string stem = std::string("server-") + v.key;
    SSL_CTX_use_certificate_chain_file(sc, (dir / (stem + ".pem")).c_str());
    SSL_CTX_use_PrivateKey_file(sc, (dir / (stem + ".key")).c_str(), SSL_FILETYPE_PEM);
    SSL_CTX* cc = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(cc, v.version);
    SSL_CTX_set_max_proto_version(cc, v.version);
    SSL_CTX_set_session_cache_mode(cc, SSL_SESS_CACHE_OFF);
    if (v.profile == 3) {
      SSL_CTX_load_verify_locations(sc, (dir / "ca.pem").c_str(), nullptr);
      SSL_CTX_set_verify(sc, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      static constexpr unsigned char sid[] = "ocpp";
      SSL_CTX_set_session_id_context(sc, sid, sizeof sid - 1);
      SSL_CTX_use_certificate_chain_file(cc, (dir / "client-CP001.pem").c_str());
      SSL_CTX_use_PrivateKey_file(cc, (dir / "client-CP001.key").c_str(), SSL_FILETYPE_PEM);
    }
    std::vector<std::pair<SSL*, SSL*>> conns;
    std::vector<int> fds;
    long base = 0, base_blocks = 0;
    for (int i = 0; i <= count; ++i) {
      if (i == 1) {
        base = live[1];
        base_blocks = blocks[1];
      }
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) die("socketpair");
      owner = 1;
      SSL* s = SSL_new(sc);
      SSL_set_fd(s, sv[0]);
      SSL_set_accept_state(s);
      owner = 0;
      SSL* c = SSL_new(cc);
      SSL_set_fd(c, sv[1]);
      SSL_set_connect_state(c);
      bool server_done = false, client_done = false;
      char buf[512];
      for (int k = 0; k < 50 && !(server_done && client_done); ++k) {
        if (!client_done) client_done = SSL_do_handshake(c) == 1;
        owner = 1;
        if (!server_done) server_done = SSL_do_handshake(s) == 1;
        owner = 0;
      }
      if (!server_done || !client_done) die("sslmem: handshake failed: " + openssl_error());
      SSL_read(c, buf, sizeof buf);  // the session tickets
      owner = 1;
      SSL_read(s, buf, sizeof buf);  // an idle read: WANT_READ, the read buffer is released
      owner = 0;
      ERR_clear_error();
      conns.emplace_back(s, c);
      fds.push_back(sv[0]);
      fds.push_back(sv[1]);
    }
    std::printf("  %-5s %s profile %d %-26s %6.0f bytes in %4.1f blocks\n", v.key,
                v.version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2", v.profile,
                v.release_buffers ? "SSL_MODE_RELEASE_BUFFERS" : "(no RELEASE_BUFFERS)",
                double(live[1] - base) / count, double(blocks[1] - base_blocks) / count);
    for (auto& [s, c] : conns) {
      owner = 1;
      SSL_free(s);
      owner = 0;
      SSL_free(c);
    }
    for (int fd : fds) ::close(fd);
    owner = 1;
    SSL_CTX_free(sc);
    owner = 0;
    SSL_CTX_free(cc);
  }
  return 0;
}
}  // namespace sslmem

// ---------------------------------------------------------------------------------------------
// speed: private-key signatures per second with the certificates' keys (the ceiling).

double signs_per_second(const std::string& key_file, double seconds) {
  std::FILE* f = std::fopen(key_file.c_str(), "r");
  if (!f) die("cannot open " + key_file);
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!key) die("cannot read key " + key_file + ": " + openssl_error());
  unsigned char msg[64] = {1, 2, 3};
  std::vector<unsigned char> sig(EVP_PKEY_get_size(key));
  std::size_t n = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  timespec c0{}, c1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  do {
    for (int i = 0; i < 20; ++i) {
      EVP_MD_CTX* md = EVP_MD_CTX_new();
      std::size_t len = sig.size();
      if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) != 1 ||
          EVP_DigestSign(md, sig.data(), &len, msg, sizeof msg) != 1)
        die("sign failed: " + openssl_error());
      EVP_MD_CTX_free(md);
      ++n;
    }
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  EVP_PKEY_free(key);
  const double cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
  return n / cpu;  // per CPU second, i.e. per core
}

// ---------------------------------------------------------------------------------------------
// The load generator.

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

enum class Mode { handshake, upgrade };

struct CaseSpec {
  std::string name;
  std::string key;  // ecdsa | rsa | "" (plain)
  int tls_version = 0;  // TLS1_3_VERSION / TLS1_2_VERSION, 0 = plain
  Mode mode = Mode::handshake;
  int profile = 2;
  bool raw = false;  // the minimal OpenSSL server (`tls_bench rawserve`) instead of ours
  int tickets = -1;  // raw only: TLS 1.3 session tickets the server sends (-1: OpenSSL's default, 2)
};

CaseSpec parse_case(const std::string& name) {
  CaseSpec c;
  c.name = name;
  if (name == "plain-upgrade") {
    c.mode = Mode::upgrade;
    c.profile = 0;
    return c;
  }
  std::vector<std::string> parts;
  std::stringstream ss(name);
  for (std::string p; std::getline(ss, p, '-');) parts.push_back(p);
  if (parts.size() < 3 || parts.size() > 5) die("bad case " + name);
  c.key = parts[0];
  if (c.key != "ecdsa" && c.key != "rsa") die("bad key in case " + name);
  if (parts[1] == "1.3") c.tls_version = TLS1_3_VERSION;
  else if (parts[1] == "1.2") c.tls_version = TLS1_2_VERSION;
  else die("bad TLS version in case " + name);
  if (parts[2] == "handshake") c.mode = Mode::handshake;
  else if (parts[2] == "upgrade") c.mode = Mode::upgrade;
  else die("bad mode in case " + name);
  for (std::size_t i = 3; i < parts.size(); ++i) {
    if (parts[i] == "p3") c.profile = 3;
    else if (parts[i] == "raw") c.raw = true;
    else if (parts[i] == "t0") c.tickets = 0;
    else die("bad suffix in case " + name);
  }
  if (c.raw && c.mode != Mode::handshake) die("raw cases are handshake only: " + name);
  if (c.tickets >= 0 && !c.raw) die("t0 is for raw cases only: " + name);
  return c;
}

struct LoadConfig {
  std::uint16_t port = 0;
  SSL_CTX* ctx = nullptr;  // null: plain
  Mode mode = Mode::handshake;
  std::size_t concurrency = 32;
  int thread_index = 0;
  bool basic_auth = false;  // profile 2: Basic Auth with the identity as the user name
};

struct Negotiated {
  std::string version, cipher, group, peer_sig;
};

struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> failed{0};
  std::mutex mu;
  std::string first_error;
  std::optional<Negotiated> negotiated;
  std::vector<double> handshake_ms;  // a sample of connect-to-handshake-done latencies
};

enum class State { connecting, handshake, send_request, read_response, send_close, shutdown, drain };

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  State state = State::connecting;
  std::string out;
  std::size_t out_off = 0;
  std::string in;
  Clock::time_point start;
  Clock::time_point deadline;
  std::uint32_t events = 0;
  std::size_t slot = 0;
};

enum class Io { ok, want_read, want_write, eof, error };

class Loader {
 public:
  Loader(LoadConfig cfg, Shared& shared) : cfg_(std::move(cfg)), sh_(shared) {}

  void run() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die("epoll_create1");
    conns_.resize(cfg_.concurrency);
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      conns_[i].slot = i;
      start(conns_[i]);
    }
    std::vector<epoll_event> evs(256);
    auto next_sweep = Clock::now() + std::chrono::seconds(1);
    while (!sh_.stop.load(std::memory_order_relaxed)) {
      const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 100);
      for (int i = 0; i < n; ++i) step(conns_[evs[i].data.u64]);
      const auto now = Clock::now();
      if (now >= next_sweep) {
        for (auto& c : conns_)
          if (c.fd >= 0 && now > c.deadline) fail(c, "timeout in state " + std::to_string(static_cast<int>(c.state)));
        next_sweep = now + std::chrono::seconds(1);
      }
    }
    for (auto& c : conns_) release(c);
    ::close(ep_);
  }

 private:
  void start(Conn& c) {
    c.state = State::connecting;
    c.in.clear();
    c.out.clear();
    c.out_off = 0;
    c.start = Clock::now();
    c.deadline = c.start + std::chrono::seconds(15);
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) die(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg_.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c.events = 0;
    const int r = ::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (r != 0 && errno != EINPROGRESS) {
      const int err = errno;
      ::close(c.fd);
      c.fd = -1;
      record_failure(std::string("connect: ") + std::strerror(err));
      // Out of ephemeral ports or similar: back off a little, then retry.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      return start(c);
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = c.slot;
    c.events = EPOLLOUT;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl add");
  }

  void want(Conn& c, std::uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.slot;
    if (epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev) != 0) die("epoll_ctl mod");
    c.events = events;
  }

  void release(Conn& c) {
    if (c.ssl) {
      SSL_free(c.ssl);
      c.ssl = nullptr;
    }
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
    }
  }

  void record_failure(const std::string& why) {
    if (sh_.failed.fetch_add(1) == 0) {
      std::lock_guard lock(sh_.mu);
      sh_.first_error = why;
    }
  }

  void fail(Conn& c, const std::string& why) {
    record_failure(why);
    release(c);
    if (!sh_.stop.load(std::memory_order_relaxed)) start(c);
  }

  void finish(Conn& c) {
    release(c);
    sh_.completed.fetch_add(1, std::memory_order_relaxed);
    if (!sh_.stop.load(std::memory_order_relaxed)) start(c);
  }

  Io tls_status(Conn& c, int r) {
    switch (SSL_get_error(c.ssl, r)) {
      case SSL_ERROR_WANT_READ: return Io::want_read;
      case SSL_ERROR_WANT_WRITE: return Io::want_write;
      case SSL_ERROR_ZERO_RETURN: return Io::eof;
      case SSL_ERROR_SYSCALL:
        if (errno == 0 || errno == ECONNRESET || errno == EPIPE) return Io::eof;
        return Io::error;
      default: return Io::error;
    }
  }

  Io read_some(Conn& c, char* buf, std::size_t cap, std::size_t& got) {
    got = 0;
    if (c.ssl) {
      ERR_clear_error();
      errno = 0;
      const int r = SSL_read(c.ssl, buf, static_cast<int>(cap));
      if (r > 0) {
        got = static_cast<std::size_t>(r);
        return Io::ok;
      }
      return tls_status(c, r);
    }
    const ssize_t r = ::recv(c.fd, buf, cap, 0);
    if (r > 0) {
      got = static_cast<std::size_t>(r);
      return Io::ok;
    }
    if (r == 0) return Io::eof;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::want_read;
    if (errno == ECONNRESET) return Io::eof;
    return Io::error;
  }

  // Writes the rest of c.out.
  Io flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      if (c.ssl) {
        ERR_clear_error();
        errno = 0;
        const int r = SSL_write(c.ssl, c.out.data() + c.out_off, static_cast<int>(c.out.size() - c.out_off));
        if (r <= 0) return tls_status(c, r);
        c.out_off += static_cast<std::size_t>(r);
      } else {
        const ssize_t r = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (r < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::want_write;
          return Io::error;
        }
        c.out_off += static_cast<std::size_t>(r);
      }
    }
    return Io::ok;
  }

  void note_negotiated(Conn& c) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - c.start).count();
    std::lock_guard lock(sh_.mu);
    if (sh_.handshake_ms.size() < 200000) sh_.handshake_ms.push_back(ms);
    if (sh_.negotiated || !c.ssl) return;
    Negotiated n;
    n.version = SSL_get_version(c.ssl);
    n.cipher = SSL_get_cipher_name(c.ssl);
    const int group = SSL_get_negotiated_group(c.ssl);
    if (const char* g = SSL_group_to_name(c.ssl, group)) n.group = g;
    int nid = 0;
    if (SSL_get_peer_signature_type_nid(c.ssl, &nid) == 1) n.peer_sig = OBJ_nid2sn(nid);
    if (X509* cert = SSL_get1_peer_certificate(c.ssl)) {
      EVP_PKEY* pk = X509_get0_pubkey(cert);
      if (pk) n.peer_sig += std::string(" / key ") + EVP_PKEY_get0_type_name(pk) + "-" +
                            std::to_string(EVP_PKEY_get_bits(pk));
      X509_free(cert);
    }
    sh_.negotiated = n;
  }

  void begin_request(Conn& c) {
    const std::string id = "TB" + std::to_string(cfg_.thread_index) + "_" + std::to_string(c.slot);
    c.out = "GET /ocpp/" + id + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(cfg_.port) +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n" +
            (cfg_.basic_auth ? "Authorization: Basic " + base64(id + ":bench-password") + "\r\n" : std::string()) +
            "\r\n";
    c.out_off = 0;
    c.state = State::send_request;
  }

  void step(Conn& c) {
    if (c.fd < 0) return;
    for (;;) {
      switch (c.state) {
        case State::connecting: {
          int err = 0;
          socklen_t len = sizeof err;
          ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err == EINPROGRESS) return;
          if (err != 0) return fail(c, std::string("connect: ") + std::strerror(err));
          if (cfg_.ctx) {
            c.ssl = SSL_new(cfg_.ctx);
            if (!c.ssl) die("SSL_new: " + openssl_error());
            SSL_set_fd(c.ssl, c.fd);
            SSL_set_connect_state(c.ssl);
            c.state = State::handshake;
          } else {
            note_negotiated(c);
            begin_request(c);
          }
          continue;
        }
        case State::handshake: {
          ERR_clear_error();
          errno = 0;
          const int r = SSL_do_handshake(c.ssl);
          if (r == 1) {
            note_negotiated(c);
            if (cfg_.mode == Mode::upgrade) begin_request(c);
            else c.state = State::shutdown;
            continue;
          }
          switch (tls_status(c, r)) {
            case Io::want_read: return want(c, EPOLLIN);
            case Io::want_write: return want(c, EPOLLOUT);
            default: return fail(c, "TLS handshake: " + openssl_error() + " errno " + std::to_string(errno));
          }
        }
        case State::send_request:
        case State::send_close: {
          switch (flush(c)) {
            case Io::ok:
              c.state = c.state == State::send_request ? State::read_response : State::drain;
              want(c, EPOLLIN);
              continue;
            case Io::want_read: return want(c, EPOLLIN);
            case Io::want_write: return want(c, EPOLLOUT);
            default: return fail(c, "write failed: " + openssl_error());
          }
        }
        case State::read_response: {
          char buf[4096];
          std::size_t got = 0;
          const Io io = read_some(c, buf, sizeof buf, got);
          if (io == Io::ok) {
            c.in.append(buf, got);
            const auto end = c.in.find("\r\n\r\n");
            if (end == std::string::npos) {
              if (c.in.size() > 16384) return fail(c, "response header too long");
              continue;
            }
            if (c.in.compare(0, 12, "HTTP/1.1 101") != 0)
              return fail(c, "upgrade refused: " + c.in.substr(0, c.in.find("\r\n")));
            // A masked close frame, status 1000 (mask 0 keeps the payload as is).
            static const char close_frame[] = {'\x88', '\x82', 0, 0, 0, 0, '\x03', '\xe8'};
            c.out.assign(close_frame, sizeof close_frame);
            c.out_off = 0;
            c.state = State::send_close;
            continue;
          }
          if (io == Io::want_read) return want(c, EPOLLIN);
          if (io == Io::want_write) return want(c, EPOLLOUT);
          return fail(c, io == Io::eof ? "closed before the 101" : "read failed: " + openssl_error());
        }
        case State::shutdown: {
          ERR_clear_error();
          const int r = SSL_shutdown(c.ssl);  // 0: our close_notify is sent
          if (r < 0) {
            const Io io = tls_status(c, r);
            if (io == Io::want_write) return want(c, EPOLLOUT);
            if (io == Io::want_read) return want(c, EPOLLIN);
          }
          ::shutdown(c.fd, SHUT_WR);
          c.state = State::drain;
          want(c, EPOLLIN);
          continue;
        }
        case State::drain: {
          // Until the server closes: it has then finished with this connection.
          char buf[4096];
          std::size_t got = 0;
          Io io;
          if (c.ssl && SSL_get_shutdown(c.ssl) & SSL_SENT_SHUTDOWN) {
            // After our close_notify SSL_read still works for reading theirs; read the raw
            // socket when OpenSSL refuses.
            ERR_clear_error();
            errno = 0;
            const int r = SSL_read(c.ssl, buf, sizeof buf);
            if (r > 0) io = Io::ok;
            else {
              io = tls_status(c, r);
              if (io == Io::error) {
                const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
                if (n > 0) io = Io::ok;
                else if (n == 0) io = Io::eof;
                else io = (errno == EAGAIN) ? Io::want_read : (errno == ECONNRESET ? Io::eof : Io::error);
              }
            }
          } else {
            io = read_some(c, buf, sizeof buf, got);
          }
          if (io == Io::ok) continue;
          if (io == Io::want_read) return want(c, EPOLLIN);
          if (io == Io::want_write) return want(c, EPOLLOUT);
          if (io == Io::eof) return finish(c);
          return fail(c, "drain: " + openssl_error() + " errno " + std::to_string(errno));
        }
      }
    }
  }

  LoadConfig cfg_;
  Shared& sh_;
  int ep_ = -1;
  std::vector<Conn> conns_;
};

// ---------------------------------------------------------------------------------------------
// Process accounting and the machine's idleness.

// CPU time of every thread of `pid`, in ns (schedstat), or -1.
double proc_cpu_ns(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  double total = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name + "/schedstat");
    double ns = 0;
    if (in >> ns) total += ns;
  }
  closedir(d);
  return total;
}

// utime + stime of `pid` (all threads) in seconds, from /proc/<pid>/stat: a cross-check.
double proc_cpu_stat_s(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), {});
  const auto close = s.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long proc_rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

double thread_cpu_s(pthread_t t) {
  clockid_t id;
  if (pthread_getcpuclockid(t, &id) != 0) return 0;
  timespec ts{};
  clock_gettime(id, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double cpu_busy_pct(double seconds) {
  auto read = [] {
    std::ifstream in("/proc/stat");
    std::string cpu;
    std::vector<double> v;
    in >> cpu;
    double x;
    for (int i = 0; i < 10 && in >> x; ++i) v.push_back(x);
    return v;
  };
  const auto a = read();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto b = read();
  double total = 0, idle = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const double d = b[i] - a[i];
    total += d;
    if (i == 3 || i == 4) idle += d;  // idle, iowait
  }
  return total > 0 ? 100 * (total - idle) / total : 0;
}

double loadavg1() {
  std::ifstream in("/proc/loadavg");
  double l = 0;
  in >> l;
  return l;
}

struct IdleInfo {
  bool ok = false;
  double busy = 0;
  double load = 0;
};

IdleInfo wait_idle(double max_wait_s, double max_busy) {
  IdleInfo info;
  const auto deadline = Clock::now() + std::chrono::duration<double>(max_wait_s);
  int in_a_row = 0;
  for (;;) {
    info.busy = cpu_busy_pct(3);
    info.load = loadavg1();
    if (info.busy < max_busy) {
      if (++in_a_row >= 2) {
        info.ok = true;
        return info;
      }
      continue;
    }
    in_a_row = 0;
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "tls_bench: WARNING: machine still busy (%.1f%%, load %.2f); measuring anyway\n", info.busy,
                   info.load);
      return info;
    }
    std::fprintf(stderr, "tls_bench: machine busy (%.1f%% CPU, load %.2f); waiting...\n", info.busy, info.load);
    std::this_thread::sleep_for(std::chrono::seconds(5));
  }
}

// ---------------------------------------------------------------------------------------------
// One server child process.

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
  std::uint16_t port = 0;
};

Child spawn_server(const std::string& certs, const CaseSpec& c, bool pin) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) die("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  std::vector<std::string> args = {"tls_bench", "serve",   "--certs", certs, "--key", c.key.empty() ? "ecdsa" : c.key,
                                   "--profile", std::to_string(c.profile), "--threads", "1"};
  if (c.raw)
    args = {"tls_bench", "rawserve",  "--certs", certs, "--key", c.key, "--profile", std::to_string(c.profile),
            "--tickets", std::to_string(c.tickets)};
  if (c.profile == 3 && !c.raw) args.push_back("--no-binding");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child child;
  if (posix_spawn(&child.pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ) != 0) die("posix_spawn");
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  child.out_fd = pipefd[0];
  if (pin) pin_to_cpu(child.pid, 0);
  std::string line;
  char ch;
  while (::read(child.out_fd, &ch, 1) == 1) {
    if (ch == '\n') {
      if (line.rfind("LISTENING ", 0) == 0) {
        child.port = static_cast<std::uint16_t>(std::stoi(line.substr(10)));
        break;
      }
      line.clear();
    } else {
      line += ch;
    }
  }
  if (!child.port) die("server did not start (case " + c.name + ")");
  return child;
}

void stop_server(Child& child) {
  if (child.pid <= 0) return;
  kill(child.pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status;
    if (waitpid(child.pid, &status, WNOHANG) == child.pid) {
      child.pid = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (child.pid > 0) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
    child.pid = -1;
  }
  ::close(child.out_fd);
}

// ---------------------------------------------------------------------------------------------
// The benchmark driver.

struct Options {
  std::vector<std::string> cases;
  int runs = 3;
  double seconds = 10;
  double warmup = 2;
  std::size_t concurrency = 32;
  int client_threads = 1;
  bool pin = true;
  double idle_wait = 300;
  double idle_max_busy = 10;
  std::string json_out;
  std::string certs;
};

json::object run_case(const Options& o, const CaseSpec& c, int run) {
  const IdleInfo idle = wait_idle(o.idle_wait, o.idle_max_busy);
  Child child = spawn_server(o.certs, c, o.pin);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long rss_start = proc_rss_kb(child.pid);

  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(nullptr, SSL_CTX_free);
  if (c.tls_version) {
    ctx.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX* x = ctx.get();
    SSL_CTX_set_min_proto_version(x, c.tls_version);
    SSL_CTX_set_max_proto_version(x, c.tls_version);
    SSL_CTX_set_verify(x, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(x, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_cipher_list(x, std::string(ocpp::kOcppCipherList).c_str());
    SSL_CTX_set_ciphersuites(x, std::string(ocpp::kOcppCipherSuitesTls13).c_str());
    if (c.profile == 3) {
      const fs::path dir(o.certs);
      if (SSL_CTX_use_certificate_chain_file(x, (dir / "client-CP001.pem").c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(x, (dir / "client-CP001.key").c_str(), SSL_FILETYPE_PEM) != 1)
        die("cannot load the client certificate: " + openssl_error());
    }
  }

  Shared shared;
  std::vector<std::thread> threads;
  std::vector<pthread_t> handles;
  for (int t = 0; t < o.client_threads; ++t) {
    LoadConfig lc;
    lc.port = child.port;
    lc.ctx = ctx.get();
    lc.mode = c.mode;
    lc.concurrency = std::max<std::size_t>(1, o.concurrency / static_cast<std::size_t>(o.client_threads));
    lc.thread_index = t;
    lc.basic_auth = c.profile == 2;
    threads.emplace_back([lc, &shared, pin = o.pin] {
      if (pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(std::thread::hardware_concurrency() > 1 ? 1 : 0, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      }
      Loader(lc, shared).run();
    });
    handles.push_back(threads.back().native_handle());
  }
  auto client_cpu = [&] {
    double s = 0;
    for (auto h : handles) s += thread_cpu_s(h);
    return s;
  };

  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  const std::uint64_t n0 = shared.completed.load();
  const std::uint64_t f0 = shared.failed.load();
  const double s0 = proc_cpu_ns(child.pid), st0 = proc_cpu_stat_s(child.pid), c0 = client_cpu();
  const auto t0 = Clock::now();
  {
    std::lock_guard lock(shared.mu);
    shared.handshake_ms.clear();
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const std::uint64_t n1 = shared.completed.load();
  const std::uint64_t f1 = shared.failed.load();
  const double s1 = proc_cpu_ns(child.pid), st1 = proc_cpu_stat_s(child.pid), c1 = client_cpu();
  const auto t1 = Clock::now();
  const long rss_end = proc_rss_kb(child.pid);
  shared.stop = true;
  for (auto& t : threads) t.join();
  const bool alive = kill(child.pid, 0) == 0;
  stop_server(child);

  const double wall = std::chrono::duration<double>(t1 - t0).count();
  const double n = static_cast<double>(n1 - n0);
  const double server_us = n > 0 ? (s1 - s0) / 1e3 / n : NAN;
  const double server_us_stat = n > 0 ? (st1 - st0) * 1e6 / n : NAN;
  std::vector<double> lat;
  {
    std::lock_guard lock(shared.mu);
    lat = shared.handshake_ms;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? NAN : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))]; };
  json::object r;
  r["case"] = c.name;
  r["run"] = run;
  r["completed"] = n1 - n0;
  r["failed"] = f1 - f0;
  r["failed_total"] = shared.failed.load();
  r["first_error"] = shared.first_error;
  r["wall_s"] = wall;
  r["per_s_wall"] = n / wall;
  r["server_cpu_s"] = (s1 - s0) / 1e9;
  r["server_cpu_us_per_conn"] = server_us;
  r["server_cpu_us_per_conn_stat"] = server_us_stat;
  r["per_s_per_server_core"] = 1e6 / server_us;
  r["server_util"] = (s1 - s0) / 1e9 / wall;
  r["client_cpu_us_per_conn"] = n > 0 ? (c1 - c0) * 1e6 / n : NAN;
  r["client_util"] = (c1 - c0) / wall;
  r["handshake_ms_p50"] = pct(0.5);
  r["handshake_ms_p99"] = pct(0.99);
  r["server_rss_kb_start"] = rss_start;
  r["server_rss_kb_end"] = rss_end;
  r["server_alive"] = alive;
  r["idle_ok"] = idle.ok;
  r["busy_pct_before"] = idle.busy;
  r["load1_before"] = idle.load;
  if (shared.negotiated) {
    r["tls_version"] = shared.negotiated->version;
    r["cipher"] = shared.negotiated->cipher;
    r["group"] = shared.negotiated->group;
    r["server_signature"] = shared.negotiated->peer_sig;
  }
  return r;
}

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double num(const json::value& v) { return v.is_double() ? v.as_double() : v.is_int64() ? double(v.as_int64()) : v.is_uint64() ? double(v.as_uint64()) : NAN; }

std::string run_cmd(const std::string& cmd) {
  std::string out;
  if (std::FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

int bench(Options o) {
  if (o.cases.empty())
    o.cases = {"ecdsa-1.3-handshake",     "ecdsa-1.3-handshake-raw", "rsa-1.3-handshake", "rsa-1.3-handshake-raw",
               "ecdsa-1.2-handshake",     "ecdsa-1.2-handshake-raw", "rsa-1.2-handshake", "rsa-1.2-handshake-raw",
               "ecdsa-1.3-upgrade",       "rsa-1.3-upgrade",         "ecdsa-1.3-handshake-p3",
               "ecdsa-1.3-handshake-p3-raw", "plain-upgrade"};
  std::vector<CaseSpec> specs;
  for (const auto& name : o.cases) specs.push_back(parse_case(name));
  const CertsDir certs(o.certs);
  o.certs = certs.path;
  const fs::path dir(o.certs);
  std::fprintf(stderr, "tls_bench: signing speed with the certificates' keys (CPU 1 core)...\n");
  const double ecdsa_signs = signs_per_second((dir / "server-ecdsa.key").string(), 2);
  const double rsa_signs = signs_per_second((dir / "server-rsa.key").string(), 2);

  json::array runs;
  for (int r = 1; r <= o.runs; ++r) {
    for (const auto& c : specs) {
      auto res = run_case(o, c, r);
      std::fprintf(stderr, "tls_bench: %s\n", json::serialize(res).c_str());
      runs.push_back(std::move(res));
    }
  }

  json::object summary;
  for (const auto& c : specs) {
    std::vector<double> cpu, rate, wall, ccpu, p50, util;
    std::uint64_t failed = 0, completed_min = UINT64_MAX;
    bool idle = true, alive = true;
    json::object neg;
    for (const auto& v : runs) {
      const auto& r = v.as_object();
      if (r.at("case").as_string() != c.name) continue;
      cpu.push_back(num(r.at("server_cpu_us_per_conn")));
      rate.push_back(num(r.at("per_s_per_server_core")));
      wall.push_back(num(r.at("per_s_wall")));
      ccpu.push_back(num(r.at("client_cpu_us_per_conn")));
      p50.push_back(num(r.at("handshake_ms_p50")));
      util.push_back(num(r.at("server_util")));
      failed += static_cast<std::uint64_t>(num(r.at("failed")));
      completed_min = std::min<std::uint64_t>(completed_min, static_cast<std::uint64_t>(num(r.at("completed"))));
      idle = idle && r.at("idle_ok").as_bool();
      alive = alive && r.at("server_alive").as_bool();
      if (neg.empty())
        for (const char* k : {"tls_version", "cipher", "group", "server_signature"})
          if (r.contains(k)) neg[k] = r.at(k);
    }
    json::object s;
    s["server_cpu_us_per_conn"] = median(cpu);
    s["per_s_per_server_core"] = median(rate);
    s["per_s_wall"] = median(wall);
    s["client_cpu_us_per_conn"] = median(ccpu);
    s["handshake_ms_p50"] = median(p50);
    s["server_util"] = median(util);
    s["failed"] = failed;
    s["completed_min"] = completed_min;
    s["all_idle"] = idle;
    s["all_alive"] = alive;
    s["negotiated"] = neg;
    summary[c.name] = s;
  }

  json::object env;
  env["date"] = run_cmd("date -u +%Y-%m-%dT%H:%M:%SZ");
  env["cpu_model"] = run_cmd("sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1");
  env["host_cpus"] = std::thread::hardware_concurrency();
  env["kernel"] = run_cmd("uname -r");
  env["openssl"] = OpenSSL_version(OPENSSL_VERSION);
  env["git_head"] = run_cmd("git -C '" OCPP_SOURCE_DIR "' rev-parse --short HEAD 2>/dev/null");
  json::object config;
  config["seconds"] = o.seconds;
  config["warmup"] = o.warmup;
  config["concurrency"] = o.concurrency;
  config["client_threads"] = o.client_threads;
  config["pinned"] = o.pin;
  config["server_threads"] = 1;
  config["statistic"] = "median";
  json::object ceiling;
  ceiling["ecdsa_p256_signs_per_s_per_core"] = ecdsa_signs;
  ceiling["rsa2048_signs_per_s_per_core"] = rsa_signs;
  json::object out{{"env", env}, {"config", config}, {"sign_speed", ceiling}, {"summary", summary}, {"runs", runs}};
  if (!o.json_out.empty()) {
    std::ofstream f(o.json_out);
    f << json::serialize(out) << "\n";
  }

  std::printf("tls_bench: %s, %s, %u CPUs, %s; server 1 I/O thread%s; %zu connections in flight; %.0f s per run; "
              "median of %d\n",
              env["date"].as_string().c_str(), env["cpu_model"].as_string().c_str(), std::thread::hardware_concurrency(),
              OpenSSL_version(OPENSSL_VERSION), o.pin ? " pinned to CPU 0, clients on CPU 1" : "", o.concurrency,
              o.seconds, o.runs);
  std::printf("signatures per CPU-second with these keys: ECDSA P-256 %.0f, RSA-2048 %.0f\n", ecdsa_signs, rsa_signs);
  std::printf("%-24s %12s %14s %10s %11s %10s %8s  %s\n", "case", "server us", "per core /s", "wall /s", "client us",
              "p50 ms", "failed", "negotiated");
  for (const auto& c : specs) {
    const auto& s = summary.at(c.name).as_object();
    std::string neg;
    for (const auto& [k, v] : s.at("negotiated").as_object()) neg += (neg.empty() ? "" : ", ") + std::string(v.as_string());
    std::printf("%-24s %12.1f %14.0f %10.0f %11.1f %10.2f %8llu  %s%s\n", c.name.c_str(),
                num(s.at("server_cpu_us_per_conn")), num(s.at("per_s_per_server_core")), num(s.at("per_s_wall")),
                num(s.at("client_cpu_us_per_conn")), num(s.at("handshake_ms_p50")),
                static_cast<unsigned long long>(num(s.at("failed"))), neg.c_str(),
                s.at("all_idle").as_bool() ? "" : " [machine NOT idle]");
  }
  return 0;
}

[[noreturn]] void usage(int code) {
  std::fprintf(stderr,
               "usage: tls_bench [--case NAME]... [--runs 3] [--seconds 10] [--warmup 2] [--concurrency 32]\n"
               "                 [--client-threads 1] [--no-pin] [--idle-wait 300] [--idle-max-busy 10]\n"
               "                 [--json-out FILE] [--certs DIR]\n"
               "       tls_bench serve --certs DIR [--key ecdsa|rsa|both] [--profile 0|2|3] [--no-binding]\n"
               "                 [--host 127.0.0.1] [--port 0] [--threads 1]\n"
               "       tls_bench rawserve --certs DIR [--key ecdsa|rsa] [--profile 2|3] [--tickets N] [--host H] [--port P]\n"
               "       tls_bench certs --out DIR\n"
               "       tls_bench speed [--certs DIR] [--seconds 2]\n"
               "       tls_bench sslmem [--certs DIR] [--count 1000]\n"
               "cases: <ecdsa|rsa>-<1.3|1.2>-<handshake|upgrade>[-p3][-raw[-t0]], plain-upgrade (raw: handshake\n"
               "       only; t0: the raw server sends no TLS 1.3 session tickets)\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "sslmem")  // before OpenSSL allocates anything
    CRYPTO_set_mem_functions(sslmem::alloc, sslmem::resize, sslmem::release);
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto value = [&](std::size_t& i) -> const std::string& {
    if (i + 1 >= args.size()) usage(2);
    return args[++i];
  };
  const std::string cmd = args.empty() ? "" : args[0];
  if (cmd == "serve" || cmd == "rawserve") {
    const bool raw = cmd == "rawserve";
    ServeArgs a;
    for (std::size_t i = 1; i < args.size(); ++i) {
      const auto& k = args[i];
      if (k == "--certs") a.certs = value(i);
      else if (k == "--key") a.key = value(i);
      else if (k == "--profile") a.profile = std::stoi(value(i));
      else if (k == "--host") a.host = value(i);
      else if (k == "--port") a.port = static_cast<std::uint16_t>(std::stoi(value(i)));
      else if (!raw && k == "--no-binding") a.binding = false;
      else if (!raw && k == "--threads") a.threads = std::stoul(value(i));
      else if (raw && k == "--tickets") a.tickets = std::stoi(value(i));
      else usage(2);
    }
    if (raw) {
      if (a.certs.empty()) die("rawserve: --certs DIR is required");
      return rawserve(a);
    }
    if (a.profile >= 2 && a.certs.empty()) die("serve: --certs DIR is required for profiles 2 and 3");
    return serve(a);
  }
  if (cmd == "certs") {
    std::string out;
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--out") out = value(i);
      else usage(2);
    }
    if (out.empty()) usage(2);
    fs::create_directories(out);
    for (const auto& p : ocpp::tls::write_demo_set(out, "CP001")) std::printf("%s\n", p.c_str());
    return 0;
  }
  if (cmd == "sslmem" || cmd == "speed") {
    // [--certs DIR] and one number: sslmem --count (1000), speed --seconds (2).
    const bool mem = cmd == "sslmem";
    std::string certs;
    double number = mem ? 1000 : 2;
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--certs") certs = value(i);
      else if (args[i] == (mem ? "--count" : "--seconds")) number = std::stod(value(i));
      else usage(2);
    }
    const CertsDir dir(certs);
    if (mem) return sslmem::run(dir.path, static_cast<int>(number));
    std::printf("ECDSA P-256 signs/s per core: %.0f\n", signs_per_second(dir.path + "/server-ecdsa.key", number));
    std::printf("RSA-2048 signs/s per core: %.0f\n", signs_per_second(dir.path + "/server-rsa.key", number));
    return 0;
  }
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& k = args[i];
    if (k == "-h" || k == "--help") usage(0);
    else if (k == "--case") o.cases.push_back(value(i));
    else if (k == "--runs") o.runs = std::stoi(value(i));
    else if (k == "--seconds") o.seconds = std::stod(value(i));
    else if (k == "--warmup") o.warmup = std::stod(value(i));
    else if (k == "--concurrency") o.concurrency = std::stoul(value(i));
    else if (k == "--client-threads") o.client_threads = std::max(1, std::stoi(value(i)));
    else if (k == "--no-pin") o.pin = false;
    else if (k == "--idle-wait") o.idle_wait = std::stod(value(i));
    else if (k == "--idle-max-busy") o.idle_max_busy = std::stod(value(i));
    else if (k == "--json-out") o.json_out = value(i);
    else if (k == "--certs") o.certs = value(i);
    else usage(2);
  }
  if (std::thread::hardware_concurrency() < 2) o.pin = false;
  return bench(std::move(o));
}
