// Differential test: the generated ahead-of-time validators against the reference validator
// valijson 1.0 (Debian's libvalijson-dev, headers unpacked into .deps/valijson by
// scripts/setup.sh).
//
// Corpus: every schema file of OCPP 1.6, 2.0.1 and 2.1 (every request and response of every action
// of the tables, and the 2.1 SEND NotifyPeriodicEventStream), loaded by valijson from schemas/ on
// disk. For each, the generated "full" and "minimal" samples and systematic mutations of every
// value they contain, driven by the schema and its definitions (differential_corpus.cpp): wrong
// JSON type, removal of each required and each optional member, an extra member at every object
// level (closed ones and customData), enum members and non-members, strings of exactly maxLength
// and maxLength + 1 code points (ASCII and mixed 1-4 byte UTF-8), numbers at and just outside
// minimum/maximum, integers written as doubles, arrays under minItems and at/over maxItems,
// date-time and uri strings, multipleOf values.
//
// Every case carries its expectation: valid or invalid and, when invalid, the keyword and JSON
// pointer our first error must name. Our validator runs on the whole mutated sample and on the
// "focused" document (the sample reduced to its required members plus the members on the path to
// the mutation, see Mutation::focused); valijson runs on the focused document (and on every
// unmutated whole sample, which both validators must accept). valijson costs about
// half a millisecond per date-time it meets (it compiles a std::regex on every check), so whole 2.1
// samples with dozens of date-times, mutated a thousand times each, would take minutes under ASan;
// the focused document keeps each case to the date-times it needs. For the same reason valijson
// runs once per distinct focused document of a schema (many cases share one, e.g. every removal of
// an optional member of one object), and the generator applies two wrong types (not all five or
// six) and a core of the date-time strings plus two in rotation at each value; the test asserts
// that every (schema type, wrong type) pair and every date-time string occurs in the corpus.
//
// The test fails when our verdict misses the expectation, when our error names another keyword or
// path, or when valijson disagrees outside the deliberate differences below.
//
// Deliberate differences (tagged by the generator, counted and printed in the summary, not
// failures):
//  * multipleOf: we decide on the decimal values (8.1, 21.4 and 2000 are multiples of 0.1, 6.25 and
//    0.30000000000000004 are not); valijson compares a floating remainder with DBL_EPSILON, which
//    rejects 8.1, 21.4 and 2000 and accepts 0.30000000000000004. The OCPP 1.6 charging limits
//    (multipleOf 0.1) need the decimal reading.
//  * integer written as a double (5.0): an integer for JSON Schema and for us; valijson's strict
//    type mode accepts only int64 JSON values.
//  * date-time: valijson 1.0 does check "date-time" (a regex plus a month/day table), so date-time
//    cases are compared with it. It is weaker than RFC 3339: it accepts Feb 29 in every year,
//    second 60 at any time of day, years of more than 4 digits and '|' as offset sign (its
//    character class is "[\+|\-]"). We reject those.
//  * uri: valijson 1.0 does not implement format "uri" (any string passes), so the uri cases are
//    checked against our own expectation only and counted separately.
//  * Celcius/Celsius: our validators accept the other spelling where an enum has only one of them.
//    The OCPP 1.6 unit enums list both, so no schema produces such a case today (counted: 0).
// Not a verdict difference but worth knowing: valijson evaluates "format" before "type" and throws
// std::runtime_error for a non-empty object or array in a date-time member; a throw is taken as
// "invalid" (the value has the wrong type anyway) and counted.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <ocpp/messages/v16.hpp>
#include <ocpp/messages/v201.hpp>
#include <ocpp/messages/v21.hpp>

#include "differential_corpus.hpp"
#include "samples.hpp"

#ifndef OCPP_SCHEMAS_DIR
#error "OCPP_SCHEMAS_DIR must name the schemas directory (set by tests/messages/CMakeLists.txt)"
#endif

namespace {

namespace json = boost::json;
namespace diff = ocpp_test::differential;
using diff::KnownDifference;
using diff::MutationKind;
using ocpp::schema::ValidateFn;
using ocpp::schema::ValidationError;
using ocpp::schema::ValidationOptions;

constexpr std::size_t kKinds = static_cast<std::size_t>(MutationKind::kCount);
constexpr std::size_t kDifferences = static_cast<std::size_t>(KnownDifference::kCount);
constexpr std::size_t kMaxPrinted = 20;
// The smallest schemas (an empty 1.6 payload such as ClearCache) get 2 wrong types and 1 extra
// member; everything else gets more.
constexpr std::size_t kMinMutationsPerSchema = 3;

// Kinds that need a keyword or enum shape the OCA schemas never use (minLength, exclusive bounds, a
// single Celsius spelling): the generator supports them, the corpus cannot exercise them.
constexpr MutationKind kUnreachableKinds[] = {
    MutationKind::kMinLengthUnder, MutationKind::kMinLengthAt, MutationKind::kAtExclusiveBound,
    MutationKind::kInsideExclusiveBound, MutationKind::kEnumOtherSpelling};

struct VersionSpec {
  std::string_view protocol;
  std::string_view directory;  // under OCPP_SCHEMAS_DIR
  std::span<const ocpp::ActionInfo> actions;
  std::span<const ocpp_test::Sample> samples;
  std::string_view request_file_suffix;  // "" in 1.6 (Authorize.json), "Request" in 2.x
  std::size_t expected_actions;
  std::size_t min_cases;  // lower bound for the corpus of the version (about 80% of today's)
};

std::vector<VersionSpec> versions() {
  return {
      {"ocpp1.6", "1.6", ocpp::v16::actions(), ocpp_test::samples_v16(), "", 39, 2000},
      {"ocpp2.0.1", "2.0.1", ocpp::v201::actions(), ocpp_test::samples_v201(), "Request", 64,
       10000},
      {"ocpp2.1", "2.1", ocpp::v21::actions(), ocpp_test::samples_v21(), "Request", 91, 22000},
  };
}

// The first kMaxPrinted messages and the total.
struct Failures {
  std::size_t count = 0;
  std::vector<std::string> printed;
  void add(std::string message) {
    ++count;
    if (printed.size() < kMaxPrinted) printed.push_back(std::move(message));
  }
  std::string text() const {
    std::string out;
    for (const std::string& p : printed) out += p + "\n";
    if (count > printed.size()) {
      out += "... and " + std::to_string(count - printed.size()) + " more\n";
    }
    return out;
  }
};

struct KindCounts {
  std::size_t cases = 0;
  std::size_t expected_valid = 0;
};

struct Report {
  std::map<std::string, std::size_t> cases_per_version;
  std::map<std::string, std::size_t> samples_per_version;
  std::map<std::string, std::size_t> mutations_per_schema;  // "2.1/AuthorizeRequest.json"
  std::set<std::string> schema_files_on_disk;
  std::array<KindCounts, kKinds> per_kind{};
  std::array<std::size_t, kDifferences> tagged{};    // cases carrying the tag
  std::array<std::size_t, kDifferences> differed{};  // of those, where valijson disagreed
  std::set<std::string> wrong_type_pairs;            // "integer replaced by string", ...
  std::set<std::string> date_time_variants;
  std::size_t valijson_threw = 0;  // cases whose focused document made valijson throw
  std::size_t valijson_runs = 0;   // distinct focused documents
  std::size_t lenient_checked = 0;
  std::size_t identical_minimal = 0;
  Failures setup;         // missing schema file or sample, sample not valid, valijson parse error
  Failures expectation;   // our verdict is not the mutation's expected verdict
  Failures error_report;  // invalid as expected, but another keyword or path
  Failures disagreement;  // valijson disagrees outside the deliberate differences
  double seconds = 0;
};

valijson::SchemaParser::Version draft_of(const json::value& schema) {
  const json::value* declared = schema.as_object().if_contains("$schema");
  if (declared != nullptr &&
      std::string_view(declared->as_string()).find("draft-04") != std::string_view::npos) {
    return valijson::SchemaParser::kDraft4;
  }
  // draft-06 (2.x): valijson reads it with its draft-7 parser; no keyword used by the OCA schemas
  // changed meaning between the two.
  return valijson::SchemaParser::kDraft7;
}

std::string shorten(std::string text, std::size_t limit = 400) {
  if (text.size() > limit) {
    text = text.substr(0, limit) + "...(" + std::to_string(text.size()) + " bytes)";
  }
  return text;
}

std::string verdict(bool valid) { return valid ? "valid" : "invalid"; }

// Everything about one schema file that a case needs.
struct SchemaUnderTest {
  std::string name;  // "2.1/AuthorizeRequest.json"
  std::string variant;
  ValidateFn validate;
  const valijson::Schema* reference;
};

class Runner {
 public:
  explicit Runner(Report& report) : report_(report) {}

  void run_version(const VersionSpec& spec) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(OCPP_SCHEMAS_DIR) / spec.directory;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") {
        report_.schema_files_on_disk.insert(std::string(spec.directory) + "/" +
                                            entry.path().filename().string());
      }
    }
    if (spec.actions.size() != spec.expected_actions) {
      report_.setup.add(std::string(spec.protocol) + ": " + std::to_string(spec.actions.size()) +
                        " actions, expected " + std::to_string(spec.expected_actions));
    }
    for (const ocpp::ActionInfo& action : spec.actions) {
      std::string name(action.name);
      if (action.pattern == ocpp::MessagePattern::Send) {
        run_schema(spec, name + ".json", name + "Request", action.validate_request);
      } else {
        run_schema(spec, name + std::string(spec.request_file_suffix) + ".json", name + "Request",
                   action.validate_request);
        run_schema(spec, name + "Response.json", name + "Response", action.validate_response);
      }
    }
  }

 private:
  void run_schema(const VersionSpec& spec, const std::string& file, const std::string& type,
                  ValidateFn validate) {
    const std::string name = std::string(spec.directory) + "/" + file;
    report_.mutations_per_schema[name];  // covered, even if it turns out empty
    json::value schema_doc;
    valijson::Schema reference;
    try {
      schema_doc = diff::load_json_file(std::filesystem::path(OCPP_SCHEMAS_DIR) / spec.directory / file);
      valijson::SchemaParser parser(draft_of(schema_doc));
      valijson::adapters::BoostJsonAdapter adapter(schema_doc);
      parser.populateSchema(adapter, reference);
    } catch (const std::exception& e) {
      report_.setup.add(name + ": cannot load with valijson: " + e.what());
      return;
    }
    if (validate == nullptr) {
      report_.setup.add(name + ": no validator in the action table");
      return;
    }
    std::string full_json;
    for (std::string_view variant : {"full", "minimal"}) {
      const ocpp_test::Sample* sample = find_sample(spec.samples, type, variant);
      if (sample == nullptr) {
        report_.setup.add(name + ": no " + std::string(variant) + " sample of " + type);
        continue;
      }
      if (sample->validate != validate) {
        report_.setup.add(name + ": the " + std::string(variant) +
                          " sample's validator is not the action table's");
      }
      // A minimal sample equal to the full one would only repeat the same cases.
      if (variant == "minimal" && sample->json == full_json) {
        ++report_.identical_minimal;
        continue;
      }
      full_json = std::string(sample->json);
      SchemaUnderTest target{name, std::string(variant), validate, &reference};
      run_sample(spec, schema_doc, target, json::parse(sample->json));
    }
  }

  static const ocpp_test::Sample* find_sample(std::span<const ocpp_test::Sample> samples,
                                              std::string_view type, std::string_view variant) {
    for (const ocpp_test::Sample& s : samples) {
      if (s.type == type && s.variant == variant) return &s;
    }
    return nullptr;
  }

  void run_sample(const VersionSpec& spec, const json::value& schema_doc,
                  const SchemaUnderTest& target, const json::value& sample) {
    ++report_.samples_per_version[std::string(spec.directory)];
    ValidationError error;
    bool ours = target.validate(sample, {}, &error);
    bool threw = false;
    bool theirs = reference_verdict(target, sample, threw);
    if (!ours || !theirs) {
      report_.setup.add(target.name + " (" + target.variant + " sample) is not valid: ours " +
                        verdict(ours) + " [" + error.keyword + " at " + error.path +
                        "], valijson " + verdict(theirs) +
                        "\n  payload: " + shorten(json::serialize(sample)));
    }
    std::size_t& per_schema = report_.mutations_per_schema[target.name];
    std::size_t& per_version = report_.cases_per_version[std::string(spec.directory)];
    diff::for_each_mutation(schema_doc, sample, [&](const diff::Mutation& m) {
      ++per_schema;
      ++per_version;
      run_case(target, m);
    });
  }

  bool reference_verdict(const SchemaUnderTest& target, const json::value& payload, bool& threw) {
    valijson::adapters::BoostJsonAdapter adapter(payload);
    try {
      threw = false;
      return validator_.validate(*target.reference, adapter, nullptr);
    } catch (const std::exception&) {
      threw = true;
      return false;
    }
  }

  struct Verdict {
    bool valid = false;
    bool threw = false;
  };

  // Focused documents repeat (removing any optional member of an object leaves the same document;
  // the minimal sample's cases repeat the full sample's), and valijson costs about half a
  // millisecond per date-time it meets, because it compiles a std::regex every time. Hence one
  // valijson run per distinct focused document of a schema; its verdict serves every case with
  // that document.
  Verdict memoized_reference_verdict(const SchemaUnderTest& target, const json::value& payload) {
    if (memo_schema_ != target.name) {
      memo_.clear();
      memo_schema_ = target.name;
    }
    auto [it, inserted] = memo_.try_emplace(json::serialize(payload));
    if (inserted) {
      ++report_.valijson_runs;
      it->second.valid = reference_verdict(target, payload, it->second.threw);
    }
    return it->second;
  }

  void run_case(const SchemaUnderTest& target, const diff::Mutation& m) {
    KindCounts& kind = report_.per_kind[static_cast<std::size_t>(m.kind)];
    ++kind.cases;
    if (m.expect_valid) ++kind.expected_valid;
    if (m.kind == MutationKind::kWrongType) report_.wrong_type_pairs.insert(m.label);
    if (m.kind == MutationKind::kDateTimeValid || m.kind == MutationKind::kDateTimeInvalid) {
      report_.date_time_variants.insert(m.label);
    }

    ValidationError error_whole;
    ValidationError error_focused;
    const bool ours_whole = target.validate(m.payload, {}, &error_whole);
    const bool ours = target.validate(m.focused, {}, &error_focused);
    const Verdict reference = memoized_reference_verdict(target, m.focused);
    const bool theirs = reference.valid;
    const bool threw = reference.threw;
    if (threw) ++report_.valijson_threw;

    auto ours_text = [](bool valid, const ValidationError& e) {
      std::string out = verdict(valid);
      if (!valid) out += " [" + e.keyword + " at \"" + e.path + "\": " + e.message + "]";
      return out;
    };
    auto describe = [&](std::string_view what) {
      std::string out = std::string(what);
      out += "\n  schema:   " + target.name + " (" + target.variant + " sample)";
      out += "\n  pointer:  " + m.pointer;
      out += "\n  mutation: " + std::string(diff::to_string(m.kind)) + " (" + m.label + ")";
      out += "\n  focused payload: " + shorten(json::serialize(m.focused));
      out += "\n  whole payload:   " + shorten(json::serialize(m.payload));
      out += "\n  ours (focused):  " + ours_text(ours, error_focused);
      out += "\n  ours (whole):    " + ours_text(ours_whole, error_whole);
      out += "\n  valijson:        " +
             (threw ? std::string("threw (taken as invalid)") : verdict(theirs));
      out += "\n  expected:        " + verdict(m.expect_valid);
      if (!m.expect_valid && !m.expect_keyword.empty()) {
        out += " [" + std::string(m.expect_keyword) + " at \"" + m.pointer + "\"]";
      }
      return out;
    };

    if (ours != m.expect_valid || ours_whole != m.expect_valid) {
      report_.expectation.add(describe("our verdict is not the expected one"));
    } else if (!m.expect_valid && !m.expect_keyword.empty()) {
      for (const ValidationError* e : {&error_focused, &error_whole}) {
        if (e->keyword != m.expect_keyword || e->path != m.pointer) {
          report_.error_report.add(describe("our error names another keyword or path"));
          break;
        }
      }
    }
    if (m.valid_when_lenient) {
      ++report_.lenient_checked;
      ValidationOptions lenient;
      lenient.lenient_date_time = true;
      if (!target.validate(m.payload, lenient, nullptr) ||
          !target.validate(m.focused, lenient, nullptr)) {
        report_.expectation.add(describe("not accepted with lenient_date_time"));
      }
    }

    const std::size_t tag = static_cast<std::size_t>(m.known);
    if (m.known != KnownDifference::kNone) ++report_.tagged[tag];
    if (ours != theirs) {
      if (m.known != KnownDifference::kNone) {
        ++report_.differed[tag];
      } else {
        report_.disagreement.add(describe("valijson disagrees"));
      }
    }
  }

  Report& report_;
  valijson::Validator validator_;  // strict types, the default
  std::string memo_schema_;
  std::unordered_map<std::string, Verdict> memo_;
};

std::string summary(const Report& r) {
  std::ostringstream out;
  out << "=== differential test against valijson: " << r.seconds << " s ===\n";
  std::size_t total = 0;
  for (const auto& [version, cases] : r.cases_per_version) {
    std::size_t schemas = 0;
    for (const auto& [name, n] : r.mutations_per_schema) {
      if (name.starts_with(version + "/")) ++schemas;
    }
    out << "  OCPP " << version << ": " << cases << " cases from "
        << r.samples_per_version.at(version) << " samples of " << schemas << " schemas\n";
    total += cases;
  }
  out << "  total: " << total << " cases (" << r.identical_minimal
      << " minimal samples identical to the full one were skipped); valijson ran on "
      << r.valijson_runs << " distinct focused documents\n";
  out << "  per mutation kind (cases / expected valid):\n";
  for (std::size_t k = 0; k < kKinds; ++k) {
    out << "    " << diff::to_string(static_cast<MutationKind>(k)) << ": " << r.per_kind[k].cases
        << " / " << r.per_kind[k].expected_valid;
    if (std::find(std::begin(kUnreachableKinds), std::end(kUnreachableKinds),
                  static_cast<MutationKind>(k)) != std::end(kUnreachableKinds)) {
      out << "  (keyword/shape not used by the OCA schemas)";
    }
    out << "\n";
  }
  out << "  deliberate differences (valijson disagreed / cases tagged):\n";
  for (std::size_t d = 1; d < kDifferences; ++d) {
    out << "    " << diff::to_string(static_cast<KnownDifference>(d)) << ": " << r.differed[d]
        << " / " << r.tagged[d];
    if (static_cast<KnownDifference>(d) == KnownDifference::kUriNotChecked) {
      out << "  (checked against our expectation only)";
    }
    out << "\n";
  }
  out << "  wrong-type pairs (schema type, JSON type) exercised: " << r.wrong_type_pairs.size()
      << "\n";
  out << "  distinct date-time strings used: " << r.date_time_variants.size() << " of "
      << diff::date_time_variant_count() << "\n";
  out << "  cases where valijson threw in its format check (non-empty object/array for a "
         "date-time): "
      << r.valijson_threw << " (taken as invalid)\n";
  out << "  missing-offset date-times also accepted with lenient_date_time: " << r.lenient_checked
      << "\n";
  out << "  failures: setup " << r.setup.count << ", expectation " << r.expectation.count
      << ", keyword/path " << r.error_report.count << ", disagreement " << r.disagreement.count
      << "\n";
  return out.str();
}

class Differential : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    report_ = new Report;
    auto start = std::chrono::steady_clock::now();
    Runner runner(*report_);
    for (const VersionSpec& spec : versions()) runner.run_version(spec);
    report_->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << summary(*report_) << std::flush;
  }
  static void TearDownTestSuite() {
    delete report_;
    report_ = nullptr;
  }
  static Report* report_;
};

Report* Differential::report_ = nullptr;

TEST_F(Differential, SchemasLoadAndSamplesAreValid) {
  EXPECT_EQ(report_->setup.count, 0u) << report_->setup.text();
}

TEST_F(Differential, OurVerdictsMatchTheMutations) {
  EXPECT_EQ(report_->expectation.count, 0u) << report_->expectation.text();
}

TEST_F(Differential, OurErrorsNameTheMutatedKeywordAndPath) {
  EXPECT_EQ(report_->error_report.count, 0u) << report_->error_report.text();
}

TEST_F(Differential, ValijsonAgreesApartFromDeliberateDifferences) {
  EXPECT_EQ(report_->disagreement.count, 0u) << report_->disagreement.text();
  // The documented differences are real: each one shows up in the corpus.
  for (KnownDifference d :
       {KnownDifference::kMultipleOfDecimal, KnownDifference::kIntegerAsDouble,
        KnownDifference::kDateTimeLeapYear, KnownDifference::kDateTimeLeapSecond,
        KnownDifference::kDateTimeYearDigits, KnownDifference::kDateTimeOffsetSign,
        KnownDifference::kUriNotChecked}) {
    EXPECT_GT(report_->differed[static_cast<std::size_t>(d)], 0u) << diff::to_string(d);
  }
}

TEST_F(Differential, CorpusCoversEverySchemaAndMutationKind) {
  const Report& r = *report_;
  // Every schema file on disk belongs to an action of the tables, and the reverse.
  std::set<std::string> used;
  for (const auto& [name, n] : r.mutations_per_schema) used.insert(name);
  EXPECT_EQ(used, r.schema_files_on_disk);
  EXPECT_EQ(r.schema_files_on_disk.size(), 78u + 128u + 181u);
  for (const auto& [name, n] : r.mutations_per_schema) {
    EXPECT_GE(n, kMinMutationsPerSchema) << name;
  }
  for (const VersionSpec& spec : versions()) {
    auto it = r.cases_per_version.find(std::string(spec.directory));
    ASSERT_NE(it, r.cases_per_version.end()) << spec.directory;
    EXPECT_GE(it->second, spec.min_cases) << spec.directory;
  }
  for (std::size_t k = 0; k < kKinds; ++k) {
    auto kind = static_cast<MutationKind>(k);
    bool unreachable = std::find(std::begin(kUnreachableKinds), std::end(kUnreachableKinds),
                                 kind) != std::end(kUnreachableKinds);
    if (!unreachable) {
      EXPECT_GT(r.per_kind[k].cases, 0u) << diff::to_string(kind);
    }
  }
  EXPECT_GT(r.lenient_checked, 0u);
  // Every schema type met every JSON type it does not accept.
  std::set<std::string> pairs;
  for (std::string_view schema_type :
       {"string", "integer", "number", "boolean", "object", "array"}) {
    for (std::string_view json_type :
         {"string", "integer", "number", "boolean", "null", "object", "array"}) {
      if (json_type == schema_type || (schema_type == "number" && json_type == "integer")) continue;
      pairs.insert(std::string(schema_type) + " replaced by " + std::string(json_type));
    }
  }
  EXPECT_EQ(r.wrong_type_pairs, pairs);
  EXPECT_EQ(r.date_time_variants.size(), diff::date_time_variant_count());
}

}  // namespace
