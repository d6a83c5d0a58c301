// The upgrade gates without sockets: each gate's answer and security event, and their order.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "ocpp/server/basic_auth.hpp"
#include "server/admission.hpp"

using namespace ocpp;
using namespace ocpp::detail;

namespace {

// A well-formed upgrade for CP1 offering ocpp1.6: every gate passes.
UpgradeRequest upgrade(std::string_view target = "/ocpp/CP1") {
  UpgradeRequest r;
  r.get = true;
  r.is_upgrade = true;
  r.has_upgrade_header = true;
  r.target = target;
  r.subprotocols = "ocpp1.6";
  r.headers = {{"Host", "csms"}, {"Sec-WebSocket-Protocol", "ocpp1.6"}};
  r.remote_address = "10.0.0.7";
  return r;
}

UpgradeRequest plain_get(std::string_view target) {
  auto r = upgrade(target);
  r.is_upgrade = false;
  r.has_upgrade_header = false;
  return r;
}

Reject rejected(const Decision& d) {
  if (!std::holds_alternative<Reject>(d)) throw std::runtime_error("expected a rejection");
  return std::get<Reject>(d);
}

Admit admitted(const Decision& d) {
  if (!std::holds_alternative<Admit>(d)) {
    const auto* r = std::get_if<Reject>(&d);
    throw std::runtime_error("expected admission, got " + (r ? std::to_string(r->status) + " " + r->message : "an endpoint"));
  }
  return std::get<Admit>(d);
}

// The answer and the security event of a refusal, compared at once.
testing::AssertionResult refused(const Decision& d, unsigned status, std::string_view message,
                                 std::optional<SecurityEventType> event = std::nullopt) {
  const auto* r = std::get_if<Reject>(&d);
  if (!r) return testing::AssertionFailure() << "not refused";
  if (r->status != status || r->message != message || r->event != event)
    return testing::AssertionFailure() << "refused with " << r->status << " " << r->message << ", event "
                                       << (r->event ? std::string(to_string(*r->event)) : "none");
  return testing::AssertionSuccess();
}

PeerCertificate certificate_for(std::string cn) {
  PeerCertificate c;
  c.common_name = std::move(cn);
  return c;
}

}  // namespace

TEST(Admission, AWellFormedUpgradeIsAdmittedWithWhatTheRequestSays) {
  Admission admission(ServerOptions{});
  auto r = upgrade("/ocpp/CP%7C1?tenant=a");
  r.subprotocols = "ocpp1.6, ocpp2.0.1";
  const auto d = admission.decide(r);
  const auto& a = admitted(d);
  EXPECT_EQ(a.info.identity, "CP|1");
  EXPECT_EQ(a.info.path, "/ocpp/CP%7C1");
  EXPECT_EQ(a.info.query, "tenant=a");
  EXPECT_EQ(a.info.remote_address, "10.0.0.7");
  EXPECT_EQ(a.info.offered_protocols, (std::vector<std::string>{"ocpp1.6", "ocpp2.0.1"}));
  EXPECT_EQ(a.protocol, "ocpp2.0.1") << "the server's preference order decides";
  EXPECT_FALSE(a.mismatch);
  EXPECT_EQ(a.route, nullptr);
  EXPECT_EQ(a.info.header("host"), "csms");
}

TEST(Admission, ShuttingDownAnswers503WithoutASecurityEvent) {
  Admission admission(ServerOptions{});
  auto r = upgrade();
  r.shutting_down = true;
  EXPECT_TRUE(refused(admission.decide(r), 503, "Server is shutting down"));
}

TEST(Admission, MaxConnectionsAnswers503WithAConnectionLimitEventOnceReached) {
  ServerOptions o;
  o.max_connections = 2;
  Admission admission(o);
  auto r = upgrade();
  r.connections = 1;
  admitted(admission.decide(r));
  r.connections = 2;
  EXPECT_TRUE(refused(admission.decide(r), 503, "Connection limit reached", SecurityEventType::connection_limit));
}

TEST(Admission, AdmittedUpgradesHoldAPlaceUnderMaxConnectionsUntilReleased) {
  ServerOptions o;
  o.max_connections = 3;
  Admission admission(o);
  auto r = upgrade();
  r.connections = 1;  // registered; the two upgrades below are not yet
  EXPECT_TRUE(admitted(admission.decide(r)).holds_slot);
  EXPECT_TRUE(admitted(admission.decide(r)).holds_slot);
  EXPECT_TRUE(refused(admission.decide(r), 503, "Connection limit reached", SecurityEventType::connection_limit))
      << "two upgrades in flight and one connection fill the cap";
  admission.release_slot();  // one upgrade ended (or was registered: then `connections` counts it)
  EXPECT_EQ(admission.reserved_slots(), 1u);
  admitted(admission.decide(r));
  auto late = upgrade("/");  // refused by a later gate: takes no place
  late.connections = 1;
  EXPECT_TRUE(refused(admission.decide(late), 503, "Connection limit reached", SecurityEventType::connection_limit));
  admission.release_slot();
  EXPECT_TRUE(refused(admission.decide(late), 400, "Missing identity in URL path"));
  EXPECT_EQ(admission.reserved_slots(), 1u);
}

TEST(Admission, ZeroMaxConnectionsMeansNoCap) {
  Admission admission(ServerOptions{});
  auto r = upgrade();
  r.connections = 1000000;
  admitted(admission.decide(r));
}

TEST(Admission, PerAddressRateAnswers429WithAConnectionRateLimitEvent) {
  Admission admission(ServerOptions{});
  auto r = upgrade();
  r.address_allowed = [] { return false; };
  EXPECT_TRUE(refused(admission.decide(r), 429, "Too Many Requests", SecurityEventType::connection_rate_limit));
  r.address_allowed = [] { return true; };
  admitted(admission.decide(r));
}

TEST(Admission, ARequestWithAnUpgradeHeaderThatIsNoWebSocketUpgradeAnswers400) {
  Admission admission(ServerOptions{});
  auto r = upgrade();
  r.is_upgrade = false;
  EXPECT_TRUE(refused(admission.decide(r), 400, "Not a WebSocket upgrade"));
}

TEST(Admission, ARequestWithoutAnyUpgradeHeaderAnswers404) {
  Admission admission(ServerOptions{});
  EXPECT_TRUE(refused(admission.decide(plain_get("/ocpp/CP1")), 404, "Not found"));
}

TEST(Admission, HealthAndMetricsAreEndpointsOnlyWithTheHealthEndpointOn) {
  ServerOptions o;
  o.health_endpoint = true;
  Admission with(o);
  EXPECT_EQ(std::get<Endpoint>(with.decide(plain_get("/health"))), Endpoint::health);
  EXPECT_EQ(std::get<Endpoint>(with.decide(plain_get("/health?verbose"))), Endpoint::health);
  EXPECT_EQ(std::get<Endpoint>(with.decide(plain_get("/metrics"))), Endpoint::metrics);
  auto post = plain_get("/health");
  post.get = false;
  EXPECT_TRUE(refused(with.decide(post), 404, "Not found")) << "GET only";
  EXPECT_EQ(admitted(with.decide(upgrade("/health"))).info.identity, "health") << "an upgrade is never an endpoint";

  Admission without(ServerOptions{});
  EXPECT_TRUE(refused(without.decide(plain_get("/health")), 404, "Not found"));
}

TEST(Admission, EndpointsAnswerAtTheConnectionCapButNotWhileShuttingDown) {
  ServerOptions o;
  o.health_endpoint = true;
  o.max_connections = 1;
  Admission admission(o);
  auto r = plain_get("/health");
  r.connections = 1;
  EXPECT_TRUE(std::holds_alternative<Endpoint>(admission.decide(r)));
  r.shutting_down = true;
  EXPECT_TRUE(refused(admission.decide(r), 503, "Server is shutting down"));
}

ServerOptions with_web_root() {
  ServerOptions o;
  o.web_root = "/srv/site";  // admission never looks at the directory
  return o;
}

TEST(Admission, WithAWebRootPlainGetAndHeadNameAFlatFileAndSlashIsTheIndex) {
  Admission admission(with_web_root());
  const auto file = [&](UpgradeRequest r) { return std::get<WebFile>(admission.decide(std::move(r))); };
  EXPECT_EQ(file(plain_get("/")).name, "index.html");
  EXPECT_EQ(file(plain_get("/?url=ws%3A%2F%2Fx&autostart=1")).name, "index.html");
  EXPECT_EQ(file(plain_get("/ocpp-engine.wasm")).name, "ocpp-engine.wasm");
  EXPECT_EQ(file(plain_get("/ocpp.d.ts")).name, "ocpp.d.ts");
  EXPECT_FALSE(file(plain_get("/simulator.js")).head);
  auto head = plain_get("/simulator.js");
  head.get = false;
  head.head = true;
  EXPECT_TRUE(file(head).head);
}

TEST(Admission, WithAWebRootNamesThatCouldLeaveTheDirectoryAnswer404WithoutASecurityEvent) {
  Admission admission(with_web_root());
  for (std::string_view target :
       {"/..", "/../etc/passwd", "/a/../index.html", "/sub/index.html", "//etc/passwd", "/.hidden", "/.", "/%2e%2e",
        "/%2e%2e%2fetc%2fpasswd", "/..%2findex.html", "/a%00.html", "/..\\index.html", "/index.html/", "index.html",
        "http://host/index.html", "/\x01", "/na me"})
    EXPECT_TRUE(refused(admission.decide(plain_get(target)), 404, "Not found")) << target;
  const std::string nul("/a\0b", 4);
  EXPECT_TRUE(refused(admission.decide(plain_get(nul)), 404, "Not found"));
}

TEST(Admission, WithAWebRootOtherMethodsAnswer405AndUpgradesAreUnaffected) {
  Admission admission(with_web_root());
  auto post = plain_get("/index.html");
  post.get = false;
  EXPECT_TRUE(refused(admission.decide(post), 405, "Method Not Allowed"));
  EXPECT_EQ(admitted(admission.decide(upgrade("/index.html"))).info.identity, "index.html");
  auto broken = upgrade("/");
  broken.is_upgrade = false;
  EXPECT_TRUE(refused(admission.decide(broken), 400, "Not a WebSocket upgrade")) << "any Upgrade header: no file";
}

TEST(Admission, HealthAndMetricsStillWinOverAWebRoot) {
  auto o = with_web_root();
  o.health_endpoint = true;
  Admission admission(o);
  EXPECT_EQ(std::get<Endpoint>(admission.decide(plain_get("/health"))), Endpoint::health);
  EXPECT_EQ(std::get<Endpoint>(admission.decide(plain_get("/metrics"))), Endpoint::metrics);
}

TEST(Admission, WithAWebRootFilesAreServedPastTheConnectionCapAndTheAddressLimiter) {
  auto o = with_web_root();
  o.max_connections = 1;
  Admission admission(o);
  auto r = plain_get("/");
  r.connections = 1;
  r.address_allowed = [] { return false; };
  EXPECT_TRUE(std::holds_alternative<WebFile>(admission.decide(r)));
}

TEST(Admission, WithoutAWebRootAPlainGetOfSlashStillAnswers404) {
  Admission admission(ServerOptions{});
  EXPECT_TRUE(refused(admission.decide(plain_get("/")), 404, "Not found"));
  auto head = plain_get("/index.html");
  head.get = false;
  head.head = true;
  EXPECT_TRUE(refused(admission.decide(head), 404, "Not found"));
}

TEST(Admission, NoMatchingRouteAnswers404OnlyOnceARouteExists) {
  Admission admission(ServerOptions{});
  admitted(admission.decide(upgrade("/elsewhere/CP1")));
  admission.add_route("/ocpp/:identity");
  EXPECT_TRUE(refused(admission.decide(upgrade("/elsewhere/CP1")), 404, "Endpoint Not Found"));
  admitted(admission.decide(upgrade("/ocpp/CP1")));
}

TEST(Admission, TheMostSpecificRouteIsChosenAndItsIdentityParameterWins) {
  Admission admission(ServerOptions{});
  const Route& any = admission.add_route("/:tenant/*");
  const Route& station = admission.add_route("/:tenant/:identity/ws");
  const auto d = admission.decide(upgrade("/acme/CP7/ws"));
  const auto& a = admitted(d);
  EXPECT_EQ(a.route, &station);
  EXPECT_NE(a.route, &any);
  EXPECT_EQ(a.info.identity, "CP7") << "not the last segment";
  EXPECT_EQ(a.info.params.at("tenant"), "acme");
}

TEST(Admission, AMalformedRoutePatternIsRefusedAndAddsNothing) {
  Admission admission(ServerOptions{});
  EXPECT_THROW(admission.add_route("/a/*/b"), std::invalid_argument);
  EXPECT_TRUE(std::holds_alternative<Admit>(admission.decide(upgrade("/x/CP1")))) << "no route, so no 404";
}

TEST(Admission, NoIdentityAnswers400) {
  Admission admission(ServerOptions{});
  EXPECT_TRUE(refused(admission.decide(upgrade("/")), 400, "Missing identity in URL path"));
}

TEST(Admission, ATrailingSlashIsAnEmptyIdentityAndDoubleSlashesBeforeItAreHarmless) {
  Admission admission(ServerOptions{});
  EXPECT_TRUE(refused(admission.decide(upgrade("/ocpp/")), 400, "Missing identity in URL path"));
  EXPECT_TRUE(refused(admission.decide(upgrade("/ocpp/CP1/")), 400, "Missing identity in URL path"));
  EXPECT_TRUE(refused(admission.decide(upgrade("/ocpp/CP1/?a=b")), 400, "Missing identity in URL path"));
  EXPECT_EQ(admitted(admission.decide(upgrade("/ocpp//CP1"))).info.identity, "CP1");
  EXPECT_EQ(admitted(admission.decide(upgrade("//CP1?a=b"))).info.identity, "CP1");
}

TEST(Admission, AnIdentityOf48CharactersIsAdmittedAnd49Answer400) {
  Admission admission(ServerOptions{});
  const std::string id48(48, 'C');
  EXPECT_EQ(admitted(admission.decide(upgrade("/ocpp/" + id48))).info.identity, id48);
  EXPECT_TRUE(refused(admission.decide(upgrade("/ocpp/" + id48 + "C")), 400, "Identity too long"));
  EXPECT_TRUE(refused(admission.decide(upgrade("/ocpp/" + std::string(47, 'C') + "%7C%7C")), 400, "Identity too long"))
      << "the decoded identity counts: 49 characters in 51";
  EXPECT_EQ(admitted(admission.decide(upgrade("/ocpp/" + std::string(46, 'C') + "%7C%7C"))).info.identity,
            std::string(46, 'C') + "||");
}

TEST(Admission, MaxIdentityLengthIsConfigurableAndZeroIsNoBound) {
  ServerOptions o;
  o.max_identity_length = 3;
  EXPECT_TRUE(refused(Admission(o).decide(upgrade("/ocpp/CP12")), 400, "Identity too long"));
  admitted(Admission(o).decide(upgrade("/ocpp/CP1")));
  o.max_identity_length = 0;
  admitted(Admission(o).decide(upgrade("/ocpp/" + std::string(500, 'C'))));
}

TEST(Admission, EveryIdentifierStringCharacterIsAdmittedDecodedOrNot) {
  Admission admission(ServerOptions{});
  EXPECT_EQ(admitted(admission.decide(upgrade("/ocpp/az-AZ_09*=:+|@."))).info.identity, "az-AZ_09*=:+|@.");
  EXPECT_EQ(admitted(admission.decide(upgrade("/ocpp/RDAM%7C123"))).info.identity, "RDAM|123");
  EXPECT_EQ(admitted(admission.decide(upgrade("/ocpp/%2A%3D%3A%2B%40"))).info.identity, "*=:+@");
}

TEST(Admission, EveryOtherCharacterClassAnswers400) {
  Admission admission(ServerOptions{});
  for (std::string_view target : {"/ocpp/CP%2F1", "/ocpp/CP%201", "/ocpp/CP%00", "/ocpp/CP%0D%0A1", "/ocpp/CP%7F",
                                  "/ocpp/CP%C3%A91", "/ocpp/CP%FF", "/ocpp/CP%251", "/ocpp/CP~1", "/ocpp/CP!1",
                                  "/ocpp/CP%231", "/ocpp/CP%3F1", "/ocpp/CP%5C1", "/ocpp/CP%2C1", "/ocpp/CP%221",
                                  "/ocpp/a%zz"})
    EXPECT_TRUE(refused(admission.decide(upgrade(target)), 400, "Invalid character in identity")) << target;
}

TEST(Admission, AColonInTheIdentityAnswers400OnlyOnABasicAuthListener) {
  Admission admission(ServerOptions{});
  auto r = upgrade("/ocpp/CP:1");
  admitted(admission.decide(r));
  for (auto profile : {SecurityProfile::basic_auth, SecurityProfile::tls_basic_auth}) {
    r.profile = profile;
    r.headers.emplace_back("Authorization", basic_auth_header("CP:1", "secret-password-16"));
    EXPECT_TRUE(refused(admission.decide(r), 400, "Invalid character in identity"));
  }
  r.profile = SecurityProfile::tls_client_cert;
  admitted(admission.decide(r));
}

TEST(Admission, RelaxedIdentitiesAdmitWhatStrictOnesRefuseButControlsAndSlashes) {
  ServerOptions o;
  o.strict_identity = false;
  Admission admission(o);
  EXPECT_EQ(admitted(admission.decide(upgrade("/ocpp/CP%201"))).info.identity, "CP 1");
  EXPECT_EQ(admitted(admission.decide(upgrade("/ocpp/Z%C3%BCrich"))).info.identity, "Z\xc3\xbcrich");
  EXPECT_EQ(admitted(admission.decide(upgrade("/ocpp/CP~!1"))).info.identity, "CP~!1");
  auto r = upgrade("/ocpp/CP:1");
  r.profile = SecurityProfile::basic_auth;
  r.headers.emplace_back("Authorization", basic_auth_header("CP:1", "secret-password-16"));
  EXPECT_EQ(admitted(admission.decide(r)).info.password, std::optional<std::string>("secret-password-16"))
      << "split after the known identity";
  for (std::string_view target : {"/ocpp/CP%2F1", "/ocpp/CP%0A1", "/ocpp/CP%00", "/ocpp/CP%7F", "/ocpp/CP1/"})
    EXPECT_EQ(rejected(admission.decide(upgrade(target))).status, 400u) << target;
  EXPECT_TRUE(refused(admission.decide(upgrade("/ocpp/" + std::string(49, 'C'))), 400, "Identity too long"))
      << "the length bound stays";
}

TEST(Admission, ARoutesIdentityParameterIsCheckedToo) {
  Admission admission(ServerOptions{});
  admission.add_route("/:tenant/:identity/ws");
  EXPECT_EQ(admitted(admission.decide(upgrade("/acme/CP%7C7/ws"))).info.identity, "CP|7");
  EXPECT_TRUE(refused(admission.decide(upgrade("/acme/" + std::string(49, 'C') + "/ws")), 400, "Identity too long"));
  EXPECT_TRUE(refused(admission.decide(upgrade("/acme/CP%2F7/ws")), 400, "Invalid character in identity"));
  EXPECT_TRUE(refused(admission.decide(upgrade("/acme/CP%207/ws")), 400, "Invalid character in identity"));
  EXPECT_TRUE(refused(admission.decide(upgrade("/acme/CP7/ws/")), 400, "Missing identity in URL path"))
      << "a trailing slash, though the pattern ignores empty segments";
}

TEST(Admission, AMalformedSubprotocolHeaderAnswers400) {
  Admission admission(ServerOptions{});
  auto r = upgrade();
  r.subprotocols = "ocpp1.6,,ocpp2.0.1";
  EXPECT_TRUE(refused(admission.decide(r), 400, "Malformed Sec-WebSocket-Protocol header"));
}

TEST(Admission, NoCommonSubprotocolIsAdmittedForACloseAfterTheUpgradeByDefault) {
  Admission admission(ServerOptions{});
  auto r = upgrade();
  r.subprotocols = "ocpp1.5";
  const auto d = admission.decide(r);
  const auto& a = admitted(d);
  EXPECT_TRUE(a.mismatch);
  EXPECT_EQ(a.protocol, "");
}

TEST(Admission, NoCommonSubprotocolAnswers400WithHttp400Mismatch) {
  ServerOptions o;
  o.protocol_mismatch = ProtocolMismatch::http_400;
  Admission admission(o);
  auto r = upgrade();
  r.subprotocols = "ocpp1.5";
  EXPECT_TRUE(refused(admission.decide(r), 400, "No matching subprotocol"));
  r.subprotocols = "";
  EXPECT_TRUE(refused(admission.decide(r), 400, "Missing subprotocol"));
}

TEST(Admission, NoSubprotocolHeaderAnswers400UnlessLegacyStationsAreLetInUnderANamedProtocol) {
  ServerOptions o;
  Admission strict(o);
  auto r = upgrade();
  r.subprotocols = "";
  r.has_subprotocol_header = false;
  EXPECT_TRUE(refused(strict.decide(r), 400, "OCPP subprotocol required"));

  o.protocol_when_absent = "ocpp1.6";
  Admission legacy(o);
  legacy.add_route("/v201/:identity").config({.protocol_when_absent = ""});  // not on this route
  legacy.add_route("/old/:identity").config({.protocol_when_absent = "ocpp1.5"});
  legacy.add_route("/ocpp/:identity");
  const auto d = legacy.decide(r);
  EXPECT_EQ(admitted(d).protocol, "ocpp1.6");
  EXPECT_FALSE(admitted(d).answer_protocol) << "the answer names no protocol the station did not offer";
  EXPECT_FALSE(admitted(d).mismatch);
  r.target = "/old/CP1";
  EXPECT_EQ(admitted(legacy.decide(r)).protocol, "ocpp1.5");
  r.target = "/v201/CP1";
  EXPECT_TRUE(refused(legacy.decide(r), 400, "OCPP subprotocol required"));
}

TEST(Admission, ARoutesProtocolsReplaceTheServersAndAnEmptyListTakesTheFirstOffer) {
  ServerOptions o;
  o.protocols = {};
  Admission admission(o);
  admission.add_route("/v201/:identity").config({.protocols = std::vector<std::string>{"ocpp2.0.1"}});
  admission.add_route("/any/:identity");
  auto r = upgrade("/v201/CP1");
  r.subprotocols = "ocpp1.6, ocpp2.0.1";
  EXPECT_EQ(admitted(admission.decide(r)).protocol, "ocpp2.0.1");
  r.target = "/any/CP1";
  EXPECT_EQ(admitted(admission.decide(r)).protocol, "ocpp1.6");
  r.subprotocols = "";
  const auto d = admission.decide(r);
  EXPECT_EQ(admitted(d).protocol, "");
  EXPECT_FALSE(admitted(d).mismatch);
}

TEST(Admission, Profiles1And2WithoutAPasswordForTheIdentityAnswer401WithAnAuthFailedEvent) {
  Admission admission(ServerOptions{});
  for (auto profile : {SecurityProfile::basic_auth, SecurityProfile::tls_basic_auth}) {
    auto r = upgrade();
    r.profile = profile;
    EXPECT_TRUE(refused(admission.decide(r), 401, "Unauthorized", SecurityEventType::auth_failed));
    EXPECT_EQ(rejected(admission.decide(r)).identity, "CP1");
    r.headers.emplace_back("Authorization", basic_auth_header("CP2", "secret-for-cp2"));
    EXPECT_TRUE(refused(admission.decide(r), 401, "Unauthorized", SecurityEventType::auth_failed))
        << "a password for another identity is none";
  }
}

TEST(Admission, ThePasswordIsTakenOutOfTheHeadersTheChainSees) {
  Admission admission(ServerOptions{});
  auto r = upgrade();
  r.profile = SecurityProfile::basic_auth;
  r.headers.emplace_back("authorization", basic_auth_header("CP1", "pa:ss"));
  const auto d = admission.decide(r);
  const auto& a = admitted(d);
  EXPECT_EQ(a.info.password, std::optional<std::string>("pa:ss"));
  EXPECT_EQ(a.info.header("Authorization"), "");
  EXPECT_EQ(a.info.security_profile, SecurityProfile::basic_auth);
}

TEST(Admission, Profile3CertificateForAnotherStationAnswers403WithAnAuthFailedEvent) {
  Admission admission(ServerOptions{});
  const CertificateBinding binding = cn_equals_identity;
  auto r = upgrade();
  r.profile = SecurityProfile::tls_client_cert;
  r.binding = &binding;
  r.client_certificate = certificate_for("CP2");
  EXPECT_TRUE(refused(admission.decide(r), 403, "Client certificate does not match the identity",
                      SecurityEventType::auth_failed));
  const auto reject = rejected(admission.decide(r));
  EXPECT_NE(reject.details.find("CN=CP2"), std::string::npos);
  EXPECT_EQ(reject.identity, "CP1");
  r.client_certificate = certificate_for("CP1");
  EXPECT_EQ(admitted(admission.decide(r)).info.client_certificate->common_name, "CP1");
}

TEST(Admission, Profile3WithoutABindingAdmitsAnyVerifiedCertificate) {
  Admission admission(ServerOptions{});
  const CertificateBinding none;
  auto r = upgrade();
  r.profile = SecurityProfile::tls_client_cert;
  r.client_certificate = certificate_for("CP2");
  r.binding = &none;
  admitted(admission.decide(r));
}

TEST(Admission, ABindingThatThrowsTakesTheUpgradeErrorPath) {
  Admission admission(ServerOptions{});
  const CertificateBinding throws = [](const PeerCertificate&, std::string_view) -> bool {
    throw std::runtime_error("directory down");
  };
  auto r = upgrade();
  r.profile = SecurityProfile::tls_client_cert;
  r.binding = &throws;
  r.client_certificate = certificate_for("CP1");
  EXPECT_TRUE(refused(admission.decide(r), 500, "Internal Server Error")) << "an application failure, not an attack";
  const auto reject = rejected(admission.decide(r));
  EXPECT_EQ(reject.error, std::optional<std::string>("certificate binding: directory down"));
  EXPECT_EQ(reject.identity, "CP1");
}

TEST(Admission, TheFirstFailingGateWins) {
  ServerOptions o;
  o.max_connections = 1;
  o.protocol_mismatch = ProtocolMismatch::http_400;
  Admission admission(o);
  admission.add_route("/ocpp/:identity");
  admission.add_route("/");  // matches "/" only, which has no identity
  int limiter_asked = 0;
  // Everything wrong at once, then one fault fixed at a time: each answer is the next gate's.
  UpgradeRequest r = upgrade("/elsewhere/CP1");
  r.shutting_down = true;
  r.connections = 1;
  r.address_allowed = [&] {
    ++limiter_asked;
    return false;
  };
  r.is_upgrade = false;
  r.subprotocols = "bad,,header";
  r.profile = SecurityProfile::basic_auth;
  EXPECT_TRUE(refused(admission.decide(r), 503, "Server is shutting down"));
  r.shutting_down = false;
  EXPECT_TRUE(refused(admission.decide(r), 503, "Connection limit reached", SecurityEventType::connection_limit));
  EXPECT_EQ(limiter_asked, 0) << "asking takes a token, so only once the earlier gates pass";
  r.connections = 0;
  EXPECT_TRUE(refused(admission.decide(r), 429, "Too Many Requests", SecurityEventType::connection_rate_limit));
  EXPECT_EQ(limiter_asked, 1);
  r.address_allowed = nullptr;
  EXPECT_TRUE(refused(admission.decide(r), 400, "Not a WebSocket upgrade"));
  r.has_upgrade_header = false;
  EXPECT_TRUE(refused(admission.decide(r), 404, "Not found"));
  r.is_upgrade = true;
  EXPECT_TRUE(refused(admission.decide(r), 404, "Endpoint Not Found"));
  r.target = "/";
  EXPECT_TRUE(refused(admission.decide(r), 400, "Missing identity in URL path"));
  r.target = "/ocpp/CP1";
  EXPECT_TRUE(refused(admission.decide(r), 400, "Malformed Sec-WebSocket-Protocol header"));
  r.subprotocols = "ocpp1.5";
  EXPECT_TRUE(refused(admission.decide(r), 400, "No matching subprotocol"));
  r.subprotocols = "ocpp1.6";
  EXPECT_TRUE(refused(admission.decide(r), 401, "Unauthorized", SecurityEventType::auth_failed));
  r.profile = SecurityProfile::none;
  EXPECT_EQ(admitted(admission.decide(r)).info.identity, "CP1");
}
