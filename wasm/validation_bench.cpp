// Parse + validate of the 1.76 KB OCPP 2.0.1 TransactionEvent CALL of bench/frame_bench, as
// WebAssembly under node (`node build/wasm/wasm/validation_bench.js`): the browser engine's cost per
// inbound frame in strict mode, with the compact validators (what the engine uses under
// emscripten) and, for comparison, the generated ones. Builds natively too.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "ocpp/messages/find_action.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/schema/compact.hpp"
#include "transaction_event_frame.hpp"

namespace {

// Best of 5 rounds of `n` calls, in microseconds per call.
template <class Fn>
double time_us(int n, Fn fn) {
  double best = 1e300;
  for (int round = 0; round < 5; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) fn();
    const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count() / n);
  }
  return best;
}

}  // namespace

int main() {
  const std::string_view frame = ocpp::bench::kTransactionEventFrame;
  const auto parsed = ocpp::parse_frame(frame, ocpp::ProtocolVersion::v201);
  const ocpp::ActionInfo* generated = ocpp::v201::find_action("TransactionEvent");
  const ocpp::ActionInfo* compact = ocpp::schema::compact::find_action(ocpp::ProtocolVersion::v201, "TransactionEvent");
  ocpp::schema::ValidationError error;
  if (!generated->validate_request(parsed.frame.payload, {}, &error) ||
      !compact->validate_request(parsed.frame.payload, {}, &error)) {
    std::printf("the sample frame does not validate: %s %s\n", error.path.c_str(), error.keyword.c_str());
    return 1;
  }
  constexpr int kN = 20000;
  volatile bool sink = false;
  const double parse = time_us(kN, [&] { sink = ocpp::parse_frame(frame, ocpp::ProtocolVersion::v201).frame.payload.is_object(); });
  const double gen = time_us(kN, [&] { sink = generated->validate_request(parsed.frame.payload, {}, &error); });
  const double com = time_us(kN, [&] { sink = compact->validate_request(parsed.frame.payload, {}, &error); });
  std::printf("TransactionEvent %zu bytes: parse %.2f us, validate generated %.2f us, compact %.2f us; "
              "parse + compact %.2f us\n", frame.size(), parse, gen, com, parse + com);
  return 0;
}
