#pragma once
// Internal: OpenSSL contexts for clients and listeners, and what a handshake reveals.
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "ocpp/tls/tls.hpp"

namespace ocpp::detail {

using SslContext = std::shared_ptr<SSL_CTX>;

struct SslFree {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// Both throw TlsError naming the file and OpenSSL's reason.
SslContext make_client_context(const ClientTlsOptions& options);
SslContext make_server_context(SecurityProfile profile, const ServerTlsOptions& options);

// `host` is sent as SNI (unless an IP literal) and, when the context verifies, checked against the
// certificate's names (or IP addresses).
SslPtr make_client_ssl(SSL_CTX* context, const std::string& host);
SslPtr make_server_ssl(SSL_CTX* context);

PeerCertificate peer_certificate(X509* certificate);
// Why a handshake failed, for logs and ConnectError: the certificate verdict when there is one.
std::string tls_failure(SSL* ssl, const boost::system::error_code& ec);
// Whether the handshake failed because the peer's certificate was refused.
bool certificate_rejected(SSL* ssl) noexcept;

}  // namespace ocpp::detail
