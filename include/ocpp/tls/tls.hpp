#pragma once
/// @file
/// Security profiles and the TLS settings of clients and listeners. TLS is OpenSSL driven directly
/// on the socket (no asio::ssl buffers), TLS 1.2 and 1.3 only, with the OCPP cipher suites.
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// OCPP security profiles (2.0.1 part 2 §A00; the 1.6 security whitepaper).
enum class SecurityProfile : int {
  none = 0,             ///< ws://, no credentials
  basic_auth = 1,       ///< ws:// with HTTP Basic Auth
  tls_basic_auth = 2,   ///< wss:// with HTTP Basic Auth, the server verified by the client
  tls_client_cert = 3,  ///< wss:// with a client certificate, no Basic Auth
};

/// Whether profile `p` runs over TLS (wss://).
constexpr bool uses_tls(SecurityProfile p) noexcept { return static_cast<int>(p) >= 2; }
/// Whether profile `p` authenticates with a Basic Auth password.
constexpr bool uses_password(SecurityProfile p) noexcept {
  return p == SecurityProfile::basic_auth || p == SecurityProfile::tls_basic_auth;
}

/// Bad TLS material (unreadable file, wrong passphrase, key not matching the certificate, ...).
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What the server learned of the client's certificate (profile 3), after chain verification.
struct PeerCertificate {
  std::string pem;  ///< the certificate, PEM
  std::string subject;  ///< RFC 2253, e.g. "CN=CP001,O=Example CSO"
  std::string common_name;  ///< the subject's CN
  std::string organization;  ///< the subject's O
  std::string issuer;  ///< the issuer, RFC 2253
  std::string serial_number;       ///< upper-case hex
  std::string sha256_fingerprint;  ///< upper-case hex, no separators
  std::chrono::system_clock::time_point not_before{};  ///< start of validity
  std::chrono::system_clock::time_point not_after{};  ///< end of validity
};

/// TLS 1.2 suites a CSMS must offer (A00.FR.318): ECDSA and RSA side by side, GCM only, plus the
/// ECDHE-RSA pair for forward secrecy with RSA certificates.
inline constexpr std::string_view kOcppCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
    "AES128-GCM-SHA256:AES256-GCM-SHA384";
/// TLS 1.3 suites a CSMS must offer.
inline constexpr std::string_view kOcppCipherSuitesTls13 = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";

/// TLS settings of a client (wss://).
struct ClientTlsOptions {
  /// PEM bundle of the CAs that may sign the CSMS certificate; empty: the system's store.
  std::string ca_file;
  /// Profile 3: the station's certificate (chain) and key, PEM.
  std::string cert_file;
  std::string key_file;  ///< PEM key of cert_file
  std::string key_passphrase;  ///< the key's passphrase, if encrypted
  /// Off only for tests against throwaway servers: the CSMS is then not authenticated at all.
  bool verify_server = true;
  /// Sent as SNI and checked against the certificate; default: the URL's host.
  std::string server_name;
  std::string cipher_list{kOcppCipherList};  ///< TLS 1.2 cipher list (OpenSSL syntax)
  std::string cipher_suites{kOcppCipherSuitesTls13};  ///< TLS 1.3 cipher suites (OpenSSL syntax)
};

/// A certificate chain and its key, PEM files.
struct TlsCertificateFiles {
  std::string cert_file;  ///< PEM: the certificate, then its intermediates
  std::string key_file;  ///< PEM key of cert_file
  std::string key_passphrase;  ///< the key's passphrase, if encrypted
};

/// Decides whether a verified client certificate may connect as the requested identity.
using CertificateBinding = std::function<bool(const PeerCertificate&, std::string_view identity)>;
/// The default: the certificate's CN is exactly the identity in the URL.
bool cn_equals_identity(const PeerCertificate& cert, std::string_view identity);
/// A00.FR.405: the CN contains the station's serial number, where the identity is that serial.
bool cn_contains_identity(const PeerCertificate& cert, std::string_view identity);

/// TLS settings of a server listener (profiles 2 and 3).
struct ServerTlsOptions {
  /// One entry per key type: an RSA and an ECDSA certificate are served side by side, each client
  /// getting the one its cipher suites allow.
  std::vector<TlsCertificateFiles> certificates;
  /// Profile 3: PEM bundle of the CAs whose client certificates are accepted.
  std::string ca_file;
  /// Profile 3: after the chain is verified, the certificate must fit the identity; a mismatch is
  /// answered 403. Null: no binding (the auth callback sees the certificate and may decide).
  CertificateBinding binding = cn_equals_identity;
  std::string cipher_list{kOcppCipherList};  ///< TLS 1.2 cipher list (OpenSSL syntax)
  std::string cipher_suites{kOcppCipherSuitesTls13};  ///< TLS 1.3 cipher suites (OpenSSL syntax)
};

}  // namespace ocpp
OCPP_API_END
