#pragma once
// The raw connections `ocpp check` probes a server with: a bare WebSocket that sends exactly the
// bytes a check asks for (broken JSON, huge or fragmented frames, pings), a bare HTTP request and a
// bare TLS handshake. Every step has a deadline, so a server that hangs fails a check instead of
// hanging the run.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ocpp/client/url.hpp"

namespace ocpp::app::conformance {

// Where and how to connect; the credentials are used when set.
struct Target {
  WsUrl url;
  std::string identity;
  std::string password;  // Basic Auth
  std::string cert, key;  // client certificate (wss://)
  std::string ca;         // verify the server with it (wss://); empty: the system's CAs
  std::chrono::milliseconds timeout{3000};
};

// What one handshake may vary.
struct Offer {
  std::optional<std::string> protocol;  // Sec-WebSocket-Protocol; nullopt: no header
  std::string identity;                 // empty: the target's
  std::optional<std::string> target;    // the request target as is; nullopt: built from the URL and identity
  bool send_password = true;
  std::optional<std::string> username;  // Basic Auth user other than the identity
  std::optional<std::string> password;  // other than the target's
  bool send_cert = true;
};

struct Handshake {
  bool upgraded = false;
  unsigned status = 0;    // HTTP status, 0 when there was no HTTP answer
  std::optional<std::string> protocol;  // Sec-WebSocket-Protocol of the answer
  std::string error;      // why it did not upgrade
};

// What came in next on a connection.
struct Incoming {
  enum class Kind { text, binary, close, dropped, timeout } kind = Kind::timeout;
  std::string data;         // the frame, the close reason, or the error
  unsigned close_code = 0;  // Kind::close
};

class Probe {
 public:
  virtual ~Probe() = default;
  virtual void send(std::string_view text) = 0;
  // The text as `fragments` frames (a first one and continuations).
  virtual void send_fragmented(std::string_view text, std::size_t fragments) = 0;
  virtual Incoming receive() = 0;
  // A ping with `payload`; true when its pong (same payload) arrives in time. Text frames that come
  // meanwhile are dropped.
  virtual bool ping(const std::string& payload) = 0;
  // Sends close 1000 and waits for the server's close; false when none came in time.
  virtual bool close() = 0;
};

// Upgrades a fresh connection; `probe` is null unless the upgrade succeeded.
struct Opened {
  Handshake handshake;
  std::unique_ptr<Probe> probe;
};
Opened open_probe(const Target& target, const Offer& offer);

// The request target an upgrade with this offer asks for.
std::string request_target(const Target& target, const Offer& offer);

// A plain GET on the endpoint, no upgrade: its HTTP status, or 0 and `error`.
unsigned plain_get(const Target& target, std::string& error);

// A TLS handshake (no HTTP after it) with exactly these versions and suites.
struct TlsOffer {
  int min_version = 0, max_version = 0;  // TLS1_2_VERSION...; 0: OpenSSL's default
  std::string ciphers;                   // TLS 1.2 and older; empty: the default
  bool send_cert = true;
};
struct TlsOutcome {
  bool ok = false;
  std::string version, cipher, error;
};
TlsOutcome tls_handshake(const Target& target, const TlsOffer& offer);

}  // namespace ocpp::app::conformance
