#include "ocpp/tls/certs.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <stdexcept>

namespace ocpp::tls {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

[[noreturn]] void fail(const std::string& what) {
  char buf[256] = "no OpenSSL reason";
  if (auto code = ERR_get_error()) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  throw std::runtime_error("certificate: " + what + ": " + buf);
}

template <class P>
P check(P p, const char* what) {
  if (!p) fail(what);
  return p;
}

KeyPtr make_key(KeyType type) {
  EVP_PKEY* key = type == KeyType::rsa2048 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                                           : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  return KeyPtr(check(key, "key generation"));
}

std::string to_pem(X509* cert) {
  BioPtr bio(check(BIO_new(BIO_s_mem()), "BIO_new"));
  if (!PEM_write_bio_X509(bio.get(), cert)) fail("PEM_write_bio_X509");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* key) {
  BioPtr bio(check(BIO_new(BIO_s_mem()), "BIO_new"));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) fail("PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

CertPtr read_cert(const std::string& pem) {
  BioPtr bio(check(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), "BIO_new_mem_buf"));
  return CertPtr(check(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), "reading the CA certificate"));
}

KeyPtr read_key(const std::string& pem) {
  BioPtr bio(check(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), "BIO_new_mem_buf"));
  return KeyPtr(check(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), "reading the CA key"));
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(check(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()), "extension"));
  if (!X509_add_ext(cert, ext.get(), -1)) fail("X509_add_ext");
}

// A certificate for `key`, signed by `issuer_key` (self-signed when issuer is null).
CertPtr build(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  CertPtr cert(check(X509_new(), "X509_new"));
  X509_set_version(cert.get(), X509_VERSION_3);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) fail("RAND_bytes");
  serial[0] &= 0x7f;  // a positive serial
  std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> bn(check(BN_bin2bn(serial, sizeof serial, nullptr), "serial"));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(spec.not_before.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(spec.not_after.count()));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  auto add_name = [&](const char* field, const std::string& v) {
    if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(v.c_str()),
                                    -1, -1, 0))
      fail(std::string("subject ") + field);
  };
  add_name("O", "ocpp-ws-io-cpp test");
  if (!spec.serial_number.empty()) add_name("serialNumber", spec.serial_number);
  add_name("CN", spec.common_name);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : cert.get();
  if (ca) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    std::string eku;
    if (spec.server) eku = "serverAuth";
    if (spec.client) eku += eku.empty() ? "clientAuth" : ",clientAuth";
    if (!eku.empty()) add_ext(cert.get(), signer, NID_ext_key_usage, eku);
  }
  std::string san;
  for (const auto& d : spec.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : spec.ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (!san.empty()) add_ext(cert.get(), signer, NID_subject_alt_name, san);
  add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer) add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256())) fail("X509_sign");
  return cert;
}

void write_file(const std::filesystem::path& path, const std::string& text, bool secret) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << text;
  out.close();
  if (secret) std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace

Pem make_ca(const std::string& common_name, KeyType key_type) {
  auto key = make_key(key_type);
  CertSpec spec{.common_name = common_name, .key = key_type, .not_after = std::chrono::hours(24 * 3650)};
  auto cert = build(spec, key.get(), nullptr, nullptr, true);
  return {to_pem(cert.get()), to_pem(key.get())};
}

Pem issue(const Pem& ca, const CertSpec& spec) {
  auto ca_cert = read_cert(ca.cert);
  auto ca_key = read_key(ca.key);
  auto key = make_key(spec.key);
  auto cert = build(spec, key.get(), ca_cert.get(), ca_key.get(), false);
  return {to_pem(cert.get()), to_pem(key.get())};
}

std::vector<std::filesystem::path> write_demo_set(const std::filesystem::path& dir,
                                                  const std::vector<std::string>& identities,
                                                  const std::vector<std::string>& hosts) {
  std::filesystem::create_directories(dir);
  std::vector<std::string> dns{"localhost"}, ips{"127.0.0.1"};
  for (const auto& h : hosts) {
    const bool ip = h.find_first_not_of("0123456789.:abcdefABCDEF") == std::string::npos && h.find_first_of(".:") != std::string::npos;
    (ip ? ips : dns).push_back(h);
  }
  std::vector<std::filesystem::path> written;
  auto save = [&](const std::string& stem, const Pem& pem) {
    write_file(dir / (stem + ".pem"), pem.cert, false);
    write_file(dir / (stem + ".key"), pem.key, true);
    written.push_back(dir / (stem + ".pem"));
    written.push_back(dir / (stem + ".key"));
  };
  const Pem ca = make_ca("ocpp-ws-io-cpp demo CA");
  save("ca", ca);
  for (auto [stem, type] : {std::pair{"server-rsa", KeyType::rsa2048}, {"server-ecdsa", KeyType::ecdsa_p256}})
    save(stem, issue(ca, {.common_name = "localhost", .dns_names = dns, .ip_addresses = ips, .key = type, .server = true}));
  for (const auto& identity : identities) save("client-" + identity, issue(ca, {.common_name = identity, .client = true}));
  return written;
}

}  // namespace ocpp::tls
