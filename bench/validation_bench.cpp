// The generated TransactionEvent validator against two general-purpose JSON-schema validators,
// RapidJSON's SchemaValidator and valijson, on the same 1.76 KB OCPP 2.0.1 TransactionEvent CALL.
// Everything runs in one process so the ratios printed at the end come from one run on one
// machine state. Before timing anything, every validator must accept the payload and reject a set
// of broken copies: a validator that silently accepts everything would otherwise look fastest.
#include <benchmark/benchmark.h>

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ocpp/messages/v201.hpp"
#include "ocpp/schema/validation.hpp"
#include "transaction_event_frame.hpp"

#ifndef OCPP_SCHEMAS_DIR
#error "OCPP_SCHEMAS_DIR must name the repository's schemas/ directory"
#endif

namespace json = boost::json;

namespace {

constexpr const char* kSchemaPath = OCPP_SCHEMAS_DIR "/2.0.1/TransactionEventRequest.json";

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// valijson's only "format" support builds a std::regex on every date-time it checks; this copy of
// the schema without "format" shows how much of its time that is. Members of a "properties" map
// are property names, not keywords, so a property that happened to be called "format" is kept.
void strip_format(json::value& schema, bool in_properties = false) {
  if (auto* object = schema.if_object()) {
    if (!in_properties) {
      auto it = object->find("format");
      if (it != object->end() && it->value().is_string()) object->erase(it);
    }
    for (auto& member : *object) strip_format(member.value(), !in_properties && member.key() == "properties");
  } else if (auto* array = schema.if_array()) {
    for (auto& element : *array) strip_format(element);
  }
}

// Everything the timed loops need, built once: parsed payloads and compiled schemas.
struct Fixture {
  std::string frame{ocpp::bench::kTransactionEventFrame};
  json::value frame_json = json::parse(frame);
  const json::value& payload = frame_json.as_array().at(3);

  json::value schema_json = json::parse(read_text_file(kSchemaPath));

  rapidjson::Document rapidjson_schema_json;
  std::unique_ptr<rapidjson::SchemaDocument> rapidjson_schema;
  rapidjson::Document rapidjson_frame;

  valijson::Schema valijson_schema;
  valijson::Schema valijson_schema_no_format;

  Fixture() {
    const std::string schema_text = read_text_file(kSchemaPath);
    rapidjson_schema_json.Parse(schema_text.data(), schema_text.size());
    if (rapidjson_schema_json.HasParseError()) throw std::runtime_error("RapidJSON cannot parse the schema");
    rapidjson_schema = std::make_unique<rapidjson::SchemaDocument>(rapidjson_schema_json);
    rapidjson_frame.Parse(frame.data(), frame.size());
    if (rapidjson_frame.HasParseError()) throw std::runtime_error("RapidJSON cannot parse the frame");

    // The schemas say draft-06; valijson's draft-7 parser is its closest mode and reads the same
    // keywords used here.
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.populateSchema(valijson::adapters::BoostJsonAdapter(schema_json), valijson_schema);
    json::value no_format = schema_json;
    strip_format(no_format);
    parser.populateSchema(valijson::adapters::BoostJsonAdapter(no_format), valijson_schema_no_format);
  }
};

const Fixture& fixture() {
  static const Fixture instance;
  return instance;
}

// One-shot verdicts for the startup checks (fresh validator objects, nothing reused).
bool ours_accepts(const json::value& payload) {
  return ocpp::v201::validate_TransactionEventRequest(payload, {}, nullptr);
}

bool rapidjson_accepts(const json::value& payload) {
  const std::string text = json::serialize(payload);
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  if (document.HasParseError()) throw std::runtime_error("RapidJSON cannot parse a test payload");
  rapidjson::SchemaValidator validator(*fixture().rapidjson_schema);
  document.Accept(validator);
  return validator.IsValid();
}

bool valijson_accepts(const json::value& payload, const valijson::Schema& schema) {
  valijson::Validator validator;
  return validator.validate(schema, valijson::adapters::BoostJsonAdapter(payload), nullptr);
}

struct Mutation {
  std::string name;
  // Only structural mutations must be rejected by all three; "format" is optional in JSON Schema,
  // so a validator that skips it is reported, not failed.
  bool format_only;
  std::function<void(json::object&)> apply;
};

std::vector<Mutation> mutations() {
  auto sampled = [](json::object& p, std::size_t i) -> json::object& {
    return p.at("meterValue").as_array().at(0).as_object().at("sampledValue").as_array().at(i).as_object();
  };
  return {
      {"bad enum (last sampledValue measurand)", false,
       [=](json::object& p) { sampled(p, 7)["measurand"] = "Energy.Bogus"; }},
      {"bad enum (transactionInfo.chargingState)", false,
       [](json::object& p) { p.at("transactionInfo").as_object()["chargingState"] = "Parked"; }},
      {"unknown member in a sampledValue", false, [=](json::object& p) { sampled(p, 3)["colour"] = "red"; }},
      {"missing required seqNo", false, [](json::object& p) { p.erase("seqNo"); }},
      {"string where integer (evse.id)", false, [](json::object& p) { p.at("evse").as_object()["id"] = "1"; }},
      {"transactionId longer than 36", false,
       [](json::object& p) { p.at("transactionInfo").as_object()["transactionId"] = std::string(37, 'x'); }},
      {"empty meterValue array (minItems 1)", false, [](json::object& p) { p["meterValue"] = json::array(); }},
      {"date-time without 'T' (format)", true, [](json::object& p) { p["timestamp"] = "2026-11-23 10:15:30Z"; }},
      {"date-time 2026-13-01 (format)", true,
       [](json::object& p) { p["timestamp"] = "2026-13-01T10:15:30Z"; }},
  };
}

// Prints the verdict table; false if a validator accepts something it must reject (or rejects the
// valid payload), in which case its timings would mean nothing.
bool check_validators() {
  const Fixture& f = fixture();
  bool ok = true;
  auto verdict = [](bool accepted) { return accepted ? "accept" : "reject"; };
  std::printf("Startup check on the %zu-byte frame (payload %zu bytes):\n", f.frame.size(),
              json::serialize(f.payload).size());
  std::printf("  %-42s %-8s %-10s %-10s %-10s\n", "case", "ours", "rapidjson", "valijson", "valijson-no-format");
  auto row = [&](const std::string& name, const json::value& payload, bool expect_accept, bool required) {
    const bool ours = ours_accepts(payload);
    const bool rapid = rapidjson_accepts(payload);
    const bool vali = valijson_accepts(payload, f.valijson_schema);
    const bool vali_nf = valijson_accepts(payload, f.valijson_schema_no_format);
    std::printf("  %-42s %-8s %-10s %-10s %-10s\n", name.c_str(), verdict(ours), verdict(rapid), verdict(vali),
                verdict(vali_nf));
    if (!required) {
      if (ours != expect_accept) ok = false;  // our validator does check formats
      return;
    }
    for (bool accepted : {ours, rapid, vali, vali_nf}) {
      if (accepted != expect_accept) ok = false;
    }
  };
  row("valid payload", f.payload, true, true);
  for (const Mutation& mutation : mutations()) {
    json::value copy = f.payload;
    mutation.apply(copy.as_object());
    row(mutation.name, copy, false, !mutation.format_only);
  }
  return ok;
}

// --- Benchmarks -------------------------------------------------------------------------------

void BM_Ours_Validate(benchmark::State& state) {
  const json::value& payload = fixture().payload;
  ocpp::schema::ValidationError error;
  for (auto _ : state) {
    bool valid = ocpp::v201::validate_TransactionEventRequest(payload, {}, &error);
    benchmark::DoNotOptimize(valid);
  }
}
BENCHMARK(BM_Ours_Validate);

void BM_Ours_ParseValidate(benchmark::State& state) {
  const std::string& frame = fixture().frame;
  ocpp::schema::ValidationError error;
  for (auto _ : state) {
    json::value parsed = json::parse(frame);
    bool valid = ocpp::v201::validate_TransactionEventRequest(parsed.as_array()[3], {}, &error);
    benchmark::DoNotOptimize(valid);
  }
}
BENCHMARK(BM_Ours_ParseValidate);

// Our two date-time checks alone: the part of BM_Ours_Validate that RapidJSON does not do.
void BM_Ours_DateTimeChecksOnly(benchmark::State& state) {
  const json::object& payload = fixture().payload.as_object();
  const std::string_view timestamp = payload.at("timestamp").as_string();
  const std::string_view meter_timestamp =
      payload.at("meterValue").as_array().at(0).as_object().at("timestamp").as_string();
  for (auto _ : state) {
    bool valid = ocpp::schema::is_date_time(timestamp) && ocpp::schema::is_date_time(meter_timestamp);
    benchmark::DoNotOptimize(valid);
  }
}
BENCHMARK(BM_Ours_DateTimeChecksOnly);

void BM_RapidJson_Validate(benchmark::State& state) {
  const Fixture& f = fixture();
  const rapidjson::Value& payload = f.rapidjson_frame[3];
  // One validator reused with Reset(), RapidJSON's cheapest way to validate many documents.
  rapidjson::SchemaValidator validator(*f.rapidjson_schema);
  for (auto _ : state) {
    validator.Reset();
    payload.Accept(validator);
    bool valid = validator.IsValid();
    benchmark::DoNotOptimize(valid);
  }
}
BENCHMARK(BM_RapidJson_Validate);

void BM_RapidJson_ParseValidate(benchmark::State& state) {
  const Fixture& f = fixture();
  rapidjson::SchemaValidator validator(*f.rapidjson_schema);
  for (auto _ : state) {
    rapidjson::Document document;
    document.Parse(f.frame.data(), f.frame.size());
    validator.Reset();
    document[3].Accept(validator);
    bool valid = validator.IsValid();
    benchmark::DoNotOptimize(valid);
  }
}
BENCHMARK(BM_RapidJson_ParseValidate);

void BM_Valijson_Validate(benchmark::State& state) {
  const Fixture& f = fixture();
  const valijson::adapters::BoostJsonAdapter target(f.payload);
  valijson::Validator validator;
  for (auto _ : state) {
    bool valid = validator.validate(f.valijson_schema, target, nullptr);
    benchmark::DoNotOptimize(valid);
  }
}
BENCHMARK(BM_Valijson_Validate);

void BM_Valijson_ValidateNoFormat(benchmark::State& state) {
  const Fixture& f = fixture();
  const valijson::adapters::BoostJsonAdapter target(f.payload);
  valijson::Validator validator;
  for (auto _ : state) {
    bool valid = validator.validate(f.valijson_schema_no_format, target, nullptr);
    benchmark::DoNotOptimize(valid);
  }
}
BENCHMARK(BM_Valijson_ValidateNoFormat);

// --- Ratios from this run -----------------------------------------------------------------------

// The console output, plus each benchmark's CPU time per iteration kept for the ratios: the
// median aggregate when repetitions were asked for, otherwise the median of the runs seen.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const double ns = run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
      const std::string& name = run.run_name.function_name;
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") medians_[name] = ns;
      } else {
        samples_[name].push_back(ns);
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  std::optional<double> cpu_ns(const std::string& name) const {
    if (auto it = medians_.find(name); it != medians_.end()) return it->second;
    auto it = samples_.find(name);
    if (it == samples_.end() || it->second.empty()) return std::nullopt;
    std::vector<double> sorted = it->second;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

 private:
  std::map<std::string, double> medians_;
  std::map<std::string, std::vector<double>> samples_;
};

void print_ratios(const RatioReporter& reporter) {
  const auto ours = reporter.cpu_ns("BM_Ours_Validate");
  if (!ours) return;  // filtered out
  std::printf("\nRatios from this run (median CPU time per validation of the already-parsed payload):\n");
  std::printf("  %-26s %12.1f ns\n", "ours", *ours);
  auto ratio = [&](const char* label, const char* name, double target) {
    const auto theirs = reporter.cpu_ns(name);
    if (!theirs) return;
    const double r = *theirs / *ours;
    if (target > 0) {
      std::printf("  %-26s %12.1f ns   %s/ours = %.1fx  (target >= %.0fx: %s)\n", label, *theirs, label, r, target,
                  r >= target ? "met" : "NOT met");
    } else {
      std::printf("  %-26s %12.1f ns   %s/ours = %.1fx  (context)\n", label, *theirs, label, r);
    }
  };
  ratio("rapidjson", "BM_RapidJson_Validate", 10);
  ratio("valijson", "BM_Valijson_Validate", 1000);
  ratio("valijson-no-format", "BM_Valijson_ValidateNoFormat", 0);
  const auto ours_parse = reporter.cpu_ns("BM_Ours_ParseValidate");
  const auto rapid_parse = reporter.cpu_ns("BM_RapidJson_ParseValidate");
  if (ours_parse && rapid_parse) {
    std::printf("  parse+validate: ours %.1f ns, rapidjson %.1f ns, rapidjson/ours = %.2fx\n", *ours_parse,
                *rapid_parse, *rapid_parse / *ours_parse);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    if (!check_validators()) {
      std::fprintf(stderr, "validation_bench: a validator gave a wrong verdict above; not benchmarking\n");
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "validation_bench: setup failed: %s\n", e.what());
    return 1;
  }
  std::printf("\n");
  std::fflush(stdout);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_ratios(reporter);
  benchmark::Shutdown();
  return 0;
}
