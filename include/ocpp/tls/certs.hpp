#pragma once
/// @file
/// Certificates for security profiles 2 and 3, made with OpenSSL: a CA, server certificates (RSA and
/// ECDSA, side by side) and client certificates whose CN is the station's identity. Used by
/// `ocpp certs`, the demo and the tests (which also need expired and foreign ones).
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::tls {

/// The key algorithm of a generated certificate.
enum class KeyType { rsa2048, ecdsa_p256 };

/// What a generated certificate says (issue()).
struct CertSpec {
  std::string common_name;  ///< the subject's CN
  std::vector<std::string> dns_names{};     ///< subjectAltName DNS entries
  std::vector<std::string> ip_addresses{};  ///< subjectAltName IP entries
  std::string serial_number{};              ///< the subject's serialNumber attribute, when set
  KeyType key = KeyType::ecdsa_p256;  ///< the key algorithm
  bool server = false;  ///< extendedKeyUsage serverAuth
  bool client = false;  ///< extendedKeyUsage clientAuth
  /// Validity relative to now; a negative end makes an expired certificate.
  std::chrono::seconds not_before = -std::chrono::hours(1);
  std::chrono::seconds not_after = std::chrono::hours(24 * 397);  ///< end of validity relative to now
};

/// A certificate and its key, PEM text.
struct Pem {
  std::string cert;  ///< PEM certificate
  std::string key;   ///< PEM private key (PKCS#8, unencrypted)
};

/// Throws std::runtime_error with OpenSSL's reason when a step fails.
Pem make_ca(const std::string& common_name, KeyType key = KeyType::ecdsa_p256);
/// A certificate of `spec` signed by `ca`; throws as make_ca().
Pem issue(const Pem& ca, const CertSpec& spec);

/// The demo set in `dir`: ca.pem + ca.key, server-rsa.pem/.key and server-ecdsa.pem/.key for
/// localhost, 127.0.0.1 and `hosts`, `client-<identity>.pem`/`.key` for each identity, all from one CA.
/// Keys are written mode 0600. Returns the files written.
std::vector<std::filesystem::path> write_demo_set(const std::filesystem::path& dir,
                                                  const std::vector<std::string>& identities,
                                                  const std::vector<std::string>& hosts = {});
/// The demo set for one client identity.
inline std::vector<std::filesystem::path> write_demo_set(const std::filesystem::path& dir, const std::string& identity,
                                                         const std::vector<std::string>& hosts = {}) {
  return write_demo_set(dir, std::vector<std::string>{identity}, hosts);
}

}  // namespace ocpp::tls
OCPP_API_END
