#include "generators/payloads.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <span>
#include <stdexcept>

namespace ocpp::fuzzgen {
namespace {

struct Sample {
  std::string_view action, payload;
};

// The "minimal" samples of tests/messages/generated (codegen/generate.py): required members only.
constexpr Sample kV16[] = {
    {"Authorize", R"({"idTag":"abcdefgh"})"},
    {"BootNotification", R"({"chargePointVendor":"abcdefgh","chargePointModel":"abcdefgh"})"},
    {"DataTransfer", R"({"vendorId":"abcdefgh"})"},
    {"FirmwareStatusNotification", R"({"status":"Downloaded"})"},
    {"Heartbeat", "{}"},
    {"MeterValues", R"({"connectorId":1,"meterValue":[]})"},
    {"StartTransaction", R"({"connectorId":1,"idTag":"abcdefgh","meterStart":1,"timestamp":"2024-01-15T10:30:00.123Z"})"},
    {"StatusNotification", R"({"connectorId":1,"errorCode":"ConnectorLockFailure","status":"Available"})"},
    {"StopTransaction", R"({"meterStop":1,"timestamp":"2024-01-15T10:30:00.123Z","transactionId":1})"},
};
constexpr Sample kV2[] = {
    {"Authorize", R"({"idToken":{"idToken":"abcdefgh","type":"Central"}})"},
    {"BootNotification", R"({"chargingStation":{"model":"abcdefgh","vendorName":"abcdefgh"},"reason":"ApplicationReset"})"},
    {"DataTransfer", R"({"vendorId":"abcdefgh"})"},
    {"FirmwareStatusNotification", R"({"status":"Downloaded"})"},
    {"Heartbeat", "{}"},
    {"MeterValues", R"({"evseId":1,"meterValue":[{"sampledValue":[{"value":1.5}],"timestamp":"2024-01-15T10:30:00.123Z"}]})"},
    {"SecurityEventNotification", R"({"type":"abcdefgh","timestamp":"2024-01-15T10:30:00.123Z"})"},
    {"StatusNotification", R"({"timestamp":"2024-01-15T10:30:00.123Z","connectorStatus":"Available","evseId":1,"connectorId":1})"},
    {"TransactionEvent", R"({"eventType":"Ended","timestamp":"2024-01-15T10:30:00.123Z","triggerReason":"Authorized","seqNo":1,"transactionInfo":{"transactionId":"abcdefgh"}})"},
};

std::span<const Sample> calls_of(std::string_view protocol) {
  if (protocol == "ocpp1.6") return kV16;
  if (protocol == "ocpp2.0.1" || protocol == "ocpp2.1") return kV2;
  throw std::invalid_argument("no OCPP protocol: " + std::string(protocol));
}

void break_member(Rng& rng, boost::json::object& object) {
  if (object.empty() || rng.chance(20)) {
    object["fuzzUnknownMember"] = 1;
    return;
  }
  auto it = object.begin() + static_cast<std::ptrdiff_t>(rng.below(object.size()));
  if (it->value().is_object() && !it->value().as_object().empty() && rng.chance(50)) {
    break_member(rng, it->value().as_object());
    return;
  }
  switch (rng.below(3)) {
    case 0: object.erase(it); break;
    case 1: it->value() = it->value().is_string() ? boost::json::value(12345) : boost::json::value("fuzz"); break;
    default: it->value() = boost::json::array{nullptr, true}; break;
  }
}

}  // namespace

Call valid_call(Rng& rng, std::string_view protocol) {
  const auto& s = rng.pick(calls_of(protocol));
  return {std::string(s.action), std::string(s.payload)};
}

Call invalid_call(Rng& rng, Call call) {
  auto value = boost::json::parse(call.payload);
  break_member(rng, value.as_object());
  call.payload = boost::json::serialize(value);
  return call;
}

std::string call_text(std::string_view id, const Call& call) {
  std::string out = "[2,\"";
  out.append(id).append("\",\"").append(call.action).append("\",").append(call.payload).append("]");
  return out;
}

std::string broken_text(Rng& rng, std::string text) {
  for (std::size_t i = rng.between(1, 4); i > 0 && !text.empty(); --i)
    text[rng.below(text.size())] = static_cast<char>(rng.between(32, 126));
  return text.substr(0, rng.between(1, text.size()));
}

}  // namespace ocpp::fuzzgen
