#pragma once
// The gates an HTTP upgrade passes before the middleware chain, in the order and with the answers
// README.md documents. IO-free: the caller reads the request and the server's state, and answers
// what comes back; so the gates can be tested without sockets, and a cluster layer can feed them
// its own connection count.
#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ocpp/server/connection.hpp"
#include "ocpp/server/server.hpp"
#include "server/router.hpp"

namespace ocpp::detail {

struct UpgradeRequest {
  bool shutting_down = false;
  std::size_t connections = 0;  // registered now (upgrades admitted meanwhile are the admission's)
  // The per-address limiter; empty when there is none. Asked only once the earlier gates pass,
  // because asking takes a token.
  std::function<bool()> address_allowed{};
  bool get = false;                 // the method is GET
  bool head = false;                // the method is HEAD
  bool is_upgrade = false;          // a WebSocket upgrade (RFC 6455)
  bool has_upgrade_header = false;  // any Upgrade header at all
  std::string_view target{};
  std::string_view subprotocols{};  // Sec-WebSocket-Protocol
  bool has_subprotocol_header = true;
  std::vector<std::pair<std::string, std::string>> headers{};  // as received, Authorization included
  // What the connection knows before its request.
  std::string remote_address{};
  SecurityProfile profile = SecurityProfile::none;  // the listener's
  std::optional<PeerCertificate> client_certificate{};
  const CertificateBinding* binding = nullptr;  // the TLS listener's
};

// Answered by observability, not by the chain.
enum class Endpoint { health, metrics };

struct Admit {
  HandshakeInfo info;    // complete but for compression, known once the upgrade is answered
  std::string protocol;  // empty when none was offered or, with mismatch, none fits
  bool mismatch = false;  // ProtocolMismatch::close_after_upgrade: upgrade, then close 1002
  const Route* route = nullptr;
  bool holds_slot = false;  // a place under max_connections, for Admission::release_slot()
  // False for ServerOptions::protocol_when_absent: the station offered none, so the answer names none.
  bool answer_protocol = true;
};

struct Reject {
  unsigned status = 0;
  std::string message;
  std::optional<SecurityEventType> event{};
  std::string details{};  // of the event
  // Set when application code (the certificate binding) threw: reported as on_upgrade_error.
  std::optional<std::string> error{};
  std::string identity{};  // as far as the gates had parsed it, for the event
};

// A file under ServerOptions::web_root, by a name that stays inside it; the file itself is not
// looked at yet (it may be missing: 404).
struct WebFile {
  std::string name;
  bool head = false;  // headers only
};

using Decision = std::variant<Admit, Reject, Endpoint, WebFile>;

class Admission {
 public:
  explicit Admission(const ServerOptions& options);

  // Throws std::invalid_argument for a malformed pattern (and then adds nothing). The reference
  // stays valid for the admission's lifetime.
  Route& add_route(std::string_view pattern);

  // Thread-safe. With max_connections, an admitted upgrade holds a place under the cap until it is
  // registered or has ended, so upgrades in flight count with the registered connections.
  Decision decide(UpgradeRequest request) const;
  // Gives an Admit's place back: the connection is registered now (and counted there), or the
  // upgrade ended.
  void release_slot() const noexcept { reserved_.fetch_sub(1, std::memory_order_relaxed); }
  std::size_t reserved_slots() const noexcept { return reserved_.load(std::memory_order_relaxed); }

 private:
  std::size_t max_connections_;
  mutable std::atomic<std::size_t> reserved_{0};
  std::vector<std::string> protocols_;
  ProtocolMismatch protocol_mismatch_;
  std::string protocol_when_absent_;
  bool endpoints_;
  bool web_;
  std::size_t max_identity_length_;
  bool strict_identity_;
  std::deque<Route> routes_;  // stable addresses: an admitted upgrade points at its route
  std::vector<RoutePattern> patterns_;
};

}  // namespace ocpp::detail
