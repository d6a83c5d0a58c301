// Each protocol's strict-mode validators with the typed conversion. The first two bytes pick a
// message type of OCPP 1.6, 2.0.1 or 2.1 (see types()), the rest is its payload's JSON. A payload
// the validator accepts must convert to the typed message and back (value_to, value_from) without
// an exception, and what comes back must be valid too and equal to what went in (as numbers: an
// integer in a `number` member comes back as a double).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "same_json.hpp"
#include "ocpp/messages/find_action.hpp"
#include "samples.hpp"

namespace {
namespace json = boost::json;
using ocpp_test::Sample;

// One entry per message type, in the order fuzz/make_corpus.py numbers its seeds.
const std::vector<const Sample*>& types() {
  static const std::vector<const Sample*> all = [] {
    std::vector<const Sample*> out;
    for (auto span : {ocpp_test::samples_v16(), ocpp_test::samples_v201(), ocpp_test::samples_v21()})
      for (const Sample& s : span)
        if (s.variant == "full") out.push_back(&s);
    return out;
  }();
  return all;
}

const ocpp::ActionInfo* action_of(const Sample& s) {
  if (s.protocol == "ocpp1.6") return ocpp::v16::find_action(s.action);
  if (s.protocol == "ocpp2.0.1") return ocpp::v201::find_action(s.action);
  return ocpp::v21::find_action(s.action);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const Sample& sample = *types()[(data[0] | data[1] << 8) % types().size()];
  json::parse_options depth;
  depth.max_depth = 32;  // as parse_frame reads a frame
  std::error_code ec;
  const json::value payload =
      json::parse(std::string_view(reinterpret_cast<const char*>(data + 2), size - 2), ec, {}, depth);
  if (ec) return 0;

  // The engine's strict mode reaches the validators through the action table.
  const ocpp::ActionInfo* action = action_of(sample);
  FUZZ_CHECK(action != nullptr);
  const bool is_request = sample.type.ends_with("Request") || action->validate_response == nullptr;
  FUZZ_CHECK(sample.validate == (is_request ? action->validate_request : action->validate_response));

  ocpp::schema::ValidationError error;
  const bool strict = sample.validate(payload, {}, &error);
  const bool lenient = sample.validate(payload, {.lenient_date_time = true}, nullptr);
  FUZZ_CHECK(strict == sample.validate(payload, {}, nullptr));
  FUZZ_CHECK(!strict || lenient);  // lenient only accepts more
  if (!strict) {
    FUZZ_CHECK(!error.keyword.empty());
    return 0;
  }
  json::value back;
  try {
    back = sample.round_trip(payload);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%.*s: a valid payload does not convert: %s\n%s\n", int(sample.type.size()),
                 sample.type.data(), e.what(), json::serialize(payload).c_str());
    FUZZ_CHECK(!"a validated payload converts");
  }
  if (!sample.validate(back, {}, &error) || !same_json(back, payload))
    std::fprintf(stderr, "%.*s: in  %s\n out %s\n", int(sample.type.size()), sample.type.data(),
                 json::serialize(payload).c_str(), json::serialize(back).c_str());
  FUZZ_CHECK(sample.validate(back, {}, nullptr));
  FUZZ_CHECK(same_json(back, payload));
  return 0;
}
