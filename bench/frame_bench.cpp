// Micro benchmarks of the IO-free core: frame parsing and serialisation, and the generated
// validators (generated and compact), on a small Heartbeat and a ~1.8 KB OCPP 2.0.1 TransactionEvent.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "ocpp/messages/v201.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/schema/compact.hpp"
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

// `action` validates the parsed payload; with `parse`, each iteration parses the frame first.
void validate_transaction_event(benchmark::State& state, const ocpp::ActionInfo* action, bool parse) {
  const std::string frame = transaction_event_frame();
  auto parsed = ocpp::parse_frame(frame, ocpp::ProtocolVersion::v201);
  ocpp::schema::ValidationError error;
  if (!action->validate_request(parsed.frame.payload, {}, &error)) {
    state.SkipWithError(("sample does not validate: " + error.path + " " + error.keyword).c_str());
    return;
  }
  if (parse) {
    for (auto _ : state) {
      auto p = ocpp::parse_frame(frame, ocpp::ProtocolVersion::v201);
      benchmark::DoNotOptimize(action->validate_request(p.frame.payload, {}, &error));
    }
  } else {
    for (auto _ : state) benchmark::DoNotOptimize(action->validate_request(parsed.frame.payload, {}, &error));
  }
}

void BM_ValidateTransactionEvent(benchmark::State& state) {
  validate_transaction_event(state, ocpp::v201::find_action("TransactionEvent"), false);
}
BENCHMARK(BM_ValidateTransactionEvent);

// The table-driven validators (ocpp_schema_compact, what the WebAssembly engine uses).
void BM_ValidateTransactionEventCompact(benchmark::State& state) {
  validate_transaction_event(state, ocpp::schema::compact::find_action(ocpp::ProtocolVersion::v201, "TransactionEvent"),
                             false);
}
BENCHMARK(BM_ValidateTransactionEventCompact);

void BM_ParseAndValidateTransactionEvent(benchmark::State& state) {
  validate_transaction_event(state, ocpp::v201::find_action("TransactionEvent"), true);
}
BENCHMARK(BM_ParseAndValidateTransactionEvent);

void BM_ParseAndValidateTransactionEventCompact(benchmark::State& state) {
  validate_transaction_event(state, ocpp::schema::compact::find_action(ocpp::ProtocolVersion::v201, "TransactionEvent"),
                             true);
}
BENCHMARK(BM_ParseAndValidateTransactionEventCompact);

}  // namespace

BENCHMARK_MAIN();
