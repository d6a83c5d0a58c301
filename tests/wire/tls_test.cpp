// Security profiles 1-3 over real sockets, with certificates made by the test: what the server
// accepts and refuses at the TLS handshake and the upgrade, and what the client checks.
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "ocpp/server/basic_auth.hpp"
#include "support/cert_dir.hpp"
#include "wire_fixture.hpp"

namespace ocpp_test {
namespace {
namespace fs = std::filesystem;
using tls::CertSpec;
using tls::KeyType;

struct Files {
  std::string cert, key;
};

// Every certificate the tests need, written once per process.
struct Material : CertDir {
  std::string ca = cert("ca"), other_ca = cert("foreign-ca");
  Files server_rsa = make("server-rsa", server(KeyType::rsa2048));
  Files server_ecdsa = make("server-ecdsa", server(KeyType::ecdsa_p256));
  Files server_other_ca = make("server-foreign", server(KeyType::ecdsa_p256), true);
  Files client = make("client-CP001", CertDir::client("CP001"));
  Files client_cp002 = make("client-CP002", CertDir::client("CP002"));
  Files client_other_ca = make("client-foreign", CertDir::client("CP001"), true);
  Files client_expired = make("client-expired", expired(CertDir::client("CP001")));
  Files client_long_cn = make("client-long", CertDir::client("Example CSO CP001 rev2"));

  Material() : CertDir("ocpp-tls-test") {}
  Files make(const std::string& stem, const CertSpec& spec, bool foreign = false) {
    issue(stem, spec, foreign);
    return {cert(stem), key(stem)};
  }
  static CertSpec expired(CertSpec spec) {
    spec.not_before = -std::chrono::hours(48);
    spec.not_after = -std::chrono::hours(24);
    return spec;
  }
};

const Material& material() {
  static Material m;
  return m;
}

ServerTlsOptions server_tls(std::vector<Files> certs = {material().server_rsa, material().server_ecdsa}) {
  ServerTlsOptions o;
  for (const auto& f : certs) o.certificates.push_back({f.cert, f.key, ""});
  o.ca_file = material().ca;
  return o;
}

// A bare OpenSSL client, for what our own client would never offer.
struct RawTls {
  int max_version = 0;  // 0: library maximum
  std::string cipher_list;
  std::string identity = "CP001";
  Files client_cert{};
  std::string headers{};  // extra request header lines
  std::string before_tls{};  // sent in clear before the ClientHello (a PROXY protocol header)
};
struct RawResult {
  bool handshake = false;
  int server_key_type = 0;  // EVP_PKEY_RSA or EVP_PKEY_EC
  bool compression = false;
  std::string status_line;  // of the WebSocket upgrade sent after the handshake
};

RawResult raw_tls(std::uint16_t port, const RawTls& how) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  if (!how.before_tls.empty()) asio::write(s, asio::buffer(how.before_tls));
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
  if (how.max_version) SSL_CTX_set_max_proto_version(ctx.get(), how.max_version);
  if (!how.cipher_list.empty()) SSL_CTX_set_cipher_list(ctx.get(), how.cipher_list.c_str());
  if (!how.client_cert.cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx.get(), how.client_cert.cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx.get(), how.client_cert.key.c_str(), SSL_FILETYPE_PEM);
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), static_cast<int>(s.native_handle()));
  RawResult out;
  if (SSL_connect(ssl.get()) != 1) return out;
  out.handshake = true;
  if (X509* cert = SSL_get0_peer_certificate(ssl.get())) out.server_key_type = EVP_PKEY_get_base_id(X509_get0_pubkey(cert));
  out.compression = SSL_get_current_compression(ssl.get()) != nullptr;
  const auto request = upgrade_request("/ocpp/" + how.identity, "Sec-WebSocket-Protocol: ocpp1.6\r\n" + how.headers);
  SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
  std::string response;
  char buffer[512];
  while (response.find("\r\n") == std::string::npos) {
    const int n = SSL_read(ssl.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    response.append(buffer, static_cast<std::size_t>(n));
  }
  out.status_line = response.substr(0, response.find("\r\n"));
  return out;
}

class TlsTest : public WireTest {
 protected:

  std::unique_ptr<Server> tls_server(SecurityProfile profile, ServerTlsOptions tls = server_tls(),
                                     ServerOptions so = {}) {
    auto server = make_server(so);
    server->handle("Heartbeat", heartbeat);
    server->on_security_event([this](const SecurityEvent& e) {
      std::lock_guard lock(m_);
      events_.push_back(std::string(to_string(e.type)) + ": " + e.details);
      event_.notify_all();
    });
    ListenOptions lo;
    lo.host = "127.0.0.1";
    lo.profile = profile;
    lo.tls = std::move(tls);
    port_ = server->listen(lo);
    return server;
  }
  std::shared_ptr<Client> tls_client(ClientOptions o, std::string identity = "CP001", std::string host = "localhost") {
    o.endpoint = "wss://" + host + ":" + std::to_string(port_) + "/ocpp";
    o.identity = std::move(identity);
    o.protocols = {"ocpp1.6"};
    o.logger = null_logger();
    o.reconnect = false;
    if (o.tls.ca_file.empty()) o.tls.ca_file = material().ca;
    return Client::create(pool.executor(), o);
  }
  // Profile 2 listeners want a password; without an auth callback any will do.
  static ClientOptions with_password() {
    ClientOptions o;
    o.password = "secret:password-16";
    return o;
  }
  static ClientOptions with_cert(const Files& f) {
    ClientOptions o;
    o.security_profile = SecurityProfile::tls_client_cert;
    o.tls.cert_file = f.cert;
    o.tls.key_file = f.key;
    return o;
  }
  // The message of the ConnectError the connection fails with.
  std::string connect_error(const std::shared_ptr<Client>& client, unsigned* status = nullptr) {
    try {
      get(client->connect(asio::use_future));
    } catch (const ConnectError& e) {
      if (status) *status = e.http_status();
      return e.what();
    }
    return "connected";
  }
  void heartbeat_works(const std::shared_ptr<Client>& client) {
    auto r = get(client->call("Heartbeat", json::object{}, asio::use_future));
    EXPECT_EQ(r.as_object().at("currentTime"), "2026-01-01T00:00:00Z");
  }
  // Security events arrive on the server's thread; the refused client may learn of it first.
  std::string event_containing(const std::string& text) {
    std::unique_lock lock(m_);
    std::string found;
    event_.wait_for(lock, std::chrono::seconds(5), [&] {
      for (const auto& e : events_)
        if (e.find(text) != std::string::npos) found = e;
      return !found.empty();
    });
    if (!found.empty()) return found;
    for (const auto& e : events_) found += e + "; ";
    return "none of: " + found;
  }

  std::uint16_t port_ = 0;
  std::mutex m_;
  std::condition_variable event_;
  std::vector<std::string> events_;
};

std::unique_ptr<Server> with_basic_auth(std::unique_ptr<Server> server) {
  server->auth(basic_auth([](std::string_view identity) -> std::optional<std::string> {
    if (identity == "CP001") return std::string("secret:password-16");
    return std::nullopt;
  }));
  return server;
}

TEST_F(TlsTest, ProfileTwoBootsWithTheRightPasswordOverVerifiedTls) {
  auto server = with_basic_auth(tls_server(SecurityProfile::tls_basic_auth));
  std::promise<HandshakeInfo> seen;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { seen.set_value(c->handshake()); });
  ClientOptions o;
  o.security_profile = SecurityProfile::tls_basic_auth;
  o.password = "secret:password-16";
  auto client = tls_client(o);
  get(client->connect(asio::use_future));
  heartbeat_works(client);
  const auto info = get(seen.get_future());
  EXPECT_EQ(info.security_profile, SecurityProfile::tls_basic_auth);
  EXPECT_EQ(info.password, std::optional<std::string>("secret:password-16"));
  EXPECT_FALSE(info.client_certificate) << "profile 2 asks for no certificate";
}

TEST_F(TlsTest, ProfileTwoRefusesAMissingOrWrongPasswordWith401) {
  auto server = with_basic_auth(tls_server(SecurityProfile::tls_basic_auth));
  unsigned status = 0;
  ClientOptions none;  // wss:// without credentials: TLS alone
  EXPECT_NE(connect_error(tls_client(none), &status), "connected");
  EXPECT_EQ(status, 401u);
  ClientOptions wrong;
  wrong.password = "not-the-password-at-all";
  status = 0;
  EXPECT_NE(connect_error(tls_client(wrong), &status), "connected");
  EXPECT_EQ(status, 401u);
}

TEST_F(TlsTest, ProfileTwoBasicAuthIsBinarySafeAndRefusesEveryOtherCredentialWith401) {
  const std::string binary("p\0ss:w\xffrd-with-16-bytes", 24);
  ServerOptions legacy;
  legacy.strict_identity = false;  // OCPP forbids the colon in the identity with Basic Auth
  auto server = tls_server(SecurityProfile::tls_basic_auth, server_tls(), legacy);
  server->auth(basic_auth([&](std::string_view identity) -> std::optional<std::string> {
    if (identity == "CP:1") return binary;
    return std::nullopt;
  }));
  auto status = [&](const std::string& authorization) {
    RawTls how;
    how.identity = "CP%3A1";
    if (!authorization.empty()) how.headers = "Authorization: " + authorization + "\r\n";
    return raw_tls(port_, how).status_line;
  };
  EXPECT_EQ(status(basic_auth_header("CP:1", binary)), "HTTP/1.1 101 Switching Protocols") << "colons, NUL, 0xff";
  EXPECT_EQ(status(""), "HTTP/1.1 401 Unauthorized") << "no header";
  EXPECT_EQ(status(basic_auth_header("CP:1", "wrong-password-16b")), "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(status(basic_auth_header("CP:2", binary)), "HTTP/1.1 401 Unauthorized") << "another username";
  EXPECT_EQ(status("Basic %%%"), "HTTP/1.1 401 Unauthorized") << "malformed";
  EXPECT_EQ(status("Bearer abc"), "HTTP/1.1 401 Unauthorized") << "another scheme";
}

TEST_F(TlsTest, AnEncryptedClientKeyNeedsItsPassphrase) {
  auto server = tls_server(SecurityProfile::tls_client_cert);
  // The test's client key, encrypted with AES-256-CBC under a passphrase.
  std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_file(material().client.key.c_str(), "r"), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  ASSERT_TRUE(key);
  const auto encrypted = (material().dir() / "client-encrypted.key").string();
  {
    std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new_file(encrypted.c_str(), "w"), BIO_free);
    const std::string pass = "correct horse";
    ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), pass.data(),
                                            static_cast<int>(pass.size()), nullptr, nullptr),
              1);
  }
  auto o = with_cert({material().client.cert, encrypted});
  o.tls.key_passphrase = "wrong";
  EXPECT_THROW(tls_client(o), TlsError);
  o.tls.key_passphrase = "correct horse";
  auto client = tls_client(o);
  get(client->connect(asio::use_future));
  heartbeat_works(client);
}

TEST_F(TlsTest, ClientsShareTlsMaterialUntilAFileChanges) {
  auto server = tls_server(SecurityProfile::tls_basic_auth);
  // A CA file of the station's own, replaced between two clients as a renewal would.
  const auto ca = (material().dir() / "station-ca.pem").string();
  fs::copy_file(material().ca, ca, fs::copy_options::overwrite_existing);
  auto o = with_password();
  o.tls.ca_file = ca;
  auto first = tls_client(o, "CP001");
  get(first->connect(asio::use_future));
  get(tls_client(o, "CP002")->connect(asio::use_future));
  fs::copy_file(material().other_ca, ca, fs::copy_options::overwrite_existing);
  EXPECT_NE(connect_error(tls_client(o, "CP003")).find("certificate rejected"), std::string::npos)
      << "the new file is read, not the cached one";
  heartbeat_works(first);
}

TEST_F(TlsTest, AListenerWithAPasswordProfileRefusesUpgradesWithoutOneEvenWithoutAuthCallback) {
  auto server = make_server();
  ListenOptions lo;
  lo.host = "127.0.0.1";
  lo.profile = SecurityProfile::basic_auth;
  const auto port = server->listen(lo);
  EXPECT_EQ(raw_http(port, upgrade_request("/ocpp/CP001", "Sec-WebSocket-Protocol: ocpp1.6\r\n")),
            "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(raw_http(port, upgrade_request("/ocpp/CP001", "Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: " +
                                                              basic_auth_header("CP001", "any-password-16b") + "\r\n")),
            "HTTP/1.1 101 Switching Protocols");
}

TEST_F(TlsTest, TheClientRefusesAServerCertificateFromAnotherCa) {
  auto server = tls_server(SecurityProfile::tls_basic_auth, server_tls({material().server_other_ca}));
  auto o = with_password();
  const auto why = connect_error(tls_client(o));
  EXPECT_NE(why.find("TLS handshake failed: certificate rejected"), std::string::npos) << why;
}

TEST_F(TlsTest, FirstConnectRetryStopsAtOnceWithACertificateErrorForAnUntrustedServer) {
  auto server = tls_server(SecurityProfile::tls_basic_auth, server_tls({material().server_other_ca}));
  auto o = with_password();
  o.retry_initial_connect = true;
  o.backoff_min = milliseconds(5);
  o.backoff_max = milliseconds(5);
  auto client = tls_client(o);
  std::atomic<int> reconnects{0};
  client->on_reconnect([&](const ReconnectEvent&) { ++reconnects; });
  try {
    get(client->connect(asio::use_future));
    ADD_FAILURE() << "connected";
  } catch (const CertificateError& e) {
    EXPECT_NE(std::string(e.what()).find("certificate rejected"), std::string::npos) << e.what();
  }
  EXPECT_EQ(reconnects, 0);
}

TEST_F(TlsTest, TheClientChecksTheHostNameAndIpAddress) {
  auto server = tls_server(SecurityProfile::tls_basic_auth);
  auto o = with_password();
  auto by_ip = tls_client(o, "CP001", "127.0.0.1");
  get(by_ip->connect(asio::use_future));  // the certificate names 127.0.0.1
  o.tls.server_name = "csms.example.com";
  const auto why = connect_error(tls_client(o));
  EXPECT_NE(why.find("hostname mismatch"), std::string::npos) << why;
}

TEST_F(TlsTest, VerificationOffConnectsToAnyCertificate) {
  auto server = tls_server(SecurityProfile::tls_basic_auth, server_tls({material().server_other_ca}));
  auto o = with_password();
  o.tls.verify_server = false;
  auto client = tls_client(o);
  get(client->connect(asio::use_future));
  heartbeat_works(client);
}

TEST_F(TlsTest, RsaOnlyAndEcdsaOnlyClientsGetTheMatchingCertificate) {
  auto server = tls_server(SecurityProfile::tls_basic_auth);
  const auto ecdsa = raw_tls(port_, {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256"});
  EXPECT_TRUE(ecdsa.handshake);
  EXPECT_EQ(ecdsa.server_key_type, EVP_PKEY_EC);
  EXPECT_EQ(ecdsa.status_line, "HTTP/1.1 401 Unauthorized") << "TLS accepted; no password";
  const auto rsa = raw_tls(port_, {TLS1_2_VERSION, "AES256-GCM-SHA384"});  // TLS_RSA_WITH_AES_256_GCM_SHA384
  EXPECT_TRUE(rsa.handshake);
  EXPECT_EQ(rsa.server_key_type, EVP_PKEY_RSA);
  EXPECT_FALSE(rsa.compression);
  const auto ecdhe_rsa = raw_tls(port_, {TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256"});
  EXPECT_EQ(ecdhe_rsa.server_key_type, EVP_PKEY_RSA);
  const auto tls13 = raw_tls(port_, {});
  EXPECT_TRUE(tls13.handshake);
}

TEST_F(TlsTest, Tls11OnlyAndCbcOnlyClientsAreRefusedAtTheHandshake) {
  auto server = tls_server(SecurityProfile::tls_basic_auth);
  {
    asio::io_context io;
    asio::ip::tcp::socket probe(io);  // a health check's connect and close: no event
    probe.connect({asio::ip::make_address("127.0.0.1"), port_});
  }
  EXPECT_FALSE(raw_tls(port_, {TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0"}).handshake);
  EXPECT_EQ(event_containing("unsupported protocol").rfind("TLS_HANDSHAKE_FAILED", 0), 0u);
  EXPECT_FALSE(raw_tls(port_, {TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:AES128-SHA256"}).handshake);
  EXPECT_EQ(event_containing("no shared cipher").rfind("TLS_HANDSHAKE_FAILED", 0), 0u);
  std::lock_guard lock(m_);
  EXPECT_EQ(events_.size(), 2u) << "one per refused client, none for the probe";
}

TEST_F(TlsTest, ProfileThreeAcceptsAVerifiedCertificateWhoseCnIsTheIdentity) {
  auto server = tls_server(SecurityProfile::tls_client_cert);
  std::promise<HandshakeInfo> seen;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { seen.set_value(c->handshake()); });
  auto client = tls_client(with_cert(material().client));
  get(client->connect(asio::use_future));
  heartbeat_works(client);
  const auto info = get(seen.get_future());
  EXPECT_EQ(info.security_profile, SecurityProfile::tls_client_cert);
  ASSERT_TRUE(info.client_certificate);
  EXPECT_EQ(info.client_certificate->common_name, "CP001");
  EXPECT_EQ(info.client_certificate->issuer.rfind("CN=Test CSO Root,", 0), 0u) << info.client_certificate->issuer;
  EXPECT_EQ(info.client_certificate->sha256_fingerprint.size(), 64u);
  EXPECT_NE(info.client_certificate->pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_GT(info.client_certificate->not_after, std::chrono::system_clock::now());
  EXPECT_FALSE(info.password);
}

TEST_F(TlsTest, ProfileThreeRefusesNoCertificateAnUnknownCaAndAnExpiredOne) {
  auto server = tls_server(SecurityProfile::tls_client_cert);
  const auto why = connect_error(tls_client(ClientOptions{}));
  EXPECT_NE(why.find("certificate required"), std::string::npos) << "the server's alert reaches the client: " << why;
  EXPECT_EQ(event_containing("did not return a certificate").rfind("TLS_HANDSHAKE_FAILED", 0), 0u);
  EXPECT_NE(connect_error(tls_client(with_cert(material().client_other_ca))), "connected");
  EXPECT_EQ(event_containing("unable to get local issuer").rfind("TLS_HANDSHAKE_FAILED", 0), 0u);
  EXPECT_NE(connect_error(tls_client(with_cert(material().client_expired))), "connected");
  EXPECT_EQ(event_containing("certificate has expired").rfind("TLS_HANDSHAKE_FAILED", 0), 0u);
}

TEST_F(TlsTest, ProfileThreeRefusesACertificateOfAnotherStationWith403) {
  auto server = tls_server(SecurityProfile::tls_client_cert);
  unsigned status = 0;
  EXPECT_NE(connect_error(tls_client(with_cert(material().client_cp002)), &status), "connected");
  EXPECT_EQ(status, 403u);
  EXPECT_EQ(event_containing("CN=CP002").rfind("AUTH_FAILED", 0), 0u);
  // Its own identity is fine.
  get(tls_client(with_cert(material().client_cp002), "CP002")->connect(asio::use_future));
}

TEST_F(TlsTest, TheBindingRuleIsConfigurable) {
  auto contains = server_tls();
  contains.binding = cn_contains_identity;
  {
    auto server = tls_server(SecurityProfile::tls_client_cert, contains);
    get(tls_client(with_cert(material().client_long_cn))->connect(asio::use_future));
  }
  {
    auto server = tls_server(SecurityProfile::tls_client_cert);  // default: CN equals the identity
    unsigned status = 0;
    connect_error(tls_client(with_cert(material().client_long_cn)), &status);
    EXPECT_EQ(status, 403u);
  }
  auto custom = server_tls();
  custom.binding = [](const PeerCertificate& cert, std::string_view identity) {
    return identity == "CP001" && cert.issuer.rfind("CN=Test CSO Root,", 0) == 0 && cert.common_name == "CP002";
  };
  auto server = tls_server(SecurityProfile::tls_client_cert, custom);
  get(tls_client(with_cert(material().client_cp002))->connect(asio::use_future));
  unsigned status = 0;
  connect_error(tls_client(with_cert(material().client)), &status);
  EXPECT_EQ(status, 403u);
}

TEST_F(TlsTest, CertificatesAreReplacedForNewConnectionsOnly) {
  auto server = tls_server(SecurityProfile::tls_basic_auth);
  auto o = with_password();
  auto before = tls_client(o, "CP001");
  get(before->connect(asio::use_future));
  EXPECT_THROW(server->update_tls(port_, server_tls({{material().server_rsa.cert, material().server_ecdsa.key}})),
               TlsError)
      << "a key that does not fit its certificate";
  EXPECT_THROW(server->update_tls(static_cast<std::uint16_t>(port_ + 1), server_tls()), std::invalid_argument);
  get(tls_client(o, "CP002")->connect(asio::use_future));  // the old material is still in use

  server->update_tls(port_, server_tls({material().server_other_ca}));
  EXPECT_NE(connect_error(tls_client(o, "CP003")), "connected") << "signed by a CA the client does not trust";
  auto trusting = with_password();
  trusting.tls.ca_file = material().other_ca;
  get(tls_client(trusting, "CP004")->connect(asio::use_future));
  heartbeat_works(before);  // the open connection keeps its session
}

TEST_F(TlsTest, LargeMessagesAndManyCallsInFlightCrossTls) {
  ServerOptions so;
  so.max_frame_bytes = 1 << 20;
  auto server = tls_server(SecurityProfile::tls_basic_auth, server_tls(), so);
  server->handle("DataTransfer", [](CallContext& ctx) -> HandlerResult {
    return json::object{{"status", "Accepted"}, {"data", ctx.params.as_object().at("data")}};
  });
  auto o = with_password();
  o.max_frame_bytes = 1 << 20;
  o.call_concurrency = 1000;
  auto client = tls_client(o);
  get(client->connect(asio::use_future));
  std::string big(300000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  auto r = get(client->call("DataTransfer", json::object{{"vendorId", "v"}, {"data", big}}, asio::use_future));
  EXPECT_EQ(r.as_object().at("data").as_string(), big);
  std::vector<std::future<json::value>> calls;
  for (int i = 0; i < 300; ++i)
    calls.push_back(client->call("DataTransfer", json::object{{"vendorId", "v"}, {"data", std::to_string(i)}},
                                 asio::use_future));
  for (int i = 0; i < 300; ++i) EXPECT_EQ(get(std::move(calls[i])).as_object().at("data"), json::value(std::to_string(i)));
}

TEST_F(TlsTest, AStalledTlsHandshakeIsDroppedAtTheHandshakeTimeout) {
  ServerOptions so;
  so.handshake_timeout = milliseconds(100);
  auto server = tls_server(SecurityProfile::tls_basic_auth, server_tls(), so);
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port_});  // and no ClientHello
  char c;
  boost::system::error_code ec;
  s.read_some(asio::buffer(&c, 1), ec);
  EXPECT_EQ(ec, asio::error::eof) << "the server closes the socket";
  EXPECT_EQ(event_containing("timed out"), "TLS_HANDSHAKE_FAILED: TLS handshake timed out");
}

TEST_F(TlsTest, ProxyProtocolHeaderComesBeforeTheTlsHandshakeAndNamesTheStation) {
  auto server = make_server();
  std::promise<HandshakeInfo> seen;
  server->on_client([&](const std::shared_ptr<ServerClient>& c) { seen.set_value(c->handshake()); });
  ListenOptions lo;
  lo.host = "127.0.0.1";
  lo.profile = SecurityProfile::tls_basic_auth;
  lo.tls = server_tls();
  lo.proxy_protocol = true;
  port_ = server->listen(lo);
  RawTls how;
  how.before_tls = "PROXY TCP6 2001:db8::42 2001:db8::1 50000 443\r\n";
  how.headers = "Authorization: " + basic_auth_header("CP001", "secret:password-16") + "\r\n";
  auto result = raw_tls(port_, how);
  EXPECT_TRUE(result.handshake);
  EXPECT_EQ(result.status_line, "HTTP/1.1 101 Switching Protocols");
  const auto info = get(seen.get_future());
  EXPECT_EQ(info.remote_address, "2001:db8::42");
  EXPECT_EQ(info.peer_address, "127.0.0.1");
  EXPECT_TRUE(info.secure);
}

TEST_F(TlsTest, ListenerMaterialIsCheckedAtListen) {
  auto server = make_server();
  ListenOptions lo;
  lo.host = "127.0.0.1";
  lo.profile = SecurityProfile::tls_basic_auth;
  EXPECT_THROW(server->listen(lo), TlsError) << "no certificate";
  lo.tls.certificates = {{material().dir().string() + "/missing.pem", material().server_rsa.key, ""}};
  try {
    server->listen(lo);
    ADD_FAILURE() << "a missing file";
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pem"), std::string::npos) << e.what();
  }
  lo.profile = SecurityProfile::tls_client_cert;
  lo.tls = server_tls();
  lo.tls.ca_file.clear();
  EXPECT_THROW(server->listen(lo), TlsError) << "profile 3 without a CA for client certificates";
}

TEST_F(TlsTest, AProfileThatDoesNotFitTheUrlOrCredentialsIsRefusedBeforeConnecting) {
  auto create = [&](std::string endpoint, ClientOptions o) {
    o.endpoint = std::move(endpoint);
    o.identity = "CP001";
    o.tls.ca_file = material().ca;
    try {
      Client::create(pool.executor(), o);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("created");
  };
  ClientOptions two;
  two.security_profile = SecurityProfile::tls_basic_auth;
  two.password = "secret:password-16";
  EXPECT_EQ(create("ws://localhost:1/ocpp", two), "Security profile 2 needs a wss:// endpoint, not ws://localhost:1/ocpp");
  EXPECT_EQ(create("wss://localhost:1/ocpp", two), "created");
  two.password.reset();
  EXPECT_EQ(create("wss://localhost:1/ocpp", two), "Security profile 2 needs a password (Basic Auth)");
  ClientOptions one;
  one.security_profile = SecurityProfile::basic_auth;
  one.password = "secret:password-16";
  EXPECT_EQ(create("wss://localhost:1/ocpp", one), "Security profile 1 needs a ws:// endpoint, not wss://localhost:1/ocpp");
  ClientOptions three;
  three.security_profile = SecurityProfile::tls_client_cert;
  EXPECT_EQ(create("wss://localhost:1/ocpp", three),
            "Security profile 3 needs a client certificate and key (tls.cert_file, tls.key_file)");
  three.password = "secret:password-16";
  three.tls.cert_file = material().client.cert;
  three.tls.key_file = material().client.key;
  EXPECT_EQ(create("wss://localhost:1/ocpp", three), "Security profile 3 sends no password; use profile 2 for Basic Auth");
  ClientOptions zero;
  zero.tls.cert_file = material().client.cert;
  zero.tls.key_file = material().client.key;
  EXPECT_EQ(create("ws://localhost:1/ocpp", zero), "A client certificate is only sent with security profile 3");
}

}  // namespace
}  // namespace ocpp_test
