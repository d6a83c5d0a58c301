#pragma once
// Internal: CompressionOptions as Beast's permessage_deflate option, for either side, and what
// the answer agreed.
#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/option.hpp>

#include "ocpp/transport/compression.hpp"

namespace ocpp::detail {

inline boost::beast::websocket::permessage_deflate deflate_option(const CompressionOptions& o, bool server) {
  boost::beast::websocket::permessage_deflate pmd;
  pmd.server_enable = server && o.enabled;
  pmd.client_enable = !server && o.enabled;
  pmd.server_max_window_bits = o.window_bits;
  pmd.client_max_window_bits = o.window_bits;
  pmd.server_no_context_takeover = o.no_context_takeover;
  pmd.client_no_context_takeover = o.no_context_takeover;
  pmd.compLevel = o.level;
  pmd.memLevel = o.mem_level;
  pmd.msg_size_threshold = o.threshold;
  return pmd;
}

// Whether a handshake answer's Sec-WebSocket-Extensions value agrees to permessage-deflate.
inline bool deflate_agreed(boost::beast::string_view extensions) {
  return extensions.find("permessage-deflate") != boost::beast::string_view::npos;
}

}  // namespace ocpp::detail
