// The OCPP-J frame parser and serialiser: any text either parses or fails with a FrameError (no
// crash, no exception); a parsed frame serialises to text that parses to the same frame, and again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "same_json.hpp"
#include "ocpp/rpc/frame.hpp"

namespace {
using ocpp::Frame;
using ocpp::MessageType;

std::string serialize(const Frame& f) {
  switch (f.type) {
    case MessageType::Call: return ocpp::serialize_call(f.id, f.action, f.payload);
    case MessageType::Send: return ocpp::serialize_send(f.id, f.action, f.payload);
    case MessageType::CallResult: return ocpp::serialize_call_result(f.id, f.payload);
    case MessageType::CallError: return ocpp::serialize_call_error(f.id, f.error_code_text, f.description, f.details);
    case MessageType::CallResultError:
      return ocpp::serialize_call_result_error(f.id, f.error_code_text, f.description, f.details);
  }
  FUZZ_CHECK(!"unknown message type in a parsed frame");
  return {};
}

bool same(const Frame& a, const Frame& b) {
  return a.type == b.type && a.id == b.id && a.action == b.action && same_json(a.payload, b.payload) &&
         a.error_code == b.error_code && a.error_code_text == b.error_code_text && a.description == b.description &&
         same_json(boost::json::value(a.details), boost::json::value(b.details));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto version : {ocpp::ProtocolVersion::v16, ocpp::ProtocolVersion::v201, ocpp::ProtocolVersion::v21}) {
    const auto first = ocpp::parse_frame(text, version);
    if (!first.ok()) {
      FUZZ_CHECK(!first.error.id.empty());
      continue;
    }
    FUZZ_CHECK(!first.frame.id.empty() && first.frame.id.size() <= ocpp::kMaxMessageIdLength);
    const std::string once = serialize(first.frame);
    const auto second = ocpp::parse_frame(once, version);
    if (!second.ok()) std::fprintf(stderr, "re-parse failed: %s\n%s\n", second.error.message.c_str(), once.c_str());
    FUZZ_CHECK(second.ok());
    FUZZ_CHECK(same(first.frame, second.frame));
    const auto third = ocpp::parse_frame(serialize(second.frame), version);
    FUZZ_CHECK(third.ok() && same(second.frame, third.frame));
  }
  return 0;
}
