// What the page's budget measures: the engine's parse of one frame plus strict mode's check of its
// payload, repeated inside the wasm so that the figure is the engine's own cost, not the copy of
// the text from JavaScript.
#include <emscripten/emscripten.h>

#include <string_view>

#include "ocpp/engine/validation.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/protocol.hpp"

extern "C" {

// Milliseconds for `iterations` parses and validations of the CALL `frame` under `protocol`, or -1
// when the frame does not parse or its payload fails the schema.
EMSCRIPTEN_KEEPALIVE double ocpp_web_bench_parse_validate(const char* protocol, std::size_t protocol_size,
                                                          const char* frame, std::size_t frame_size, int iterations) {
  using namespace ocpp;
  const std::string_view text(frame, frame_size);
  const auto version = protocol_version({protocol, protocol_size});
  const double start = emscripten_get_now();
  for (int i = 0; i < iterations; ++i) {
    auto parsed = parse_frame(text, version);
    if (!parsed.ok()) return -1;
    const ActionInfo* info = strict_action(version, parsed.frame.action);
    if (!info || !info->validate_request(parsed.frame.payload, {}, nullptr)) return -1;
  }
  return emscripten_get_now() - start;
}
}
