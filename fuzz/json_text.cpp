// The browser build's JSON reader and writer (ocpp/rpc/json_text.hpp) against Boost.JSON's parser and
// serializer, which the native build uses: for any text, the same message when Boost refuses it,
// else the same value (kinds and double bits); the written text is Boost's.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include "check.hpp"
#include "ocpp/rpc/json_text.hpp"
#include "support/identical_json.hpp"

namespace json = boost::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Boost's \u fast path is decided within a 4 KB window of an escaped string, ours on the whole
  // text: beyond it only the message for a malformed escape may differ (json_text.hpp), so the
  // messages are compared on texts shorter than the window.
  const bool compare_messages = size < 4000;
  for (const std::size_t depth : {std::size_t{32}, std::size_t{3}}) {
    const auto ours = ocpp::read_json(text, depth);
    json::parse_options opt;
    opt.max_depth = depth;
    json::parser p(json::storage_ptr(), opt);
    boost::system::error_code ec;
    p.write(text.data(), text.size(), ec);
    FUZZ_CHECK(ours.ok() == !ec);
    if (ec) {
      if (compare_messages) FUZZ_CHECK(ours.error == ec.message());
      continue;
    }
    const json::value theirs = p.release();
    FUZZ_CHECK(identical_json(ours.value, theirs));
    std::string written;
    ocpp::write_json(written, ours.value);
    FUZZ_CHECK(written == json::serialize(theirs));
  }
  return 0;
}
