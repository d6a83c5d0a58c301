#include "ocpp/server/basic_auth.hpp"

namespace ocpp {

AuthCallback basic_auth(std::function<std::optional<std::string>(std::string_view identity)> lookup, bool check_rules) {
  return [lookup = std::move(lookup), check_rules](std::shared_ptr<AuthContext> ctx) {
    const auto& h = ctx->handshake();
    const auto expected = lookup(h.identity);
    const auto version =
        h.offered_protocols.empty() ? ProtocolVersion::other : protocol_version(h.offered_protocols.front());
    if (!expected || !h.password || !constant_time_equals(*h.password, *expected) ||
        (check_rules && !is_valid_ocpp_password(version, *expected)))
      return ctx->reject(401, "Unauthorized");
    ctx->accept();
  };
}

}  // namespace ocpp
