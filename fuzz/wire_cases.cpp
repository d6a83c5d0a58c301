// The wire fuzzer's generators (fuzz/generators), the ones `ocpp fuzz` sends, under libFuzzer: the
// input picks a seed, a connection and a protocol. Every generated case must say what it is: a
// case that carries a CALL sends exactly that CALL, whole or in fragments; a "valid" CALL passes
// its schema and parses as an OCPP-J frame. The input's tail, as bytes from a server, goes through
// the tool's frame reader and its trace, which must not crash on anything.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include <boost/json/parse.hpp>

#include "check.hpp"
#include "generators/wire_cases.hpp"
#include "generators/ws_frame.hpp"
#include "ocpp/messages/find_action.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/protocol.hpp"

namespace {
using namespace ocpp::fuzzgen;

const ocpp::ActionInfo* find(ocpp::ProtocolVersion v, std::string_view action) {
  if (v == ocpp::ProtocolVersion::v16) return ocpp::v16::find_action(action);
  if (v == ocpp::ProtocolVersion::v201) return ocpp::v201::find_action(action);
  return ocpp::v21::find_action(action);
}

// The text messages a client's bytes carry, reassembled from their fragments.
std::vector<std::string> text_messages(const std::string& bytes) {
  FrameReader reader;
  reader.feed(bytes);
  std::vector<std::string> out;
  std::string message;
  while (auto f = reader.next()) {
    FUZZ_CHECK(f->masked);
    if (f->opcode == kText || f->opcode == kContinuation) {
      message += f->payload;
      if (f->fin) out.push_back(std::exchange(message, {}));
    }
  }
  return out;
}

void check_case(const Case& c, ocpp::ProtocolVersion version) {
  std::string bytes;
  for (const auto& w : c.writes) bytes += w;
  FUZZ_CHECK(!bytes.empty());
  (void)describe(bytes);
  if (c.kind != "valid" && c.kind != "valid_fragmented" && c.kind != "invalid_payload") return;
  FUZZ_CHECK(c.expect.answer && !c.last);
  const auto messages = text_messages(bytes);
  FUZZ_CHECK(messages.size() == 1 && messages[0] == call_text(c.id, c.call));
  const auto parsed = ocpp::parse_frame(messages[0], version);
  FUZZ_CHECK(parsed.ok() && parsed.frame.type == ocpp::MessageType::Call && parsed.frame.id == c.id &&
             parsed.frame.action == c.call.action);
  const auto* action = find(version, c.call.action);
  FUZZ_CHECK(action != nullptr);
  if (c.kind != "invalid_payload")
    FUZZ_CHECK(!ocpp::schema::validate(action->validate_request, boost::json::parse(c.call.payload)).has_value());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 10) return 0;
  std::uint64_t seed = 0;
  std::memcpy(&seed, data, sizeof seed);
  static constexpr const char* kProtocols[] = {"ocpp1.6", "ocpp2.0.1", "ocpp2.1"};
  const char* protocol = kProtocols[data[8] % 3];
  for (const auto& c : connection_plan(seed, data[9], protocol)) check_case(c, ocpp::protocol_version(protocol));

  const std::string_view server(reinterpret_cast<const char*>(data) + 10, size - 10);
  (void)describe(server);
  FrameReader reader;
  reader.feed(server);
  try {
    while (reader.next(1u << 16)) {
    }
  } catch (const std::length_error&) {
    // A header that claims more than the limit: refused, not buffered.
  }
  return 0;
}
