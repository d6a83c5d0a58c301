#include "generators/wire_cases.hpp"

#include <stdexcept>

#include "generators/ws_frame.hpp"

namespace ocpp::fuzzgen {
namespace {

const std::vector<std::string_view> kKinds = {
    "valid",    "valid_fragmented", "invalid_payload", "broken_json",   "ping",      "unsolicited_pong",
    "over_limit", "bad_utf8",       "fragment_misuse", "bad_control",   "huge_length", "rsv",
    "unmasked", "reserved_opcode",  "garbage",         "close",         "truncated"};
// Cases that keep the connection usable come first and are drawn more often, so that most
// connections carry several cases before one ends them.
constexpr std::size_t kKeeping = 7;

std::string frame(Rng& rng, std::uint8_t opcode, std::string payload, bool fin = true) {
  WsFrame f;
  f.opcode = opcode;
  f.payload = std::move(payload);
  f.fin = fin;
  return encode(f, rng);
}

Expect must_close(std::vector<std::uint16_t> codes) {
  Expect e;
  e.close_codes = std::move(codes);
  return e;
}

}  // namespace

const std::vector<std::string_view>& case_kinds() { return kKinds; }

Case valid_case(Rng& rng, std::string id, Call call) {
  Case c;
  c.kind = "valid";
  c.id = std::move(id);
  c.call = std::move(call);
  c.writes = {frame(rng, kText, call_text(c.id, c.call))};
  c.expect.answer = true;
  return c;
}

Case make_case(Rng& rng, std::string_view protocol, std::string id, std::string_view kind) {
  Case c;
  c.kind = kind.empty() ? std::string(rng.chance(75) ? kKinds[rng.below(kKeeping)] : rng.pick(kKinds)) : std::string(kind);
  c.id = std::move(id);
  c.call = valid_call(rng, protocol);
  const std::string call = call_text(c.id, c.call);
  std::string bytes;
  if (c.kind == "valid") {
    bytes = frame(rng, kText, call);
    c.expect.answer = true;
  } else if (c.kind == "valid_fragmented") {
    const std::size_t a = rng.between(1, call.size() - 2), b = rng.between(a + 1, call.size() - 1);
    bytes = frame(rng, kText, call.substr(0, a), false) + frame(rng, kPing, "p") +
            frame(rng, kContinuation, call.substr(a, b - a), false) + frame(rng, kContinuation, call.substr(b));
    c.expect.answer = true;
  } else if (c.kind == "invalid_payload") {
    c.call = invalid_call(rng, c.call);
    c.invalid_payload = true;
    bytes = frame(rng, kText, call_text(c.id, c.call));
    c.expect.answer = true;
  } else if (c.kind == "broken_json") {
    bytes = frame(rng, kText, broken_text(rng, call));
    c.expect.any_text = true;
    c.expect.silence_ok = true;
  } else if (c.kind == "ping") {
    c.expect.pong = true;
    c.expect.pong_payload = rng.bytes(rng.below(126));
    bytes = frame(rng, kPing, c.expect.pong_payload);
  } else if (c.kind == "unsolicited_pong") {
    bytes = frame(rng, kPong, "unsolicited");
    c.expect.silence_ok = true;
  } else if (c.kind == "over_limit") {
    // Beyond a 64 KiB message limit, within a larger one (then a schema would refuse the vendorId).
    c.call = {"DataTransfer", "{\"vendorId\":\"" + std::string(70000, 'a') + "\"}"};
    c.invalid_payload = true;
    bytes = frame(rng, kText, call_text(c.id, c.call));
    c.expect = must_close({1009});
    c.expect.answer = true;
  } else if (c.kind == "bad_utf8") {
    static constexpr std::string_view kBad[] = {"\xff", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"};
    bytes = frame(rng, kText, "[2,\"" + c.id + "\",\"Heartbeat\",{\"a\":\"" + std::string(rng.pick(kBad)) + "\"}]");
    c.expect = must_close({1007});
  } else if (c.kind == "fragment_misuse") {
    switch (rng.below(4)) {
      case 0: bytes = frame(rng, kContinuation, "orphan continuation"); break;
      case 1: bytes = frame(rng, kText, "[2,", false) + frame(rng, kText, "again"); break;
      case 2: bytes = frame(rng, kText, "[2,", false) + frame(rng, kBinary, "binary mid-message"); break;
      default:
        // Fifty empty fragments, then a continuation that is not final and a new text frame.
        for (int i = 0; i < 50; ++i) bytes += frame(rng, i ? kContinuation : kText, "", false);
        bytes += frame(rng, kText, "[]");
    }
    c.expect = must_close({1002});
  } else if (c.kind == "bad_control") {
    switch (rng.below(4)) {
      case 0: bytes = frame(rng, kPing, std::string(126, 'x')); break;
      case 1: bytes = frame(rng, kPing, "x", false); break;
      case 2: bytes = frame(rng, kClose, "\x03"); break;
      default: bytes = frame(rng, kPong, std::string(200, 'y'));
    }
    c.expect = must_close({1002});
  } else if (c.kind == "huge_length") {
    static constexpr std::uint64_t kLengths[] = {(1ULL << 63) - 1, 1ULL << 40, 1ULL << 32};
    WsFrame f;
    f.payload = "[2,";
    f.length = rng.pick(kLengths);
    bytes = encode(f, rng);
    // A server without a message limit may wait for the rest.
    c.expect = must_close({1009, 1002});
    c.expect.silence_ok = true;
  } else if (c.kind == "rsv") {
    // RSV bits without an extension that defines them (the fuzzer never offers permessage-deflate).
    WsFrame f;
    f.payload = call;
    f.rsv = static_cast<std::uint8_t>(rng.between(1, 7));
    bytes = encode(f, rng);
    c.expect = must_close({1002});
  } else if (c.kind == "unmasked") {
    WsFrame f;
    f.payload = call;
    f.masked = false;
    bytes = encode(f, rng);
    c.expect = must_close({1002});
  } else if (c.kind == "reserved_opcode") {
    static constexpr std::uint8_t kReserved[] = {3, 4, 5, 6, 7, 11, 12, 13, 14, 15};
    bytes = frame(rng, rng.pick(kReserved), "reserved");
    c.expect = must_close({1002});
  } else if (c.kind == "garbage") {
    // Random bytes may still spell a valid frame (a close, a ping), so any close or silence is fine.
    bytes = rng.bytes(rng.between(1, 2048));
    c.expect.any_close_code = true;
    c.expect.silence_ok = true;
  } else if (c.kind == "close") {
    static constexpr std::uint16_t kValid[] = {1000, 1001, 1003, 1011, 1012, 3000, 4000};
    // 5000 and above: RFC 6455 leaves them undefined, and servers differ (Autobahn calls it informational).
    static constexpr std::uint16_t kInvalid[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999};
    switch (rng.below(3)) {
      case 0:
        bytes = frame(rng, kClose, close_payload(rng.pick(kValid), "bye"));
        c.expect.any_close_code = true;  // usually the code echoed
        break;
      case 1:
        bytes = frame(rng, kClose, close_payload(rng.pick(kInvalid), "bye"));
        c.expect = must_close({1002});
        break;
      default:
        bytes = frame(rng, kClose, close_payload(1000, "\xff\xfe"));
        c.expect = must_close({1007, 1002});
    }
  } else if (c.kind == "truncated") {
    bytes = frame(rng, kText, call).substr(0, rng.between(1, 6));
    c.expect.silence_ok = true;
  } else {
    throw std::invalid_argument("no fuzz case kind " + c.kind);
  }
  c.last = !c.expect.answer && !c.expect.pong && c.expect.close_allowed();
  c.last = c.last || c.kind == "truncated" || c.kind == "huge_length";
  if (bytes.size() > 4 && rng.chance(20)) {
    const std::size_t cut = rng.between(1, bytes.size() - 1);
    c.writes = {bytes.substr(0, cut), bytes.substr(cut)};
  } else {
    c.writes = {std::move(bytes)};
  }
  return c;
}

std::vector<Case> connection_plan(std::uint64_t seed, std::uint64_t connection, std::string_view protocol) {
  Rng rng(seed, connection);
  std::vector<Case> plan;
  for (std::size_t k = 0, n = rng.between(1, 8); k < n; ++k) {
    plan.push_back(make_case(rng, protocol, "c" + std::to_string(connection) + "-" + std::to_string(k)));
    if (plan.back().last) break;
  }
  return plan;
}

}  // namespace ocpp::fuzzgen
