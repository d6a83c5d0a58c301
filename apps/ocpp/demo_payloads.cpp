#include "demo_payloads.hpp"

#include <boost/json.hpp>

#include <iostream>
#include <mutex>

#include "ocpp/log/logger.hpp"

namespace ocpp::app {
namespace json = boost::json;

void print_exchange(std::string_view identity, bool inbound, std::string_view raw) {
  static std::mutex m;
  std::lock_guard lock(m);
  std::cout << (inbound ? "<- " : "-> ") << identity << "  " << raw << "\n" << std::flush;
}

namespace {
bool v16(ProtocolVersion v) { return v == ProtocolVersion::v16; }
json::object accepted() { return {{"status", "Accepted"}}; }
json::value id_token(std::string_view tag) { return {{"idToken", tag}, {"type", "ISO14443"}}; }
json::value energy(int wh, bool as_string) {
  json::object sv{{"measurand", "Energy.Active.Import.Register"}};
  if (as_string) {
    sv["value"] = std::to_string(wh);
    sv["unit"] = "Wh";
  } else {
    sv["value"] = double(wh);
  }
  return json::array{json::object{{"timestamp", iso_timestamp()}, {"sampledValue", json::array{sv}}}};
}
}  // namespace

json::value csms_response(ProtocolVersion v, std::string_view action, const json::value& params, int tx) {
  if (action == "BootNotification") return {{"status", "Accepted"}, {"currentTime", iso_timestamp()}, {"interval", 300}};
  if (action == "Heartbeat") return {{"currentTime", iso_timestamp()}};
  if (action == "StatusNotification" || action == "MeterValues" || action == "NotifyReport" ||
      action == "NotifyEvent" || action == "SecurityEventNotification" || action == "FirmwareStatusNotification" ||
      action == "DiagnosticsStatusNotification" || action == "LogStatusNotification")
    return json::object();
  if (action == "DataTransfer") return accepted();
  if (action == "Authorize")
    return v16(v) ? json::value{{"idTagInfo", accepted()}} : json::value{{"idTokenInfo", accepted()}};
  if (v16(v) && action == "StartTransaction") return {{"transactionId", tx}, {"idTagInfo", accepted()}};
  if (v16(v) && action == "StopTransaction") return {{"idTagInfo", accepted()}};
  if (!v16(v) && action == "TransactionEvent") {
    if (params.is_object() && params.as_object().contains("idToken")) return {{"idTokenInfo", accepted()}};
    return json::object();
  }
  return nullptr;
}

std::string csms_followup_action(ProtocolVersion v) { return v16(v) ? "GetConfiguration" : "GetVariables"; }

json::value csms_followup_payload(ProtocolVersion v) {
  if (v16(v)) return {{"key", json::array{"HeartbeatInterval"}}};
  return {{"getVariableData",
           json::array{json::object{{"component", {{"name", "OCPPCommCtrlr"}}},
                                    {"variable", {{"name", "HeartbeatInterval"}}}}}}};
}

std::string csms_remote_start_action(ProtocolVersion v) {
  return v16(v) ? "RemoteStartTransaction" : "RequestStartTransaction";
}

json::value csms_remote_start(ProtocolVersion v, int remote_start_id) {
  if (v16(v)) return {{"connectorId", 1}, {"idTag", "DEMO-TAG"}};
  return {{"evseId", 1}, {"remoteStartId", remote_start_id}, {"idToken", id_token("DEMO-TAG")}};
}

std::optional<json::value> started_transaction(ProtocolVersion v, std::string_view action, const json::value& params,
                                               const json::value& response) {
  if (v16(v) && action == "StartTransaction") return response.at("transactionId");
  if (v16(v) || action != "TransactionEvent" || !params.is_object()) return std::nullopt;
  const auto& event = params.as_object();
  const auto* type = event.if_contains("eventType");
  const auto* info = event.if_contains("transactionInfo");
  if (!type || *type != "Started" || !info || !info->is_object()) return std::nullopt;
  if (const auto* id = info->as_object().if_contains("transactionId")) return *id;
  return std::nullopt;
}

json::value csms_tx_profile(ProtocolVersion v, const json::value& transaction_id, int profile_id) {
  json::object period{{"startPeriod", 0}, {"limit", 16.0}};
  json::object schedule{{"chargingRateUnit", "A"}, {"chargingSchedulePeriod", json::array{period}}};
  json::object profile{{"stackLevel", 0},
                       {"chargingProfilePurpose", "TxProfile"},
                       {"chargingProfileKind", "Relative"},
                       {"transactionId", transaction_id}};
  if (v16(v)) {
    profile["chargingProfileId"] = profile_id;
    profile["chargingSchedule"] = std::move(schedule);
    return {{"connectorId", 1}, {"csChargingProfiles", std::move(profile)}};
  }
  schedule["id"] = profile_id;
  profile["id"] = profile_id;
  profile["chargingSchedule"] = json::array{std::move(schedule)};
  return {{"evseId", 1}, {"chargingProfile", std::move(profile)}};
}

json::value cp_boot(ProtocolVersion v) {
  if (v16(v)) return {{"chargePointVendor", "OcppWsIoCpp"}, {"chargePointModel", "Simulator"}};
  return {{"reason", "PowerUp"}, {"chargingStation", {{"model", "Simulator"}, {"vendorName", "OcppWsIoCpp"}}}};
}

json::value cp_status(ProtocolVersion v, std::string_view status) {
  if (v16(v)) return {{"connectorId", 1}, {"errorCode", "NoError"}, {"status", status}};
  return {{"timestamp", iso_timestamp()}, {"connectorStatus", status}, {"evseId", 1}, {"connectorId", 1}};
}

json::value cp_authorize(ProtocolVersion v, std::string_view tag) {
  if (v16(v)) return {{"idTag", tag}};
  return {{"idToken", id_token(tag)}};
}

json::value cp_start(ProtocolVersion v, std::string_view tag, const std::string& tx) {
  if (v16(v)) return {{"connectorId", 1}, {"idTag", tag}, {"meterStart", 0}, {"timestamp", iso_timestamp()}};
  return {{"eventType", "Started"},
          {"timestamp", iso_timestamp()},
          {"triggerReason", "Authorized"},
          {"seqNo", 0},
          {"transactionInfo", {{"transactionId", tx}, {"chargingState", "Charging"}}},
          {"idToken", id_token(tag)},
          {"evse", {{"id", 1}, {"connectorId", 1}}}};
}

json::value cp_meter(ProtocolVersion v, const std::string& tx, int wh, int seq) {
  if (v16(v)) return {{"connectorId", 1}, {"transactionId", std::stoi(tx)}, {"meterValue", energy(wh, true)}};
  return {{"eventType", "Updated"},
          {"timestamp", iso_timestamp()},
          {"triggerReason", "MeterValuePeriodic"},
          {"seqNo", seq},
          {"transactionInfo", {{"transactionId", tx}}},
          {"meterValue", energy(wh, false)}};
}

json::value cp_stop(ProtocolVersion v, const std::string& tx, int wh, int seq) {
  if (v16(v))
    return {{"transactionId", std::stoi(tx)}, {"meterStop", wh}, {"timestamp", iso_timestamp()}, {"reason", "Local"}};
  return {{"eventType", "Ended"},
          {"timestamp", iso_timestamp()},
          {"triggerReason", "StopAuthorized"},
          {"seqNo", seq},
          {"transactionInfo", {{"transactionId", tx}, {"stoppedReason", "Local"}}},
          {"meterValue", energy(wh, false)}};
}

json::value cp_response(ProtocolVersion v, std::string_view action, const json::value& params) {
  if (action == "Reset" || action == "ChangeConfiguration" || action == "RemoteStartTransaction" ||
      action == "RemoteStopTransaction" || action == "RequestStartTransaction" ||
      action == "RequestStopTransaction" || action == "TriggerMessage" || action == "ChangeAvailability" ||
      action == "ClearCache" || action == "DataTransfer" || action == "SetChargingProfile" ||
      action == "ClearChargingProfile")
    return accepted();
  if (action == "UnlockConnector") return {{"status", "Unlocked"}};
  if (v16(v) && action == "GetConfiguration") {
    json::array keys;
    keys.push_back(json::object{{"key", "HeartbeatInterval"}, {"readonly", false}, {"value", "300"}});
    return {{"configurationKey", keys}};
  }
  if (!v16(v) && (action == "GetVariables" || action == "SetVariables")) {
    const bool get = action == "GetVariables";
    json::array results;
    const auto* data = params.as_object().if_contains(get ? "getVariableData" : "setVariableData");
    if (data && data->is_array())
      for (const auto& item : data->as_array()) {
        json::object r{{"attributeStatus", "Accepted"},
                       {"component", item.at("component")},
                       {"variable", item.at("variable")}};
        if (get) r["attributeValue"] = "300";
        results.push_back(std::move(r));
      }
    return {{get ? "getVariableResult" : "setVariableResult", results}};
  }
  return nullptr;
}

}  // namespace ocpp::app
