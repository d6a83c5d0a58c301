// The HTTP upgrade as the server reads it, without sockets: Beast's request parser with the
// upgrade's limits, then the admission gates (identity from the path, percent decoding, the
// subprotocol list, Basic Auth) under a plain and a routed, password-protected configuration.
// Each piece's round trip is checked on the same input: percent escapes, the subprotocol list and
// the Basic Auth header decode to what was encoded.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "check.hpp"
#include "http/text.hpp"
#include "ocpp/http/basic_auth.hpp"
#include "server/admission.hpp"
#include "server/handshake.hpp"

namespace {
namespace http = boost::beast::http;
using namespace ocpp::detail;

const Admission& plain() {
  static const Admission a(ocpp::ServerOptions{});
  return a;
}

ocpp::ServerOptions routed_options() {
  ocpp::ServerOptions o;
  o.health_endpoint = true;
  o.max_connections = 5;
  o.protocols = {"ocpp2.0.1", "ocpp1.6"};
  return o;
}

// Admission holds an atomic (the places reserved under max_connections): built in place.
const Admission& routed() {
  static Admission a(routed_options());
  static const bool routes_added = [] {
    a.add_route("/ocpp/:tenant/:identity");
    a.add_route("/legacy/*");
    a.add_route("/v16/:identity").config({.protocols = std::vector<std::string>{"ocpp1.6"}});
    a.add_route("/legacy16/:identity").config({.protocol_when_absent = std::string("ocpp1.6")});
    return true;
  }();
  (void)routes_added;
  return a;
}

void check_decision(const Admission& admission, const Decision& d) {
  if (const auto* admit = std::get_if<Admit>(&d)) {
    // The upgrade gives its place back when it ends; so does each input here.
    if (admit->holds_slot) admission.release_slot();
    FUZZ_CHECK(!admit->info.identity.empty());
    if (admit->mismatch) FUZZ_CHECK(admit->protocol.empty());
    const auto& offered = admit->info.offered_protocols;
    if (!admit->answer_protocol) FUZZ_CHECK(offered.empty() && !admit->protocol.empty());
    else if (!admit->protocol.empty())
      FUZZ_CHECK(std::find(offered.begin(), offered.end(), admit->protocol) != offered.end());
  } else if (const auto* reject = std::get_if<Reject>(&d)) {
    FUZZ_CHECK(reject->status >= 400 && reject->status < 600 && !reject->message.empty());
  }
}

// The gates on one parsed request, as Upgrade::admission_request builds it.
void admit(const http::request<http::empty_body>& req, std::size_t connections) {
  for (auto profile : {ocpp::SecurityProfile::none, ocpp::SecurityProfile::basic_auth}) {
    UpgradeRequest r;
    r.connections = connections;
    r.get = req.method() == http::verb::get;
    r.is_upgrade = boost::beast::websocket::is_upgrade(req);
    r.has_upgrade_header = req.count(http::field::upgrade) > 0;
    r.target = req.target();
    r.subprotocols = req[http::field::sec_websocket_protocol];
    r.has_subprotocol_header = req.count(http::field::sec_websocket_protocol) > 0;
    for (const auto& field : req) r.headers.emplace_back(field.name_string(), field.value());
    r.remote_address = "192.0.2.1";
    r.profile = profile;
    const auto& admission = profile == ocpp::SecurityProfile::none ? plain() : routed();
    check_decision(admission, admission.decide(std::move(r)));
  }
}

// The pieces directly on arbitrary text, with their round trips.
void pieces(std::string_view text) {
  const auto path = parse_request_target(text);
  FUZZ_CHECK(path.path.size() + path.query.size() <= text.size());
  FUZZ_CHECK(percent_decode(percent_encode(text)) == text);
  FUZZ_CHECK(percent_decode(text).size() <= text.size());

  if (const auto list = parse_subprotocols(text)) {
    std::string joined;
    for (const auto& p : *list) joined += (joined.empty() ? "" : ", ") + p;
    const auto again = parse_subprotocols(joined);
    FUZZ_CHECK(again && *again == *list);
    (void)negotiate_subprotocol({"ocpp2.1", "ocpp2.0.1", "ocpp1.6"}, *list);
  }

  // The identity is everything up to the first NUL; the password is the rest.
  const auto nul = text.find('\0');
  const auto identity = text.substr(0, nul);
  const auto password = nul == std::string_view::npos ? std::string_view() : text.substr(nul + 1);
  const auto decoded = ocpp::basic_auth_password(ocpp::basic_auth_header(identity, password), identity);
  FUZZ_CHECK(decoded && *decoded == password);
  (void)ocpp::basic_auth_password(text, identity);
  (void)ocpp::basic_auth_password(text, "CP1");
  for (auto v : {ocpp::ProtocolVersion::v16, ocpp::ProtocolVersion::v201, ocpp::ProtocolVersion::v21})
    (void)ocpp::is_valid_ocpp_password(v, password);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pieces(text);

  http::request_parser<http::empty_body> parser;
  parser.header_limit(8 * 1024);  // as src/server/upgrade.cpp reads a request
  parser.body_limit(0);
  boost::system::error_code ec;
  std::string_view rest = text;
  while (!rest.empty() && !parser.is_header_done()) {
    const auto used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (ec == http::error::need_more) break;
    if (ec) return 0;
    rest.remove_prefix(used);
    if (used == 0) break;
  }
  if (!parser.is_header_done()) return 0;
  admit(parser.get(), size % 7);
  return 0;
}
