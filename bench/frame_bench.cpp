// Micro benchmarks of the IO-free core: frame parsing and serialisation, and the generated
// validators, on a small Heartbeat and a ~1.8 KB OCPP 2.0.1 TransactionEvent.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "ocpp/messages/v201.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/schema/validation.hpp"
#include "transaction_event_frame.hpp"

namespace json = boost::json;

namespace {

const std::string kHeartbeat = R"([2,"2f5c9a2e-1b7d-4c0e-9b3a-0d4e5f6a7b8c","Heartbeat",{}])";

std::string transaction_event_frame() { return std::string(ocpp::bench::kTransactionEventFrame); }

void BM_ParseHeartbeat(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ocpp::parse_frame(kHeartbeat, ocpp::ProtocolVersion::v16));
}
BENCHMARK(BM_ParseHeartbeat);

void BM_ParseTransactionEvent(benchmark::State& state) {
  const std::string frame = transaction_event_frame();
  state.SetLabel(std::to_string(frame.size()) + " bytes");
  for (auto _ : state) benchmark::DoNotOptimize(ocpp::parse_frame(frame, ocpp::ProtocolVersion::v201));
}
BENCHMARK(BM_ParseTransactionEvent);

void BM_SerializeCallResult(benchmark::State& state) {
  const json::value payload = {{"currentTime", "2026-11-23T10:15:30.123Z"}};
  for (auto _ : state)
    benchmark::DoNotOptimize(ocpp::serialize_call_result("5e0c7d1a-9f3b-4a2e-8c6d-1b2a3c4d5e6f", payload));
}
BENCHMARK(BM_SerializeCallResult);

void BM_ValidateTransactionEvent(benchmark::State& state) {
  auto parsed = ocpp::parse_frame(transaction_event_frame(), ocpp::ProtocolVersion::v201);
  const auto* action = ocpp::v201::find_action("TransactionEvent");
  ocpp::schema::ValidationError error;
  if (!action->validate_request(parsed.frame.payload, {}, &error)) {
    state.SkipWithError(("sample does not validate: " + error.path + " " + error.keyword).c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(action->validate_request(parsed.frame.payload, {}, &error));
}
BENCHMARK(BM_ValidateTransactionEvent);

}  // namespace

BENCHMARK_MAIN();
