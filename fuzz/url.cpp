// The client's URL parser and request target: any text parses or is refused; a parsed URL written
// back out parses to the same URL; and the target the client builds for an identity gives the
// server (parse_request_target) that identity back, whatever its bytes.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "ocpp/client/backoff.hpp"
#include "ocpp/client/url.hpp"
#include "server/handshake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Everything up to the first NUL is the URL, the rest the identity.
  const auto nul = text.find('\0');
  const auto url_text = text.substr(0, nul);
  const std::string_view identity = nul == std::string_view::npos ? "CP1" : text.substr(nul + 1);

  const auto url = ocpp::parse_ws_url(url_text);
  if (!url) return 0;
  FUZZ_CHECK(!url->host.empty() && !url->port.empty() && url->path.starts_with('/'));
  FUZZ_CHECK(url->path.find_first_of("?#") == std::string::npos && url->query.find('#') == std::string::npos);

  // Written back out. A host with ':' or a leading '[' needs brackets, which it cannot have if it
  // holds a ']'.
  const bool bracket = url->host.find(':') != std::string::npos || url->host.front() == '[';
  if (!bracket || url->host.find(']') == std::string::npos) {
    std::string again = std::string(url->secure ? "wss://" : "ws://") + (bracket ? "[" : "") + url->host +
                        (bracket ? "]" : "") + ":" + url->port + url->path + (url->query.empty() ? "" : "?") +
                        url->query;
    const auto reparsed = ocpp::parse_ws_url(again);
    FUZZ_CHECK(reparsed);
    FUZZ_CHECK(reparsed->secure == url->secure && reparsed->host == url->host && reparsed->port == url->port &&
               reparsed->path == url->path && reparsed->query == url->query);
  }

  const auto target = ocpp::build_target(*url, identity, {{std::string(identity), "v&=?#"}});
  const auto seen = ocpp::detail::parse_request_target(target);
  if (!identity.empty()) FUZZ_CHECK(seen.identity == identity);

  (void)ocpp::backoff_delay(static_cast<unsigned>(size), std::chrono::milliseconds(size),
                            std::chrono::milliseconds(1000), static_cast<double>(size % 3) / 2);
  return 0;
}
