#include "context.hpp"

#include <boost/asio/ip/address.hpp>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>

namespace ocpp {

bool cn_equals_identity(const PeerCertificate& cert, std::string_view identity) {
  return !identity.empty() && cert.common_name == identity;
}

bool cn_contains_identity(const PeerCertificate& cert, std::string_view identity) {
  return !identity.empty() && cert.common_name.find(identity) != std::string::npos;
}

namespace detail {
namespace {

std::string openssl_reason() {
  const auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

[[noreturn]] void fail(const std::string& what) { throw TlsError(what + ": " + openssl_reason()); }

int passphrase_callback(char* buffer, int size, int, void* user) {
  const auto* passphrase = static_cast<const std::string*>(user);
  if (!passphrase || passphrase->size() > static_cast<std::size_t>(size)) return 0;
  passphrase->copy(buffer, passphrase->size());
  return static_cast<int>(passphrase->size());
}

void load_key_pair(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file,
                   const std::string& passphrase) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) fail("Cannot load certificate " + cert_file);
  SSL_CTX_set_default_passwd_cb(ctx, passphrase_callback);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, const_cast<std::string*>(&passphrase));
  const bool loaded = SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);  // the string does not outlive this call
  if (!loaded) fail("Cannot load private key " + key_file);
  if (SSL_CTX_check_private_key(ctx) != 1) fail("Key " + key_file + " does not match " + cert_file);
}

SslContext new_context(const SSL_METHOD* method, const std::string& cipher_list, const std::string& cipher_suites) {
  SslContext ctx(SSL_CTX_new(method), SSL_CTX_free);
  if (!ctx) fail("Cannot create a TLS context");
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  // No compression (A00.FR.321), no renegotiation; a TCP close without close_notify is a plain
  // end of stream, as WebSocket frames carry their own boundaries.
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_set_cipher_list(c, cipher_list.c_str()) != 1) fail("No usable TLS 1.2 cipher in '" + cipher_list + "'");
  if (SSL_CTX_set_ciphersuites(c, cipher_suites.c_str()) != 1)
    fail("No usable TLS 1.3 cipher suite in '" + cipher_suites + "'");
  return ctx;
}

std::string name_entry(X509_NAME* name, int nid) {
  const int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return {};
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string name_text(X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_text(bio.get());
}

std::chrono::system_clock::time_point time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

SslContext load_client_context(const ClientTlsOptions& o) {
  auto ctx = new_context(TLS_client_method(), o.cipher_list, o.cipher_suites);
  SSL_CTX* c = ctx.get();
  if (o.verify_server) {
    if (o.ca_file.empty() ? SSL_CTX_set_default_verify_paths(c) != 1
                          : SSL_CTX_load_verify_locations(c, o.ca_file.c_str(), nullptr) != 1)
      fail("Cannot load CA " + (o.ca_file.empty() ? std::string("(system store)") : o.ca_file));
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  }
  if (!o.cert_file.empty()) load_key_pair(c, o.cert_file, o.key_file, o.key_passphrase);
  return ctx;
}

}  // namespace

// A context per client would cost ~50 KB each (the CA store, the certificate): a simulator of
// thousands of stations shares one per distinct set of options and files. A file that changes
// (a renewed certificate) changes the key, so new clients read it again.
SslContext make_client_context(const ClientTlsOptions& o) {
  std::string key;
  for (const auto* part : {&o.ca_file, &o.cert_file, &o.key_file, &o.key_passphrase, &o.cipher_list, &o.cipher_suites}) {
    key += *part;
    key += '\0';
  }
  key += o.verify_server ? '1' : '0';
  for (const auto* file : {&o.ca_file, &o.cert_file, &o.key_file}) {
    std::error_code ec;
    if (file->empty()) continue;
    const auto stamp = std::filesystem::last_write_time(*file, ec).time_since_epoch().count();
    key += std::to_string(stamp) + ":" + std::to_string(std::filesystem::file_size(*file, ec)) + ";";
  }
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<SSL_CTX>> cache;
  std::lock_guard lock(mutex);
  std::erase_if(cache, [](const auto& entry) { return entry.second.expired(); });
  if (auto it = cache.find(key); it != cache.end())
    if (auto shared = it->second.lock()) return shared;
  auto ctx = load_client_context(o);
  cache[key] = ctx;
  return ctx;
}

SslContext make_server_context(SecurityProfile profile, const ServerTlsOptions& o) {
  if (o.certificates.empty()) throw TlsError("A TLS listener needs at least one certificate and key");
  auto ctx = new_context(TLS_server_method(), o.cipher_list, o.cipher_suites);
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Resumption stays possible through stateless tickets, but one is enough (each costs server CPU
  // at every handshake, and this library's client does not resume), and no session is kept on the
  // server: its cache would grow with every full handshake of every station.
  SSL_CTX_set_num_tickets(c, 1);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  for (const auto& pair : o.certificates) load_key_pair(c, pair.cert_file, pair.key_file, pair.key_passphrase);
  if (profile == SecurityProfile::tls_client_cert) {
    if (o.ca_file.empty()) throw TlsError("Security profile 3 needs the CA of the client certificates (ca_file)");
    if (SSL_CTX_load_verify_locations(c, o.ca_file.c_str(), nullptr) != 1) fail("Cannot load CA " + o.ca_file);
    if (auto* names = SSL_load_client_CA_file(o.ca_file.c_str())) SSL_CTX_set_client_CA_list(c, names);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    static constexpr unsigned char kSessionContext[] = "ocpp";
    SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
  }
  return ctx;
}

SslPtr make_client_ssl(SSL_CTX* context, const std::string& host) {
  SslPtr ssl(SSL_new(context));
  if (!ssl) fail("Cannot create a TLS connection");
  SSL_set_connect_state(ssl.get());
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);  // only to tell names from IP literals
  if (ec) SSL_set_tlsext_host_name(ssl.get(), host.c_str());  // SNI is for names only
  if (SSL_CTX_get_verify_mode(context) & SSL_VERIFY_PEER) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const bool set = ec ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1
                        : X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
    if (!set) fail("Cannot check the server certificate against '" + host + "'");
  }
  return ssl;
}

SslPtr make_server_ssl(SSL_CTX* context) {
  SslPtr ssl(SSL_new(context));
  if (!ssl) fail("Cannot create a TLS connection");
  SSL_set_accept_state(ssl.get());
  return ssl;
}

PeerCertificate peer_certificate(X509* cert) {
  PeerCertificate out;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), cert);
  out.pem = bio_text(bio.get());
  X509_NAME* subject = X509_get_subject_name(cert);
  out.subject = name_text(subject);
  out.common_name = name_entry(subject, NID_commonName);
  out.organization = name_entry(subject, NID_organizationName);
  out.issuer = name_text(X509_get_issuer_name(cert));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* text = BN_bn2hex(bn)) {
      out.serial_number = text;
      OPENSSL_free(text);
    }
    BN_free(bn);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &n) == 1) out.sha256_fingerprint = hex(digest, n);
  out.not_before = time_point(X509_get0_notBefore(cert));
  out.not_after = time_point(X509_get0_notAfter(cert));
  return out;
}

std::string tls_failure(SSL* ssl, const boost::system::error_code& ec) {
  if (certificate_rejected(ssl))
    return std::string("certificate rejected: ") + X509_verify_cert_error_string(SSL_get_verify_result(ssl));
  return ec.message();
}

bool certificate_rejected(SSL* ssl) noexcept { return ssl && SSL_get_verify_result(ssl) != X509_V_OK; }

}  // namespace detail
}  // namespace ocpp
