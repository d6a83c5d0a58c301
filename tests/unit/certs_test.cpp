// Certificates made with OpenSSL for profiles 2 and 3: chains verify, expired and foreign ones do
// not, server certificates name localhost and 127.0.0.1, client certificates carry the identity.
#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "ocpp/tls/certs.hpp"

using namespace ocpp::tls;

namespace {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::unique_ptr<X509, X509Deleter>;

Cert load(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Cert cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

// 0 when `leaf` verifies against `ca`, else OpenSSL's verification error.
int verify(const Pem& ca, const Pem& leaf) {
  X509_STORE* store = X509_STORE_new();
  Cert root = load(ca.cert), cert = load(leaf.cert);
  X509_STORE_add_cert(store, root.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert.get(), nullptr);
  const int result = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return result;
}

std::string common_name(const Pem& pem) {
  auto cert = load(pem.cert);
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, buf, sizeof buf);
  return buf;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(Certs, ChainsVerifyExpiredAndForeignOnesDoNot) {
  const auto ca = make_ca("CA");
  EXPECT_EQ(verify(ca, issue(ca, {.common_name = "CP001", .client = true})), 0);
  EXPECT_EQ(verify(ca, issue(ca, {.common_name = "localhost", .key = KeyType::rsa2048, .server = true})), 0);
  const auto expired = issue(ca, {.common_name = "CP001", .client = true, .not_before = -std::chrono::hours(48),
                                  .not_after = -std::chrono::hours(24)});
  EXPECT_EQ(verify(ca, expired), X509_V_ERR_CERT_HAS_EXPIRED);
  const auto other = make_ca("Other CA");
  EXPECT_NE(verify(ca, issue(other, {.common_name = "CP001", .client = true})), 0);
}

TEST(Certs, TheDemoSetNamesTheHostsAndTheIdentityAndKeepsKeysPrivate) {
  const auto dir = std::filesystem::temp_directory_path() / ("ocpp-certs-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto files = write_demo_set(dir, "CP042", {"csms.example", "10.1.2.3"});
  EXPECT_EQ(files.size(), 8u);
  const Pem ca{read(dir / "ca.pem"), read(dir / "ca.key")};
  for (auto stem : {"server-rsa", "server-ecdsa"}) {
    SCOPED_TRACE(stem);
    const Pem server{read(dir / (std::string(stem) + ".pem")), read(dir / (std::string(stem) + ".key"))};
    EXPECT_EQ(verify(ca, server), 0);
    auto cert = load(server.cert);
    for (auto host : {"localhost", "csms.example"}) EXPECT_EQ(X509_check_host(cert.get(), host, 0, 0, nullptr), 1) << host;
    for (auto ip : {"127.0.0.1", "10.1.2.3"}) EXPECT_EQ(X509_check_ip_asc(cert.get(), ip, 0), 1) << ip;
    EXPECT_EQ(X509_check_host(cert.get(), "evil.example", 0, 0, nullptr), 0);
  }
  const Pem client{read(dir / "client-CP042.pem"), read(dir / "client-CP042.key")};
  EXPECT_EQ(verify(ca, client), 0);
  EXPECT_EQ(common_name(client), "CP042");
  const auto perms = std::filesystem::status(dir / "client-CP042.key").permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all), std::filesystem::perms::none);
  std::filesystem::remove_all(dir);
}

TEST(Certs, SeveralStationsGetCertificatesFromTheSameCa) {
  const auto dir = std::filesystem::temp_directory_path() / ("ocpp-certs-many-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(write_demo_set(dir, std::vector<std::string>{"CP-1", "CP-2"}).size(), 10u);
  const Pem ca{read(dir / "ca.pem"), read(dir / "ca.key")};
  for (auto id : {"CP-1", "CP-2"}) {
    const Pem client{read(dir / ("client-" + std::string(id) + ".pem")), read(dir / ("client-" + std::string(id) + ".key"))};
    EXPECT_EQ(verify(ca, client), 0) << id;
    EXPECT_EQ(common_name(client), id);
  }
  std::filesystem::remove_all(dir);
}
