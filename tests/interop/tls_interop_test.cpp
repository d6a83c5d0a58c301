// Security profiles 2 (wss + Basic Auth) and 3 (wss + client certificate) on the wire against the
// real JavaScript libraries, driven through tests/interop/peers/peer.mjs: ocpp-ws-io@2.3.2, which
// has security profiles of its own, and ocpp-rpc@2.2.1, which does TLS through `ws` options (the
// peer gives its server an https listener).
//
// The certificates are made by the test process with ocpp::tls (a CA, RSA and ECDSA server
// certificates for 127.0.0.1, client certificates whose CN is an identity, and a foreign CA's
// server and client certificates), so nothing depends on files checked in or on the clock of the
// day they were made. Every test asserts an outcome a broken TLS layer would change: a
// BootNotification answered across the connection, a handshake field, or a refusal.
//
// As in interop_test.cpp, the io_context runs on a background thread and the test thread waits on
// futures, peer events and a condition variable; nothing sleeps.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "ocpp/ocpp.hpp"
#include "ocpp/server/basic_auth.hpp"
#include "ocpp/tls/certs.hpp"
#include "ocpp/tls/tls.hpp"
#include "support/cert_dir.hpp"
#include "peer.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace interop;
using ocpp::SecurityProfile;

constexpr const char* kProtocol = "ocpp2.0.1";
constexpr const char* kIdentity = "CP-1";
constexpr const char* kOtherIdentity = "CP-2";
constexpr const char* kPassword = "right:password-16";  // a colon, and the 16 bytes OCPP asks for
constexpr const char* kCaName = ocpp_test::CertDir::kCaName;
constexpr const char* kCurrentTime = "2026-01-01T00:00:00Z";  // only our server answers with it

const std::string kWsIo = "ocpp-ws-io";
const std::string kRpc = "ocpp-rpc";

// The suites OCPP allows (2.0.1 part 2 A00.FR.318 for TLS 1.2, plus TLS 1.3's AES-GCM ones),
// spelled out here rather than taken from the library, so the test does not check it against
// itself. Names as Node reports them.
const std::vector<std::string> kOcppCipherNames = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",   "AES128-GCM-SHA256",             "AES256-GCM-SHA384",
    "TLS_AES_128_GCM_SHA256",        "TLS_AES_256_GCM_SHA384",
};

// ------------------------------------------------------------------ certificates

// One set per test process. Stems name a certificate (<stem>.pem) and its key (<stem>.key); the
// foreign ones have the same names as the trusted ones: only the issuer tells them apart.
class InteropCerts : public ocpp_test::CertDir {
 public:
  InteropCerts() : CertDir("tls-interop") {
    issue("server-rsa", server(ocpp::tls::KeyType::rsa2048));
    issue("server-ecdsa", server(ocpp::tls::KeyType::ecdsa_p256));
    issue(client_stem(kIdentity), client(kIdentity));
    issue(client_stem(kOtherIdentity), client(kOtherIdentity));
    issue("foreign-server", server(ocpp::tls::KeyType::ecdsa_p256), true);
    issue("foreign-" + client_stem(kIdentity), client(kIdentity), true);
  }
  static std::string client_stem(const std::string& identity) { return "client-" + identity; }
};

// Made on first use, so tests of interop_test.cpp in the same executable do not pay for it;
// a failure throws into the test that asked and is tried again by the next.
const InteropCerts& certs() {
  static const InteropCerts dir;
  return dir;
}

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \r\n\t");
  const auto last = s.find_last_not_of(" \r\n\t");
  return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ------------------------------------------------------------------ fixture

// The handshakes our server accepted, copied on the io thread, read on the test thread.
class SeenHandshakes {
 public:
  void add(ocpp::HandshakeInfo info) {
    std::lock_guard lock(m_);
    seen_.push_back(std::move(info));
    cv_.notify_all();
  }
  ocpp::HandshakeInfo first() {
    std::unique_lock lock(m_);
    if (!cv_.wait_for(lock, kEventTimeout, [&] { return !seen_.empty(); })) throw Abort("ours: no on_client callback");
    return seen_.front();
  }
  std::size_t count() {
    std::lock_guard lock(m_);
    return seen_.size();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<ocpp::HandshakeInfo> seen_;
};

const json::object kBootRequest{{"reason", "PowerUp"}, {"chargingStation", {{"model", "m"}, {"vendorName", "v"}}}};

class TlsInterop : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (auto problem = peers_problem(); !problem.empty()) GTEST_FAIL() << problem;
    certs();
  }

  void TearDown() override {
    if (client_ && io_thread_.running()) {
      auto f = client_->close(ocpp::CloseOptions{1000, "", false, false}, asio::use_future);
      if (f.wait_for(5s) != std::future_status::ready) ADD_FAILURE() << "Client::close did not complete in 5 s";
    }
    if (peer_) {
      peer_->stop();
      if (!HasFailure() && !peer_->exited_cleanly()) ADD_FAILURE() << "the peer did not exit with code 0";
      // OCPP_INTEROP_VERBOSE=1 prints the transcript of passing tests too.
      if (HasFailure() || std::getenv("OCPP_INTEROP_VERBOSE")) std::cerr << peer_->dump();
    }
    if (server_ && io_thread_.running()) {
      auto f = server_->close(ocpp::CloseOptions{1001, "", false, false}, asio::use_future);
      if (f.wait_for(5s) != std::future_status::ready) ADD_FAILURE() << "Server::close did not complete in 5 s";
    }
    drain_io();
  }

  static std::string cert(const std::string& stem) { return certs().cert(stem); }
  static std::string key(const std::string& stem) { return certs().key(stem); }
  static std::string client_stem(const std::string& identity) { return InteropCerts::client_stem(identity); }

  void start_io() { io_thread_.start(); }

  void drain_io() { io_thread_.drain(); }

  // Everything already queued on the io thread has run (on_client included).
  void io_barrier() {
    auto p = std::make_shared<std::promise<void>>();
    auto f = p->get_future();
    asio::post(io_, [p] { p->set_value(); });
    if (f.wait_for(kEventTimeout) != std::future_status::ready) throw Abort("ours: io_context barrier timed out");
  }

  // ---- their client → our server

  // Our server on 127.0.0.1 serving an RSA and an ECDSA certificate side by side; profile 2 knows
  // kIdentity's password, profile 3 trusts client certificates of the test CA (CN = identity).
  void start_our_server(SecurityProfile profile) {
    ocpp::ServerOptions so;
    so.protocols = {kProtocol};
    server_.emplace(io_.get_executor(), so);
    if (profile == SecurityProfile::tls_basic_auth)
      server_->auth(ocpp::basic_auth([](std::string_view identity) -> std::optional<std::string> {
        if (identity == kIdentity) return std::string(kPassword);
        return std::nullopt;
      }));
    server_->handle("BootNotification", [](ocpp::CallContext&) -> ocpp::HandlerResult {
      return json::object{{"currentTime", kCurrentTime}, {"interval", 300}, {"status", "Accepted"}};
    });
    server_->on_client(
        [this](const std::shared_ptr<ocpp::ServerClient>& c) { seen_.add(c->handshake()); });
    ocpp::ListenOptions lo;
    lo.host = "127.0.0.1";
    lo.profile = profile;
    lo.tls.certificates = {{cert("server-rsa"), key("server-rsa"), ""},
                           {cert("server-ecdsa"), key("server-ecdsa"), ""}};
    if (profile == SecurityProfile::tls_client_cert) lo.tls.ca_file = cert("ca");
    port_ = server_->listen(lo);
    start_io();
  }

  // Their client, trusting the test CA, to wss://127.0.0.1:<our port>/CP-1; its first
  // connection outcome (`open` with the TLS facts, or `connect_error`).
  json::object start_their_client(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"client",     "--lib",        GetParam(), "--url",
                                  "wss://127.0.0.1:" + std::to_string(port_),
                                  "--identity", kIdentity,      "--protocols", kProtocol,
                                  "--no-reconnect", "--tls-ca", cert("ca")};
    args.insert(args.end(), extra.begin(), extra.end());
    peer_ = std::make_unique<Peer>(args);
    return peer_->wait(event_in({"open", "connect_error", "fatal"}), "connection outcome");
  }

  // Their BootNotification reaches our handler and our answer reaches them.
  void expect_their_boot_accepted() {
    auto r = peer_->call("BootNotification", kBootRequest);
    ASSERT_EQ(str(r, "event"), "result") << r;
    const json::object payload = obj(at(r, "payload"));
    EXPECT_EQ(str(payload, "status"), "Accepted") << r;
    EXPECT_EQ(str(payload, "currentTime"), kCurrentTime) << "not our server's answer: " << r;
  }

  void expect_no_client_reached_us() {
    io_barrier();
    EXPECT_EQ(seen_.count(), 0u) << "on_client ran for a refused connection";
    EXPECT_EQ(server_->client_count(), 0u);
  }

  // ---- our client → their server

  // Their server on 127.0.0.1 with the certificate `server_stem`; profile 3 requires a client
  // certificate of the test CA. Returns our endpoint for it.
  std::string start_their_server(SecurityProfile profile, const std::string& server_stem,
                                 const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"server",      "--lib",     GetParam(),         "--protocols",
                                  kProtocol,     "--security-profile", std::to_string(static_cast<int>(profile)),
                                  "--tls-cert",  cert(server_stem),   "--tls-key", key(server_stem)};
    if (profile == SecurityProfile::tls_client_cert) args.insert(args.end(), {"--tls-ca", cert("ca")});
    args.insert(args.end(), extra.begin(), extra.end());
    peer_ = std::make_unique<Peer>(args);
    auto ev = peer_->wait(event_in({"listening", "listen_error", "fatal"}), "listening");
    if (str(ev, "event") != "listening") throw Abort("the peer server did not start: " + json::serialize(ev));
    return "wss://127.0.0.1:" + str(ev, "port");
  }

  using Credentials = std::function<void(ocpp::ClientOptions&)>;
  static Credentials password(std::string pw) {
    return [pw = std::move(pw)](ocpp::ClientOptions& co) { co.password = pw; };
  }
  static Credentials client_certificate(const std::string& stem) {
    return [stem](ocpp::ClientOptions& co) {
      co.tls.cert_file = cert(stem);
      co.tls.key_file = key(stem);
    };
  }

  // Our client trusting the test CA; `credentials` adds the password or certificate. Starts the
  // io thread.
  std::future<void> connect_our_client(const std::string& endpoint, SecurityProfile profile,
                                       const Credentials& credentials) {
    ocpp::ClientOptions co;
    co.endpoint = endpoint;
    co.identity = kIdentity;
    co.protocols = {kProtocol};
    co.reconnect = false;
    co.security_profile = profile;
    co.tls.ca_file = cert("ca");
    credentials(co);
    client_ = ocpp::Client::create(io_.get_executor(), co);
    if (!io_thread_.running()) start_io();
    return client_->connect(asio::use_future);
  }

  void expect_connected(std::future<void>& f) {
    if (f.wait_for(kEventTimeout) != std::future_status::ready) throw Abort("ours: connect did not complete");
    f.get();  // rethrows ConnectError, which fails the test with its message
  }

  // The connection failed with ConnectError carrying `http_status` (0: no HTTP answer at all, as
  // when TLS refuses the peer).
  void expect_refused(std::future<void>& f, unsigned http_status) {
    ASSERT_EQ(f.wait_for(kEventTimeout), std::future_status::ready) << "connect did not complete";
    try {
      f.get();
      ADD_FAILURE() << "connected";
    } catch (const ocpp::ConnectError& e) {
      EXPECT_EQ(e.http_status(), http_status) << e.what();
      // The reason is worth reading when a refusal passes for the wrong cause.
      if (std::getenv("OCPP_INTEROP_VERBOSE"))
        std::cerr << "ConnectError (retryable " << e.retryable() << "): " << e.what() << "\n";
    } catch (const std::exception& e) {
      ADD_FAILURE() << "expected ConnectError, got " << typeid(e).name() << ": " << e.what();
    }
  }

  // Our BootNotification reaches their server and its built-in answer reaches us.
  void expect_our_boot_accepted() {
    auto f = client_->call("BootNotification", kBootRequest, asio::use_future);
    if (f.wait_for(kEventTimeout) != std::future_status::ready) throw Abort("ours: no answer to BootNotification");
    const json::value v = f.get();
    EXPECT_EQ(str(obj(v), "status"), "Accepted") << v;
    auto in = peer_->wait(event_is("inbound"), "their inbound BootNotification");
    EXPECT_EQ(str(in, "action"), "BootNotification") << in;
    EXPECT_EQ(at(in, "payload"), json::value(kBootRequest)) << in;
  }

  void expect_their_server_saw_no_client() {
    EXPECT_FALSE(peer_->has_unread("client")) << "their server accepted the connection";
    EXPECT_TRUE(peer_->connected().empty());
  }

  IoThread io_thread_;
  asio::io_context& io_ = io_thread_.context();
  std::unique_ptr<Peer> peer_;
  std::optional<ocpp::Server> server_;
  std::uint16_t port_ = 0;
  std::shared_ptr<ocpp::Client> client_;
  SeenHandshakes seen_;
};

std::string lib_name(const testing::TestParamInfo<std::string>& info) { return info.param == kWsIo ? "wsio" : "rpc"; }

// ------------------------------------------------------------------ their client → our server, profile 2

class TheirClientProfileTwo : public TlsInterop {};

TEST_P(TheirClientProfileTwo, BootsOverTlsWithBasicAuth) {
  start_our_server(SecurityProfile::tls_basic_auth);
  auto ev = start_their_client({"--password", kPassword});
  ASSERT_EQ(str(ev, "event"), "open") << ev;
  const json::object tls = obj(at(ev, "tls"));
  EXPECT_EQ(at(tls, "authorized"), json::value(true)) << "their client did not verify our chain: " << ev;
  EXPECT_EQ(str(obj(at(tls, "peer_cert")), "issuer_cn"), kCaName) << ev;
  EXPECT_NE(std::ranges::find(kOcppCipherNames, str(tls, "cipher")), kOcppCipherNames.end()) << ev;
  expect_their_boot_accepted();
  const ocpp::HandshakeInfo hs = seen_.first();
  EXPECT_EQ(hs.identity, kIdentity);
  EXPECT_EQ(hs.security_profile, SecurityProfile::tls_basic_auth);
  EXPECT_EQ(hs.password, std::optional<std::string>(kPassword));
  EXPECT_FALSE(hs.client_certificate.has_value()) << "profile 2 asks for no client certificate";
}

TEST_P(TheirClientProfileTwo, WrongPasswordIsRefused) {
  start_our_server(SecurityProfile::tls_basic_auth);
  auto ev = start_their_client({"--password", "wrong-password-16"});
  ASSERT_EQ(str(ev, "event"), "connect_error") << ev;
  EXPECT_EQ(at(ev, "status"), json::value(401)) << "TLS should pass and Basic Auth refuse: " << ev;
  expect_no_client_reached_us();
}

// With TLS 1.2 the cipher suite names the key type, so a client offering only RSA (or only
// ECDSA) suites must get the matching one of our two certificates.
class TheirClientPicksOurCertificate : public TlsInterop {
 protected:
  void boots_with_suite(const std::string& suite, const std::string& key_type) {
    start_our_server(SecurityProfile::tls_basic_auth);
    auto ev = start_their_client(
        {"--password", kPassword, "--tls-max-version", "TLSv1.2", "--tls-ciphers", suite});
    ASSERT_EQ(str(ev, "event"), "open") << ev;
    const json::object tls = obj(at(ev, "tls"));
    EXPECT_EQ(str(tls, "protocol"), "TLSv1.2") << ev;
    EXPECT_EQ(str(tls, "cipher"), suite) << ev;
    EXPECT_EQ(str(obj(at(tls, "peer_cert")), "key_type"), key_type) << ev;
    EXPECT_EQ(at(tls, "authorized"), json::value(true)) << ev;
    expect_their_boot_accepted();
  }
};

TEST_P(TheirClientPicksOurCertificate, RsaSuiteGetsTheRsaCertificate) {
  boots_with_suite("ECDHE-RSA-AES128-GCM-SHA256", "RSA");
}

TEST_P(TheirClientPicksOurCertificate, EcdsaSuiteGetsTheEcdsaCertificate) {
  boots_with_suite("ECDHE-ECDSA-AES256-GCM-SHA384", "EC");
}

// ------------------------------------------------------------------ their client → our server, profile 3

class TheirClientProfileThree : public TlsInterop {};

TEST_P(TheirClientProfileThree, CertificateOfTheIdentityBoots) {
  start_our_server(SecurityProfile::tls_client_cert);
  const std::string stem = client_stem(kIdentity);
  auto ev = start_their_client({"--security-profile", "3", "--tls-cert", cert(stem), "--tls-key", key(stem)});
  ASSERT_EQ(str(ev, "event"), "open") << ev;
  expect_their_boot_accepted();
  const ocpp::HandshakeInfo hs = seen_.first();
  EXPECT_EQ(hs.identity, kIdentity);
  EXPECT_EQ(hs.security_profile, SecurityProfile::tls_client_cert);
  EXPECT_FALSE(hs.password.has_value());
  ASSERT_TRUE(hs.client_certificate.has_value()) << "profile 3 without the client's certificate";
  const ocpp::PeerCertificate& pc = *hs.client_certificate;
  EXPECT_EQ(pc.common_name, kIdentity);
  EXPECT_NE(pc.subject.find(std::string("CN=") + kIdentity), std::string::npos) << pc.subject;
  EXPECT_NE(pc.issuer.find(kCaName), std::string::npos) << pc.issuer;
  EXPECT_EQ(trimmed(pc.pem), trimmed(read_file(cert(stem)))) << "not the certificate the client presented";
  EXPECT_EQ(pc.sha256_fingerprint.size(), 64u) << pc.sha256_fingerprint;
  EXPECT_LT(pc.not_before, std::chrono::system_clock::now());
  EXPECT_GT(pc.not_after, std::chrono::system_clock::now());
}

TEST_P(TheirClientProfileThree, CertificateOfAnotherIdentityIsRefused) {
  start_our_server(SecurityProfile::tls_client_cert);
  // A valid certificate of the same CA, but for CP-2, used to connect as CP-1.
  const std::string stem = client_stem(kOtherIdentity);
  auto ev = start_their_client({"--security-profile", "3", "--tls-cert", cert(stem), "--tls-key", key(stem)});
  ASSERT_EQ(str(ev, "event"), "connect_error") << ev;
  EXPECT_EQ(at(ev, "status"), json::value(403)) << "the chain is fine, the binding must refuse: " << ev;
  expect_no_client_reached_us();
}

TEST_P(TheirClientProfileThree, CertificateOfAnotherCaIsRefused) {
  start_our_server(SecurityProfile::tls_client_cert);
  const std::string stem = "foreign-" + client_stem(kIdentity);
  auto ev = start_their_client({"--security-profile", "3", "--tls-cert", cert(stem), "--tls-key", key(stem)});
  ASSERT_EQ(str(ev, "event"), "connect_error") << ev;
  EXPECT_FALSE(ev.contains("status")) << "refused after TLS instead of during it: " << ev;
  expect_no_client_reached_us();
}

TEST_P(TheirClientProfileThree, NoCertificateIsRefused) {
  start_our_server(SecurityProfile::tls_client_cert);
  auto ev = start_their_client({"--security-profile", "3"});
  ASSERT_EQ(str(ev, "event"), "connect_error") << ev;
  EXPECT_FALSE(ev.contains("status")) << "refused after TLS instead of during it: " << ev;
  expect_no_client_reached_us();
}

// ------------------------------------------------------------------ our client → their server, profile 2

class OurClientProfileTwo : public TlsInterop {
 protected:
  void boots_against(const std::string& server_stem) {
    const std::string endpoint =
        start_their_server(SecurityProfile::tls_basic_auth, server_stem, {"--require-password", kPassword});
    auto f = connect_our_client(endpoint, SecurityProfile::tls_basic_auth, password(kPassword));
    expect_connected(f);
    auto ev = peer_->wait(event_is("client"), "client");
    EXPECT_EQ(str(ev, "identity"), kIdentity) << ev;
    EXPECT_EQ(str(ev, "password"), kPassword) << ev;
    const json::object tls = obj(at(ev, "tls"));
    const std::string version = str(tls, "protocol");
    EXPECT_TRUE(version == "TLSv1.2" || version == "TLSv1.3") << ev;
    EXPECT_NE(std::ranges::find(kOcppCipherNames, str(tls, "cipher")), kOcppCipherNames.end())
        << "our client negotiated a suite OCPP does not allow: " << ev;
    expect_our_boot_accepted();
  }
};

TEST_P(OurClientProfileTwo, VerifiesTheirEcdsaServerAndSendsBasicAuth) { boots_against("server-ecdsa"); }

TEST_P(OurClientProfileTwo, VerifiesTheirRsaServerAndSendsBasicAuth) { boots_against("server-rsa"); }

TEST_P(OurClientProfileTwo, RefusesAServerOfAnotherCa) {
  const std::string endpoint = start_their_server(SecurityProfile::tls_basic_auth, "foreign-server");
  auto f = connect_our_client(endpoint, SecurityProfile::tls_basic_auth, password(kPassword));
  expect_refused(f, 0);
  expect_their_server_saw_no_client();
}

TEST_P(OurClientProfileTwo, RefusesACertificateForAnotherName) {
  const std::string endpoint = start_their_server(SecurityProfile::tls_basic_auth, "server-ecdsa");
  // The chain is the trusted one; only the name (localhost, 127.0.0.1) does not fit.
  auto f = connect_our_client(endpoint, SecurityProfile::tls_basic_auth, [](ocpp::ClientOptions& co) {
    password(kPassword)(co);
    co.tls.server_name = "csms.example.org";
  });
  expect_refused(f, 0);
  expect_their_server_saw_no_client();
}

TEST_P(OurClientProfileTwo, WrongPasswordGets401) {
  const std::string endpoint =
      start_their_server(SecurityProfile::tls_basic_auth, "server-ecdsa", {"--require-password", kPassword});
  auto f = connect_our_client(endpoint, SecurityProfile::tls_basic_auth, password("wrong-password-16"));
  expect_refused(f, 401);
  expect_their_server_saw_no_client();
}

// ------------------------------------------------------------------ our client → their server, profile 3

class OurClientProfileThree : public TlsInterop {};

TEST_P(OurClientProfileThree, PresentsItsCertificate) {
  const std::string endpoint = start_their_server(SecurityProfile::tls_client_cert, "server-rsa");
  auto f = connect_our_client(endpoint, SecurityProfile::tls_client_cert, client_certificate(client_stem(kIdentity)));
  expect_connected(f);
  auto ev = peer_->wait(event_is("client"), "client");
  EXPECT_EQ(str(ev, "identity"), kIdentity) << ev;
  EXPECT_FALSE(ev.contains("password")) << "profile 3 sends no Basic Auth: " << ev;
  const json::object tls = obj(at(ev, "tls"));
  EXPECT_EQ(at(tls, "authorized"), json::value(true)) << ev;
  const json::object peer_cert = obj(at(tls, "peer_cert"));
  EXPECT_EQ(str(peer_cert, "subject_cn"), kIdentity) << ev;
  EXPECT_EQ(str(peer_cert, "issuer_cn"), kCaName) << ev;
  expect_our_boot_accepted();
}

TEST_P(OurClientProfileThree, WithoutACertificateIsRefused) {
  const std::string endpoint = start_their_server(SecurityProfile::tls_client_cert, "server-ecdsa");
  // Profile 2 credentials against a server that requires a client certificate.
  auto f = connect_our_client(endpoint, SecurityProfile::tls_basic_auth, password(kPassword));
  expect_refused(f, 0);
  expect_their_server_saw_no_client();
}

TEST_P(OurClientProfileThree, CertificateOfAnotherCaIsRefused) {
  const std::string endpoint = start_their_server(SecurityProfile::tls_client_cert, "server-ecdsa");
  auto f = connect_our_client(endpoint, SecurityProfile::tls_client_cert,
                              client_certificate("foreign-" + client_stem(kIdentity)));
  expect_refused(f, 0);
  expect_their_server_saw_no_client();
}

INSTANTIATE_TEST_SUITE_P(Interop, TheirClientProfileTwo, testing::Values(kWsIo, kRpc), lib_name);
INSTANTIATE_TEST_SUITE_P(Interop, TheirClientPicksOurCertificate, testing::Values(kWsIo, kRpc), lib_name);
INSTANTIATE_TEST_SUITE_P(Interop, TheirClientProfileThree, testing::Values(kWsIo, kRpc), lib_name);
INSTANTIATE_TEST_SUITE_P(Interop, OurClientProfileTwo, testing::Values(kWsIo, kRpc), lib_name);
INSTANTIATE_TEST_SUITE_P(Interop, OurClientProfileThree, testing::Values(kWsIo, kRpc), lib_name);

}  // namespace
