// Round trip of every generated message type: JSON -> validator -> value_to<T> -> value_from -> JSON.
#include <cctype>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "samples.hpp"

namespace ocpp_test {

boost::json::value sample_json(std::span<const Sample> samples, std::string_view type,
                               std::string_view variant) {
  for (const Sample& s : samples)
    if (s.type == type && s.variant == variant) return boost::json::parse(s.json);
  throw std::runtime_error("no sample " + std::string(type));
}

namespace {

std::vector<Sample> all_samples() {
  std::vector<Sample> out;
  for (auto span : {samples_v16(), samples_v201(), samples_v21()}) out.insert(out.end(), span.begin(), span.end());
  return out;
}

class RoundTrip : public ::testing::TestWithParam<Sample> {};

TEST_P(RoundTrip, ValidateConvertCompare) {
  const Sample& s = GetParam();
  boost::json::value original = boost::json::parse(s.json);
  ocpp::schema::ValidationError error;
  ASSERT_TRUE(s.validate(original, {}, &error))
      << s.type << " " << s.variant << ": " << error.path << " " << error.keyword << " " << error.message;
  boost::json::value back = s.round_trip(original);
  EXPECT_EQ(back, original) << "original: " << s.json << "\nback:     " << boost::json::serialize(back);
  EXPECT_TRUE(s.validate(back, {}, nullptr));
}

std::string sample_name(const ::testing::TestParamInfo<Sample>& info) {
  std::string p(info.param.protocol);
  std::string name;
  for (char c : p)
    if (std::isalnum(static_cast<unsigned char>(c))) name += c;
  return name + "_" + std::string(info.param.type) + "_" + std::string(info.param.variant);
}

INSTANTIATE_TEST_SUITE_P(AllMessages, RoundTrip, ::testing::ValuesIn(all_samples()), sample_name);

TEST(RoundTripCoverage, EveryMessageHasFullAndMinimalSample) {
  // 1.6: 39 actions, 2.0.1: 64, 2.1: 90 + NotifyPeriodicEventStream; two payloads per CALL action.
  EXPECT_EQ(samples_v16().size(), 39u * 2 * 2);
  EXPECT_EQ(samples_v201().size(), 64u * 2 * 2);
  EXPECT_EQ(samples_v21().size(), (90u * 2 + 1) * 2);
}

}  // namespace
}  // namespace ocpp_test
