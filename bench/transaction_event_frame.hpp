// The OCPP 2.0.1 TransactionEvent CALL shared by frame_bench and validation_bench, so that their
// figures describe the same bytes. It is valid against schemas/2.0.1/TransactionEventRequest.json.
#pragma once

#include <string_view>

namespace ocpp::bench {

// 1763 bytes: one meter value with 8 sampled values, each with context, measurand, phase,
// location and unit. The text is what Boost.JSON's serialiser wrote for the payload frame_bench
// used to build at run time (hence the exponent notation of the doubles), kept byte for byte so
// earlier frame_bench figures stay comparable.
inline constexpr std::string_view kTransactionEventFrame =
    R"([2,"5e0c7d1a-9f3b-4a2e-8c6d-1b2a3c4d5e6f","TransactionEvent",{"eventType":"Updated",)"
    R"("timestamp":"2026-11-23T10:15:30.123Z","triggerReason":"MeterValuePeriodic","seqNo":42,"offline":false,)"
    R"("numberOfPhasesUsed":3,"cableMaxCurrent":32,)"
    R"("transactionInfo":{"transactionId":"tx-0001-abcdef","chargingState":"Charging","timeSpentCharging":3600,)"
    R"("remoteStartId":17},"idToken":{"idToken":"04A1B2C3D4E5F6","type":"ISO14443"},"evse":{"id":1,)"
    R"("connectorId":1},)"
    R"("meterValue":[{"timestamp":"2026-11-23T10:15:30.123Z","sampledValue":[)"
    R"({"value":1.2345E3,"context":"Sample.Periodic","measurand":"Energy.Active.Import.Register","phase":"L1-N",)"
    R"("location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},)"
    R"({"value":1.2355E3,"context":"Sample.Periodic","measurand":"Power.Active.Import","phase":"L1-N",)"
    R"("location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},)"
    R"({"value":1.2365E3,"context":"Sample.Periodic","measurand":"Current.Import","phase":"L1-N",)"
    R"("location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},)"
    R"({"value":1.2375E3,"context":"Sample.Periodic","measurand":"Voltage","phase":"L1-N","location":"Outlet",)"
    R"("unitOfMeasure":{"unit":"Wh","multiplier":0}},)"
    R"({"value":1.2385E3,"context":"Sample.Periodic","measurand":"SoC","phase":"L1-N","location":"Outlet",)"
    R"("unitOfMeasure":{"unit":"Wh","multiplier":0}},)"
    R"({"value":1.2395E3,"context":"Sample.Periodic","measurand":"Frequency","phase":"L1-N","location":"Outlet",)"
    R"("unitOfMeasure":{"unit":"Wh","multiplier":0}},)"
    R"({"value":1.2405E3,"context":"Sample.Periodic","measurand":"Power.Offered","phase":"L1-N",)"
    R"("location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},)"
    R"({"value":1.2415E3,"context":"Sample.Periodic","measurand":"Current.Offered","phase":"L1-N",)"
    R"("location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}}]}]}])";

}  // namespace ocpp::bench
