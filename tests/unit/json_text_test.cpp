// read_json and write_json, which the browser build uses for every frame, against Boost.JSON's parser
// and serializer, which the native build uses: the same value (kinds and double bits), the same
// message for a refused text, the same output text. Differential, over hand-picked edges and over
// seeded random texts, so a difference in either direction fails.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ocpp/rpc/json_text.hpp"
#include "support/identical_json.hpp"

using namespace ocpp;
namespace json = boost::json;

namespace {

struct BoostRead {
  json::value value;
  std::string error;
};

BoostRead boost_read(std::string_view text, std::size_t max_depth) {
  json::parse_options opt;
  opt.max_depth = max_depth;
  json::parser p(json::storage_ptr(), opt);
  boost::system::error_code ec;
  p.write(text.data(), text.size(), ec);
  if (ec) return {nullptr, ec.message()};
  return {p.release(), ""};
}

std::string printable(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

::testing::AssertionResult agrees(std::string_view text, std::size_t max_depth = 32) {
  const auto ours = read_json(text, max_depth);
  const auto boost = boost_read(text, max_depth);
  if (ours.error != boost.error)
    return ::testing::AssertionFailure() << "for `" << printable(text) << "`: read_json says '" << ours.error
                                         << "', Boost says '" << boost.error << "'";
  if (ours.ok() && !identical_json(ours.value, boost.value))
    return ::testing::AssertionFailure() << "for `" << printable(text) << "`: read_json reads "
                                         << json::serialize(ours.value) << ", Boost " << json::serialize(boost.value);
  return ::testing::AssertionSuccess();
}

std::string written(const json::value& v) {
  std::string s;
  write_json(s, v);
  return s;
}

const std::vector<std::string> kFrames = {
    R"([2,"19223201","BootNotification",{"chargingStation":{"model":"SingleSocketCharger","vendorName":"VendorX"},"reason":"PowerUp"}])",
    R"([3,"19223201",{"currentTime":"2013-02-01T20:53:32.486Z","interval":300,"status":"Accepted"}])",
    R"([4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}])",
    R"([2,"a\"b\\c","DataTransfer",{"vendorId":"\u00e9\ud83d\ude00\n\t/","data":[1,-2,3.5,-0.0,1e-7,12345678901234567890,null,true,false]}])",
    R"( [ 2 , "x" , "Heartbeat" , { } ] )",
    R"([2,"id","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z","sampledValue":[{"value":1234.5678,"measurand":"Energy.Active.Import.Register"}]}]}])",
    "[6,\"s\",\"NotifyPeriodicEventStream\",{\"id\":1,\"pending\":0,\"basetime\":\"2024-01-01T00:00:00Z\",\"data\":[{\"t\":0.5,\"v\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}]}]",
};

TEST(JsonText, ReadsEveryValidFrameAsBoostDoes) {
  for (const auto& f : kFrames) {
    EXPECT_TRUE(read_json(f).ok()) << f;
    EXPECT_TRUE(agrees(f));
  }
}

TEST(JsonText, RefusesEachFaultWithBoostsMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "incomplete JSON"},
      {" \t\r\n", "incomplete JSON"},
      {"[1,2", "incomplete JSON"},
      {"[1,2] x", "extra data"},
      {"{} {}", "extra data"},
      {"[1,]", "syntax error"},
      {"{\"a\":1,}", "syntax error"},
      {"{\"a\" 1}", "syntax error"},
      {"{1:2}", "syntax error"},
      {"[tru]", "syntax error"},
      {"[nul", "incomplete JSON"},
      {"[\"a\x01\"]", "syntax error"},
      {"[\"\\x\"]", "syntax error"},
      {"[01]", "syntax error"},
      {"01", "extra data"},
      {"[-]", "syntax error"},
      {"-", "incomplete JSON"},
      {"[1.]", "syntax error"},
      {"[1e]", "syntax error"},
      {"1e", "incomplete JSON"},
      {"[1e99999999999]", "exponent overflow"},
      {"[\"\\uZZZZ                \"]", "expected hex digit"},
      {"[\"\\udc00                \"]", "illegal leading surrogate"},
      {"[\"\\ud800\\u0041         \"]", "illegal trailing surrogate"},
      {"[\"\\ud800x               \"]", "syntax error"},
      {"\"\\udc00\"", "illegal trailing surrogate"},
      {"[\"\xc3\"]", "syntax error"},
      {"[\"\xc3", "incomplete JSON"},
      {"[\"\xff\"]", "syntax error"},
      {"[\"\xed\xa0\x80\"]", "syntax error"},
      {std::string(33, '[') + std::string(33, ']'), "too deep"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(read_json(text).error, message) << printable(text);
    EXPECT_TRUE(agrees(text));
  }
}

TEST(JsonText, FlagsANumberTooLargeForADouble) {
  EXPECT_TRUE(read_json(R"([1.5,-2e300,{"a":[1e308]}])").finite);
  EXPECT_FALSE(read_json(R"([1.5,{"a":[1e400]}])").finite);
  EXPECT_FALSE(read_json("-1e400").finite);
  EXPECT_FALSE(read_json("123456789012345678901234567890e300").finite);
}

// Runs of plain text are skipped eight bytes at a time: every stop character at every offset.
TEST(JsonText, StringsStopAtEachSpecialByteWhereverItFalls) {
  const std::vector<std::string> stops = {"\"", "\\n", "\x01", "\x1f", "\x7f", "\x80", "\xc3\xa9",
                                          "\xe2\x82\xac", "\xff", " ", "~"};
  for (const auto& stop : stops)
    for (std::size_t at = 0; at <= 20; ++at)
      for (std::size_t tail = 0; tail <= 9; ++tail) {
        const std::string body = std::string(at, 'a') + stop + std::string(tail, 'b');
        EXPECT_TRUE(agrees("\"" + body + "\""));
        EXPECT_TRUE(agrees("[\"" + body + "\",1]"));
        EXPECT_TRUE(agrees("\"" + body));
      }
}

TEST(JsonText, DepthLimitCountsArraysAndObjectsAsBoostDoes) {
  for (const std::size_t limit : {1u, 2u, 5u, 32u, 64u}) {
    for (std::size_t n = limit - 1; n <= limit + 1; ++n) {
      std::string arrays = std::string(n, '[') + std::string(n, ']');
      std::string mixed;
      for (std::size_t i = 0; i < n; ++i) mixed += i % 2 ? "[" : "{\"k\":";
      for (std::size_t i = n; i-- > 0;) mixed += i % 2 ? "]" : "}";
      if (n == 0) mixed = "0";
      EXPECT_TRUE(agrees(arrays, limit));
      EXPECT_TRUE(agrees(mixed, limit));
    }
    EXPECT_EQ(read_json(std::string(limit, '[') + std::string(limit, ']'), limit).error, "");
    EXPECT_EQ(read_json(std::string(limit + 1, '[') + std::string(limit + 1, ']'), limit).error, "too deep");
  }
}

// Boost converts a number on a fast path when 33 bytes or more follow its sign and digit by digit
// otherwise, and the two keep different digits past 2^53: every shape is tried at both distances.
TEST(JsonText, NumbersConvertBitForBitNearTheEndAndFarFromIt) {
  std::mt19937_64 rng(20261206);
  auto digits = [&](int n, bool nonzero_first) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('0' + (i == 0 && nonzero_first ? 1 + rng() % 9 : rng() % 10));
    return s;
  };
  int cases = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string n;
    if (rng() % 2) n += '-';
    // Half the numbers have 15 to 20 significant digits, where the two paths round differently.
    const bool long_mantissa = round % 2;
    const int int_digits = static_cast<int>(rng() % (long_mantissa ? 8 : 26));
    n += int_digits == 0 ? std::string(rng() % 4 ? "0" : "") : digits(int_digits, true);
    if (long_mantissa)
      n += "." + digits(15 + static_cast<int>(rng() % 6) - int_digits, false);
    else if (rng() % 2)
      n += "." + digits(static_cast<int>(rng() % 26), false);
    if (rng() % 3 == 0) {
      n += "eE"[rng() % 2];
      const auto sign = rng() % 3;
      if (sign) n += "+-"[sign - 1];
      n += digits(static_cast<int>(rng() % 12), false);
    }
    // What follows the sign, number included, is 32, 33 or 34 bytes: each side of the fast path.
    const std::size_t body = n.size() - (n[0] == '-');
    for (const std::size_t follows : {0u, 1u, 31u, 32u, 33u, 34u, 60u}) {
      const std::size_t pad = follows > body ? follows - body : 0;
      EXPECT_TRUE(agrees(n + std::string(pad, ' ')));
      EXPECT_TRUE(agrees("[" + n + std::string(pad ? pad - 1 : 0, ' ') + "]"));
      EXPECT_TRUE(agrees("[" + n + "," + std::string(pad > 2 ? pad - 2 : 0, '1') + "]"));
      cases += 3;
    }
  }
  for (const char* edge :
       {"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "-0", "-0.0", "0e0", "1E+2147483647", "1e2147483648",
        "1e-2147483648", "0.000000000000000000000000000000000000000000001e-300", "1e400", "-1e400",
        "123456789012345678901234567890", "0.1234567890123456789", "9007199254740993", "9007199254740993.5"}) {
    for (const std::size_t pad : {0u, 40u}) {
      EXPECT_TRUE(agrees(edge + std::string(pad, ' ')));
      EXPECT_TRUE(agrees("[" + std::string(edge) + std::string(pad, ' ') + "]"));
    }
  }
  EXPECT_GT(cases, 80000);
}

// \u escapes are read whole when more than 10 bytes follow the 'u' and byte by byte otherwise,
// with different messages for the same fault: each escape is tried at every distance from the end.
TEST(JsonText, EscapesAndSurrogatesGetBoostsAnswerAtEveryDistanceFromTheEnd) {
  const std::vector<std::string> escapes = {
      "\\u0041",  "\\u00e9",        "\\u20AC",        "\\uffff",       "\\ud83d\\ude00", "\\uD800\\uDC00",
      "\\udbff\\udfff", "\\ud800",  "\\udc00",        "\\ud800\\u0041", "\\ud800\\ud800", "\\ud800x",
      "\\ud800\\x",     "\\ud800\\", "\\u12",         "\\u12G4",       "\\uG",           "\\ud800\\uDG00",
      "\\u",            "\\",        "\\b\\f\\n\\r\\t\\/\\\\\\\"", "\\a", "\\ud800\\udc0",
  };
  for (const auto& e : escapes)
    for (const std::string before : {"", "x", "\\n"})
      for (std::size_t pad = 0; pad <= 14; ++pad)
        for (const std::string close : {"\"", "\"]", ""}) {
          EXPECT_TRUE(agrees("\"" + before + e + std::string(pad, 'a') + close));
          EXPECT_TRUE(agrees("[\"" + before + e + "\"" + std::string(pad, ' ') + (close.empty() ? "" : "]")));
        }
}

TEST(JsonText, Utf8IsJudgedAsBoostJudgesIt) {
  const std::vector<unsigned char> bytes = {0x00, 0x1f, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                                            0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0,
                                            0xf1, 0xf4, 0xf5, 0xff, 0x22, 0x5c};
  int cases = 0;
  for (const auto a : bytes)
    for (const auto b : bytes)
      for (const auto c : bytes) {
        const std::string seq{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)};
        for (const std::size_t cut : {1u, 2u, 3u}) {
          const std::string s = seq.substr(0, cut);
          EXPECT_TRUE(agrees("\"" + s));
          EXPECT_TRUE(agrees("\"" + s + "\""));
          EXPECT_TRUE(agrees("\"\\n" + s + "\x80\x80\""));
          EXPECT_TRUE(agrees("[\"" + s + "\xbf\"]"));
          cases += 4;
        }
      }
  EXPECT_GT(cases, 200000);
}

// Random edits of real frames reach the faults nobody lists.
TEST(JsonText, MutatedFramesGetTheSameAnswer) {
  std::mt19937 rng(61206);
  const std::string alphabet = "[]{}\",:\\-+.eE0123456789tfnu \t\x01\x7f\x80\xc3\xe2\xf0\xbf";
  int refused = 0, accepted = 0;
  for (int round = 0; round < 60000; ++round) {
    std::string t = kFrames[rng() % kFrames.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < edits && !t.empty(); ++i) {
      const std::size_t at = rng() % t.size();
      switch (rng() % 4) {
        case 0: t[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: t.insert(t.begin() + static_cast<std::ptrdiff_t>(at), alphabet[rng() % alphabet.size()]); break;
        case 2: t.erase(at, 1); break;
        default: t.resize(at); break;
      }
    }
    ASSERT_TRUE(agrees(t));
    (read_json(t).ok() ? accepted : refused)++;
  }
  // Both outcomes were exercised, not only one.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 1000);
}

TEST(JsonText, WritesWhatBoostsSerializerWrites) {
  for (const auto& f : kFrames) {
    const auto v = json::parse(f);
    EXPECT_EQ(written(v), json::serialize(v));
  }
  std::mt19937_64 rng(7);
  json::array doubles;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) doubles.emplace_back(d);
    doubles.emplace_back(static_cast<double>(static_cast<std::int64_t>(rng() % 2000000) - 1000000) / 1000.0);
  }
  for (const double d : {0.0, -0.0, 1.0, 0.1, 1e300, 5e-324, 1.7976931348623157e308})
    doubles.emplace_back(d);
  EXPECT_EQ(written(doubles), json::serialize(doubles));

  const json::value mixed = {
      {"ints", {INT64_MIN, INT64_MAX, 0, -1, std::uint64_t(18446744073709551615ull)}},
      {"text", "\x01\x1f\"\\/\b\f\n\r\t\x7f\xc3\xa9 end"},
      {"nested", {{"a", nullptr}, {"b", true}, {"c", false}, {"d", json::array{}}, {"e", json::object{}}}},
  };
  EXPECT_EQ(written(mixed), json::serialize(mixed));
  std::string obj;
  write_json(obj, mixed.get_object());
  EXPECT_EQ(obj, json::serialize(mixed));
}

}  // namespace
