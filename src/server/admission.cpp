#include "server/admission.hpp"

#include "ocpp/server/basic_auth.hpp"
#include "server/handshake.hpp"
#include "server/web_root.hpp"

namespace ocpp::detail {

Admission::Admission(const ServerOptions& options)
    : max_connections_(options.max_connections),
      protocols_(options.protocols),
      protocol_mismatch_(options.protocol_mismatch),
      protocol_when_absent_(options.protocol_when_absent),
      endpoints_(options.health_endpoint),
      web_(!options.web_root.empty()),
      max_identity_length_(options.max_identity_length),
      strict_identity_(options.strict_identity) {}

Route& Admission::add_route(std::string_view pattern) {
  patterns_.emplace_back(pattern);
  return routes_.emplace_back(pattern);
}

Decision Admission::decide(UpgradeRequest request) const {
  if (request.shutting_down) return Reject{503, "Server is shutting down"};
  if (endpoints_ && request.get && !request.is_upgrade) {
    const auto path = request.target.substr(0, request.target.find('?'));
    if (path == "/health") return Endpoint::health;
    if (path == "/metrics") return Endpoint::metrics;
  }
  // Like the endpoints, before the connection gates: a file answer holds no connection, and a page
  // load's several requests must not use up the address's tokens for the WebSocket that follows.
  // A request with any Upgrade header is left to the upgrade's answers below.
  if (web_ && !request.has_upgrade_header) {
    if (!request.get && !request.head) return Reject{405, "Method Not Allowed"};
    auto name = web_file_name(request.target);
    if (!name) return Reject{404, "Not found"};
    return WebFile{std::move(*name), request.head};
  }
  const auto over_the_cap = [&](std::size_t reserved) {
    return max_connections_ && request.connections + reserved >= max_connections_;
  };
  const auto at_the_cap = [] {
    return Reject{503, "Connection limit reached", SecurityEventType::connection_limit, "max_connections reached"};
  };
  if (over_the_cap(reserved_slots())) return at_the_cap();
  if (request.address_allowed && !request.address_allowed())
    return Reject{429, "Too Many Requests", SecurityEventType::connection_rate_limit,
                  "too many connections from this address"};
  if (!request.is_upgrade) {
    if (request.has_upgrade_header) return Reject{400, "Not a WebSocket upgrade"};
    return Reject{404, "Not found"};
  }

  Admit admit;
  HandshakeInfo& info = admit.info;
  RequestPath path = parse_request_target(request.target);
  if (!routes_.empty()) {
    auto best = best_match(patterns_, path.path);
    if (!best) return Reject{404, "Endpoint Not Found"};
    admit.route = &routes_[best->first];
    info.params = std::move(best->second.params);
    if (auto it = info.params.find("identity"); it != info.params.end()) path.identity = it->second;
  }
  // OCPP puts the identity in the last segment: a target ending in '/' has none, whatever a route
  // makes of the segments before (its patterns ignore empty segments).
  if (path.path.ends_with('/')) path.identity.clear();
  if (auto fault = identity_fault(path.identity, {.max_length = max_identity_length_,
                                                  .strict = strict_identity_,
                                                  .basic_auth = uses_password(request.profile)}))
    return Reject{400, std::string(*fault)};
  auto offered = parse_subprotocols(request.subprotocols);
  if (!offered) return Reject{400, "Malformed Sec-WebSocket-Protocol header"};

  if (!request.has_subprotocol_header) {
    // Nothing offered is no mismatch to upgrade and close (OCPP-J): answered at once, unless legacy
    // stations are let in under a named protocol.
    const auto* legacy = admit.route ? &admit.route->settings().protocol_when_absent : nullptr;
    admit.protocol = legacy && *legacy ? **legacy : protocol_when_absent_;
    if (admit.protocol.empty()) return Reject{400, "OCPP subprotocol required"};
    admit.answer_protocol = false;
  } else {
    const auto& accepted =
        admit.route && admit.route->settings().protocols ? *admit.route->settings().protocols : protocols_;
    admit.protocol = accepted.empty() ? (offered->empty() ? std::string() : offered->front())
                                      : negotiate_subprotocol(accepted, *offered);
    admit.mismatch = !accepted.empty() && admit.protocol.empty();
    if (admit.mismatch && protocol_mismatch_ == ProtocolMismatch::http_400)
      return Reject{400, offered->empty() ? "Missing subprotocol" : "No matching subprotocol"};
  }

  info.identity = std::move(path.identity);
  info.path = std::move(path.path);
  info.query = std::move(path.query);
  info.offered_protocols = std::move(*offered);
  info.remote_address = std::move(request.remote_address);
  info.security_profile = request.profile;
  info.client_certificate = std::move(request.client_certificate);
  for (auto& [name, value] : request.headers) {
    // Kept out of the headers the chain sees; only the password, checked against the identity, is.
    if (iequals(name, "Authorization")) {
      info.password = basic_auth_password(value, info.identity);
      continue;
    }
    info.headers.emplace_back(std::move(name), std::move(value));
  }
  if (uses_password(info.security_profile) && !info.password)
    return Reject{401, "Unauthorized", SecurityEventType::auth_failed, "no Basic Auth password for this identity", {},
                  info.identity};
  if (info.security_profile == SecurityProfile::tls_client_cert && request.binding && *request.binding) {
    bool fits = false;
    try {
      fits = info.client_certificate && (*request.binding)(*info.client_certificate, info.identity);
    } catch (const std::exception& e) {
      return Reject{500, "Internal Server Error", {}, {}, std::string("certificate binding: ") + e.what(), info.identity};
    }
    if (!fits)
      return Reject{403, "Client certificate does not match the identity", SecurityEventType::auth_failed,
                    "client certificate CN=" + (info.client_certificate ? info.client_certificate->common_name : "") +
                        " does not fit the identity",
                    {}, info.identity};
  }
  if (max_connections_) {  // the place is taken only now, when no later gate can refuse
    auto reserved = reserved_slots();
    do {
      if (over_the_cap(reserved)) return at_the_cap();
    } while (!reserved_.compare_exchange_weak(reserved, reserved + 1, std::memory_order_relaxed));
    admit.holds_slot = true;
  }
  return admit;
}

}  // namespace ocpp::detail
