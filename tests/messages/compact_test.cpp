// The compact (table-driven) validators of ocpp_schema_compact against the generated validators of
// ocpp_messages: for every request, response and SEND payload of OCPP 1.6, 2.0.1 and 2.1, both must
// return the same bool and, on failure, the same ValidationError (path, keyword, message), with and
// without lenient date-times and with a null error pointer. Inputs: the generated full and minimal
// samples; the schema-driven mutations of the valijson differential test (differential_corpus.cpp:
// wrong types, removed members, unknown members, enum members and non-members, strings at and over
// maxLength, bounds, multipleOf, minItems/maxItems, date-times, URIs); schema-blind mutations of
// every value of the sample (each replaced by a dozen JSON values, every member removed, an unknown
// member added to every object, arrays emptied and grown), also two at a time, so that the order
// in which the first error is chosen is compared too; and the messages fuzz corpus, each payload
// validated against every message schema.
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "differential_corpus.hpp"
#include "ocpp/messages/find_action.hpp"
#include "ocpp/schema/compact.hpp"
#include "samples.hpp"

#ifndef OCPP_SCHEMAS_DIR
#error "OCPP_SCHEMAS_DIR must name the schemas directory (set by tests/messages/CMakeLists.txt)"
#endif
#ifndef OCPP_FUZZ_CORPUS_DIR
#error "OCPP_FUZZ_CORPUS_DIR must name fuzz/corpus/messages (set by tests/messages/CMakeLists.txt)"
#endif

namespace {

namespace json = boost::json;
using ocpp::schema::ValidateFn;
using ocpp::schema::ValidationError;
using ocpp::schema::ValidationOptions;

struct Message {
  const ocpp_test::Sample* full = nullptr;
  const ocpp_test::Sample* minimal = nullptr;
  std::string schema_file;  // "2.0.1/TransactionEventRequest.json"
  ValidateFn generated = nullptr;
  ValidateFn compact = nullptr;
};

struct Version {
  ocpp::ProtocolVersion version;
  std::string_view folder;
  std::span<const ocpp_test::Sample> samples;
  const ocpp::ActionInfo* (*find_generated)(std::string_view);
};

const Version kVersions[] = {
    {ocpp::ProtocolVersion::v16, "1.6", ocpp_test::samples_v16(), &ocpp::v16::find_action},
    {ocpp::ProtocolVersion::v201, "2.0.1", ocpp_test::samples_v201(), &ocpp::v201::find_action},
    {ocpp::ProtocolVersion::v21, "2.1", ocpp_test::samples_v21(), &ocpp::v21::find_action},
};

std::vector<Message> all_messages() {
  std::vector<Message> out;
  for (const Version& ver : kVersions) {
    for (const ocpp_test::Sample& s : ver.samples) {
      const bool response = s.type.ends_with("Response");
      const ocpp::ActionInfo* gen = ver.find_generated(s.action);
      const ocpp::ActionInfo* com = ocpp::schema::compact::find_action(ver.version, s.action);
      if (!gen || !com) throw std::runtime_error("no action " + std::string(s.action));
      if (s.variant == "minimal") {
        out.back().minimal = &s;
        continue;
      }
      Message m;
      m.full = &s;
      m.generated = response ? gen->validate_response : gen->validate_request;
      m.compact = response ? com->validate_response : com->validate_request;
      std::string stem = response || ver.folder == "1.6" || gen->pattern == ocpp::MessagePattern::Send
                             ? std::string(response ? s.type : s.action)
                             : std::string(s.type);
      m.schema_file = std::string(ver.folder) + "/" + stem + ".json";
      out.push_back(m);
    }
  }
  return out;
}

// Runs both validators on `value` four ways and records any difference.
class Comparer {
 public:
  void compare(const Message& m, const json::value& value, std::string_view what) {
    for (bool lenient : {false, true}) {
      ValidationOptions options;
      options.lenient_date_time = lenient;
      ValidationError a, b;
      const bool ga = m.generated(value, options, &a);
      const bool cb = m.compact(value, options, &b);
      const bool gn = m.generated(value, options, nullptr);
      const bool cn = m.compact(value, options, nullptr);
      ++cases;
      invalid += !ga;
      if (!ga) ++keywords[a.keyword];
      if (ga != cb || gn != cn || ga != gn || (!ga && (a.path != b.path || a.keyword != b.keyword || a.message != b.message)))
        report(m, value, what, lenient, ga, a, cb, b);
    }
  }

  std::size_t cases = 0;
  std::size_t invalid = 0;
  std::size_t differences = 0;
  std::map<std::string, std::size_t> keywords;  // failing keyword -> cases

 private:
  void report(const Message& m, const json::value& value, std::string_view what, bool lenient, bool ga,
              const ValidationError& a, bool cb, const ValidationError& b) {
    if (++differences > 20) return;  // the first ones say enough
    ADD_FAILURE() << m.schema_file << " (" << what << (lenient ? ", lenient" : "") << ")\n  value: "
                  << json::serialize(value) << "\n  generated: " << ga << " " << a.path << " " << a.keyword << " "
                  << a.message << "\n  compact:   " << cb << " " << b.path << " " << b.keyword << " " << b.message;
  }
};

// Every value of `doc` with its location, in document order (parent before children).
void collect(json::value& v, std::vector<json::value*>& out) {
  out.push_back(&v);
  if (auto* o = v.if_object())
    for (auto& kv : *o) collect(kv.value(), out);
  else if (auto* a = v.if_array())
    for (auto& x : *a) collect(x, out);
}

std::vector<json::value> replacements() {
  std::vector<json::value> out;
  out.emplace_back(nullptr);
  out.emplace_back(true);
  out.emplace_back(0);
  out.emplace_back(-1);
  out.emplace_back(2.5);
  out.emplace_back(1e300);
  out.emplace_back(18446744073709551615ull);
  for (std::string s : {std::string(), std::string("x"), std::string(1200, 'a'),
                        std::string(300, 'a') + "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", std::string("2024-02-30T10:00:00Z"),
                        std::string("2024-01-15T10:30:00"), std::string("https://example.com/a b"),
                        std::string("Accepted")})
    out.emplace_back(json::string(s));
  out.emplace_back(json::array{});
  out.emplace_back(json::array{1, "two"});
  out.emplace_back(json::object{});
  out.emplace_back(json::object{{"zzUnknown", 1}});
  return out;
}

// Schema-blind mutations of `base`, one at a time: `visit(mutated, label)`.
void for_each_blind_mutation(const json::value& base, const std::function<void(const json::value&, std::string)>& visit) {
  static const std::vector<json::value> kReplacements = replacements();
  json::value doc = base;
  std::vector<json::value*> values;
  collect(doc, values);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const json::value saved = *values[i];
    const std::string at = "value " + std::to_string(i);
    // Each mutation edits the value in place and is undone by assigning the saved copy; that
    // rebuilds a container's children, whose addresses are then collected again.
    auto restore = [&] {
      *values[i] = saved;
      if (saved.is_structured()) {
        values.clear();
        collect(doc, values);
      }
    };
    for (const json::value& r : kReplacements) {
      if (i == 0 && !r.is_object()) continue;  // the root: a few suffice
      *values[i] = r;
      visit(doc, at + " := " + json::serialize(r));
      restore();
    }
    if (const auto* o = saved.if_object()) {
      for (const auto& kv : *o) {
        values[i]->as_object().erase(kv.key());
        visit(doc, at + " without " + std::string(kv.key()));
        restore();
      }
      values[i]->as_object().emplace("zzUnknown", 1);
      visit(doc, at + " + unknown member");
      values[i]->as_object().emplace("aaUnknown", 2);  // the first unknown one is reported
      visit(doc, at + " + two unknown members");
      restore();
    } else if (const auto* a = saved.if_array()) {
      values[i]->as_array().clear();
      visit(doc, at + " emptied");
      restore();
      for (std::size_t n : {std::size_t{2}, std::size_t{1001}}) {
        if (a->empty()) break;
        json::array& grown = values[i]->as_array();
        for (std::size_t k = a->size(); k < n; ++k) grown.push_back((*a)[0]);
        visit(doc, at + " x" + std::to_string(n));
        restore();
      }
    } else if (saved.is_number()) {
      for (double d : {-1e9, 1e9, 0.1, 8.1, 6.25, 0.30000000000000004}) {
        *values[i] = d;
        visit(doc, at + " := " + std::to_string(d));
      }
      restore();
    }
  }
  // Two values broken at once (a wrong type at each): the generated order of checks decides which
  // is reported; pairs with the next value and with one further away.
  for (std::size_t i = 1; i < values.size(); ++i) {
    for (std::size_t j : {i + 1, i + 7}) {
      if (j >= values.size()) continue;
      json::value copy = doc;
      std::vector<json::value*> cv;
      collect(copy, cv);
      *cv[j] = json::object{{"zz", 1}};  // j first: replacing i may remove j
      *cv[i] = json::array{nullptr};
      visit(copy, "values " + std::to_string(i) + " and " + std::to_string(j) + " broken");
    }
  }
}

const std::vector<Message>& messages() {
  static const std::vector<Message> all = all_messages();
  return all;
}

TEST(CompactValidators, ActionTablesMatchTheGeneratedOnes) {
  std::size_t n = 0;
  for (const Version& ver : kVersions) {
    for (const ocpp_test::Sample& s : ver.samples) {
      const ocpp::ActionInfo* gen = ver.find_generated(s.action);
      const ocpp::ActionInfo* com = ocpp::schema::compact::find_action(ver.version, s.action);
      ASSERT_NE(com, nullptr) << s.action;
      EXPECT_EQ(com->name, gen->name);
      EXPECT_EQ(com->direction, gen->direction) << s.action;
      EXPECT_EQ(com->pattern, gen->pattern) << s.action;
      EXPECT_EQ(com->validate_response == nullptr, gen->validate_response == nullptr) << s.action;
      ++n;
    }
    EXPECT_EQ(ocpp::schema::compact::find_action(ver.version, "NoSuchAction"), nullptr);
    EXPECT_EQ(ocpp::schema::compact::find_action(ver.version, ""), nullptr);
  }
  EXPECT_EQ(ocpp::schema::compact::find_action(ocpp::ProtocolVersion::other, "Authorize"), nullptr);
  EXPECT_EQ(n, 2u * (78 + 128 + 181));
}

TEST(CompactValidators, CompactValidatorsGiveTheSameAnswerAsGeneratedOnEverySampleAndMutation) {
  Comparer c;
  std::size_t corpus = 0, blind = 0;
  for (const Message& m : messages()) {
    const json::value schema = ocpp_test::differential::load_json_file(std::filesystem::path(OCPP_SCHEMAS_DIR) / m.schema_file);
    for (const ocpp_test::Sample* s : {m.full, m.minimal}) {
      const json::value sample = json::parse(s->json);
      c.compare(m, sample, s->variant);
      ocpp_test::differential::for_each_mutation(schema, sample, [&](const ocpp_test::differential::Mutation& mu) {
        ++corpus;
        c.compare(m, mu.payload, mu.label);
        c.compare(m, mu.focused, mu.label);
      });
      for_each_blind_mutation(sample, [&](const json::value& v, const std::string& label) {
        ++blind;
        c.compare(m, v, label);
      });
    }
  }
  std::printf("compact vs generated: %zu messages, %zu schema-driven and %zu blind mutations, %zu comparisons "
              "(%zu invalid), %zu differences\n",
              messages().size(), corpus, blind, c.cases, c.invalid, c.differences);
  EXPECT_EQ(messages().size(), 78u + 128u + 181u);
  EXPECT_EQ(c.differences, 0u);
  EXPECT_GT(c.invalid, c.cases / 3);  // the mutations do break things, with every keyword in use
  for (const char* k : {"type", "required", "additionalProperties", "enum", "maxLength", "minimum", "maximum",
                        "multipleOf", "minItems", "maxItems", "format"}) {
    EXPECT_GT(c.keywords[k], 0u) << k;
    std::printf("  %s: %zu\n", k, c.keywords[k]);
  }
}

TEST(CompactValidators, CompactValidatorsGiveTheSameAnswerAsGeneratedOnTheFuzzCorpus) {
  Comparer c;
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(OCPP_FUZZ_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 2) continue;
    boost::system::error_code ec;
    json::value v = json::parse(std::string_view(bytes).substr(2), ec);
    if (ec) continue;
    ++files;
    for (const Message& m : messages()) c.compare(m, v, entry.path().filename().string());
  }
  std::printf("fuzz corpus: %zu payloads x %zu messages, %zu comparisons, %zu differences\n", files,
              messages().size(), c.cases, c.differences);
  EXPECT_GT(files, 100u);
  EXPECT_EQ(c.differences, 0u);
}

}  // namespace
