// The edge-case catalogue of the field reference (§4.1) for frame parsing and serialisation.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/message_id.hpp"

using namespace ocpp;
namespace json = boost::json;

namespace {
FrameError bad(std::string_view text, ProtocolVersion v = ProtocolVersion::v201) {
  auto r = parse_frame(text, v);
  EXPECT_FALSE(r.ok()) << text;
  return r.error;
}
Frame good(std::string_view text, ProtocolVersion v = ProtocolVersion::v201) {
  auto r = parse_frame(text, v);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error.message;
  return r.frame;
}
}  // namespace

TEST(Frame, ParsesEachMessageType) {
  auto call = good(R"([2,"id1","BootNotification",{"a":1}])");
  EXPECT_EQ(call.type, MessageType::Call);
  EXPECT_EQ(call.id, "id1");
  EXPECT_EQ(call.action, "BootNotification");
  EXPECT_EQ(call.payload, json::parse(R"({"a":1})"));

  auto result = good(R"([3,"id1",{"status":"Accepted"}])");
  EXPECT_EQ(result.type, MessageType::CallResult);

  auto error = good(R"([4,"id1","SecurityError","nope",{"k":"v"}])");
  EXPECT_EQ(error.error_code, ErrorCode::SecurityError);
  EXPECT_EQ(error.description, "nope");
  EXPECT_EQ(error.details.at("k"), "v");
}

TEST(Frame, InvalidJsonIsAnsweredWithMinusOne) {
  for (auto text : {R"([2,"id","BootNotification",{])", "not json", "\xff\xfe", R"([2,"id","A",{}] trailing)"}) {
    auto e = bad(text);
    EXPECT_TRUE(e.reply);
    EXPECT_EQ(e.id, "-1");
    EXPECT_EQ(e.code, ErrorCode::RpcFrameworkError);
  }
}

TEST(Frame, NonArrayAndShortArrays) {
  EXPECT_EQ(bad(R"({"a":[2,"x","A",{}]})").id, "-1");
  EXPECT_EQ(bad(R"([2,"x"])").code, ErrorCode::RpcFrameworkError);
  EXPECT_EQ(bad(R"([])").id, "-1");
}

TEST(Frame, MessageTypeMustBeAnInteger) {
  auto e = bad(R"(["2","abc","A",{}])");
  EXPECT_EQ(e.code, ErrorCode::RpcFrameworkError);
  EXPECT_EQ(e.id, "abc");  // readable, so the answer carries it
  EXPECT_EQ(bad(R"([2.0,"abc","A",{}])").code, ErrorCode::RpcFrameworkError);
}

TEST(Frame, UnknownTypesDependOnTheVersion) {
  for (auto t : {"0", "1", "7", "99", "-1"}) {
    std::string text = std::string("[") + t + R"(,"abc","A",{}])";
    auto e201 = bad(text, ProtocolVersion::v201);
    EXPECT_EQ(e201.code, ErrorCode::MessageTypeNotSupported);
    EXPECT_TRUE(e201.reply);
    EXPECT_EQ(e201.id, "abc");
    EXPECT_FALSE(bad(text, ProtocolVersion::v21).reply) << "2.1 ignores unknown types";
  }
  // SEND and CALLRESULTERROR exist only on 2.1.
  EXPECT_EQ(bad(R"([6,"abc","NotifyPeriodicEventStream",{}])", ProtocolVersion::v16).code,
            ErrorCode::MessageTypeNotSupported);
  EXPECT_EQ(good(R"([6,"abc","NotifyPeriodicEventStream",{}])", ProtocolVersion::v21).type, MessageType::Send);
  EXPECT_EQ(good(R"([5,"abc","FormatViolation","bad",{}])", ProtocolVersion::v21).type,
            MessageType::CallResultError);
}

TEST(Frame, MessageIdRules) {
  EXPECT_EQ(bad(R"([2,17,"A",{}])").id, "-1");
  EXPECT_EQ(bad(R"([2,null,"A",{}])").id, "-1");
  EXPECT_EQ(bad(R"([2,"","A",{}])").id, "-1");
  std::string id36(36, 'a'), id37(37, 'a');
  good("[2,\"" + id36 + "\",\"A\",{}]");
  auto e = bad("[2,\"" + id37 + "\",\"A\",{}]");
  EXPECT_EQ(e.code, ErrorCode::RpcFrameworkError);
  EXPECT_TRUE(e.reply);
}

TEST(Frame, CallShape) {
  EXPECT_EQ(bad(R"([2,"x","A"])").code, ErrorCode::RpcFrameworkError);
  EXPECT_EQ(bad(R"([2,"x","A",{},1])").code, ErrorCode::RpcFrameworkError);
  EXPECT_EQ(bad(R"([2,"x",5,{}])").code, ErrorCode::RpcFrameworkError);
  EXPECT_EQ(bad(R"([2,"x","",{}])").code, ErrorCode::NotImplemented);
  auto e = bad(R"([2,"x","A",[]])");
  EXPECT_EQ(e.code, ErrorCode::FormatViolation);
  EXPECT_EQ(e.id, "x");
  EXPECT_EQ(bad(R"([2,"x","A",null])").code, ErrorCode::FormatViolation);
}

TEST(Frame, ResponsesAreNeverAnswered) {
  auto e = bad(R"([3,"x",[]])");
  EXPECT_FALSE(e.reply);
  EXPECT_TRUE(e.is_response);
  EXPECT_FALSE(bad(R"([3,"x"])").reply);
  EXPECT_FALSE(bad(R"([4,"x"])").reply);
  EXPECT_FALSE(bad(R"([3,7,{}])").reply);
  EXPECT_FALSE(bad(R"([6,7,"A",{}])", ProtocolVersion::v21).reply) << "SEND is never answered";
}

TEST(Frame, LenientInput) {
  EXPECT_TRUE(good(R"([3,"x",null])").payload.is_object()) << "null result taken as {}";
  ParseOptions strict;
  strict.null_result_as_empty = false;
  EXPECT_FALSE(parse_frame(R"([3,"x",null])", ProtocolVersion::v201, strict).ok());
  auto missing_details = good(R"([4,"x","GenericError","d"])");
  EXPECT_TRUE(missing_details.details.empty());
  auto unknown = good(R"([4,"x","TotallyNewCode","d",{}])");
  EXPECT_EQ(unknown.error_code, ErrorCode::GenericError);
  EXPECT_EQ(unknown.error_code_text, "TotallyNewCode");
  EXPECT_TRUE(good(R"([4,"x","GenericError","d","notanobject"])").details.empty());
}

// Found by fuzz/frame.cpp: 1e400 parsed as infinity, which serialises as `Infinity`, not JSON.
TEST(Frame, NumbersBeyondADoubleAreRefusedSoNoFrameCarriesInfinity) {
  auto call = bad(R"([2,"x","A",{"n":[1,{"m":1e400}]}])");
  EXPECT_EQ(call.code, ErrorCode::FormatViolation);
  EXPECT_EQ(call.id, "x");
  EXPECT_TRUE(call.reply);
  auto result = bad(R"([3,"x",{"n":-1e400}])");
  EXPECT_FALSE(result.reply);
  EXPECT_TRUE(result.is_response);
  EXPECT_TRUE(good(R"([4,"x","GenericError","d",{"n":1e400}])").details.empty()) << "tolerated, like other bad details";
  auto fine = good(R"([2,"x","A",{"n":1e308,"m":-0,"k":-9223372036854775809}])");
  EXPECT_EQ(parse_frame(serialize_call(fine.id, fine.action, fine.payload), ProtocolVersion::v201).frame.payload,
            fine.payload);
}

TEST(Frame, NestingDepthIsBounded) {
  std::string deep = R"([2,"x","A",)" + std::string(200, '[') + std::string(200, ']') + "]";
  EXPECT_EQ(bad(deep).id, "-1");
}

TEST(ErrorCodes, SpellingPerVersion) {
  EXPECT_EQ(wire_name(ErrorCode::FormatViolation, ProtocolVersion::v16), "FormationViolation");
  EXPECT_EQ(wire_name(ErrorCode::OccurrenceConstraintViolation, ProtocolVersion::v16),
            "OccurenceConstraintViolation");
  EXPECT_EQ(wire_name(ErrorCode::RpcFrameworkError, ProtocolVersion::v16), "FormationViolation");
  EXPECT_EQ(wire_name(ErrorCode::FormatViolation, ProtocolVersion::v201), "FormatViolation");
  EXPECT_EQ(wire_name(ErrorCode::OccurrenceConstraintViolation, ProtocolVersion::v21),
            "OccurrenceConstraintViolation");
  for (auto s : {"FormationViolation", "FormatViolation"}) EXPECT_EQ(parse_error_code(s), ErrorCode::FormatViolation);
  for (auto s : {"OccurenceConstraintViolation", "OccurrenceConstraintViolation"})
    EXPECT_EQ(parse_error_code(s), ErrorCode::OccurrenceConstraintViolation);
  EXPECT_EQ(parse_error_code("nonsense"), ErrorCode::GenericError);
}

TEST(Serialize, EscapesAndRoundTrips) {
  std::string frame = serialize_call_error("id\"1", "GenericError", "line\nbreak \"quoted\" \x01", {});
  auto v = json::parse(frame);
  EXPECT_EQ(v.as_array()[1], "id\"1");
  EXPECT_EQ(v.as_array()[3], "line\nbreak \"quoted\" \x01");
  EXPECT_EQ(v.as_array()[4], json::object());
  auto call = json::parse(serialize_call("a", "Heartbeat", json::object()));
  EXPECT_EQ(call, json::parse(R"([2,"a","Heartbeat",{}])"));
  auto send = json::parse(serialize_send("a", "X", json::object{{"k", 1}}));
  EXPECT_EQ(send.as_array()[0], 6);
  EXPECT_EQ(json::parse(serialize_call_result_error("a", "FormatViolation", "d", {})).as_array()[0], 5);

  // Every ASCII byte, escapes between unescaped runs, at both ends, and UTF-8 passed through.
  std::string all;
  for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
  for (const std::string& text : {all, "\\" + all + "\"", std::string("Grüße \xe2\x82\xac"), std::string()}) {
    const auto round = json::parse(serialize_call(text, "A", json::object()));
    EXPECT_EQ(round.as_array()[1].as_string(), text);
  }
  std::string out;
  append_json_string(out, "a\"b\\c\x1f\b\f\n\r\td");
  EXPECT_EQ(out, R"("a\"b\\c\u001f\b\f\n\r\td")");
}

TEST(MessageId, UuidShapedAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    auto id = random_message_id();
    ASSERT_EQ(id.size(), 36u);
    ASSERT_EQ(id[14], '4');
    ASSERT_TRUE(seen.insert(id).second);
  }
}
