// Closing: asked for (at once, or after draining what is in flight), or the transport just went.
#include "state.hpp"

namespace ocpp {

CloseStart RpcEngine::close(CloseOptions options) {
  auto& s = *s_;
  if (s.state == ConnectionState::closed && !s.closing_requested) return CloseStart::already_closed;
  if (s.closing_requested) {
    // A later force still tears the connection down; its code does not replace the first one.
    if (options.force && s.attached) s.host.terminate_transport();
    return CloseStart::joined;
  }
  s.closing_requested = true;
  if (!is_sendable_close_code(options.code)) options.code = close_code::normal;
  s.close_options = options;
  if (s.state != ConnectionState::open) return CloseStart::not_open;
  s.state = ConnectionState::closing;
  if (options.force) {
    s.host.terminate_transport();
  } else if (options.await_pending) {
    s.drain_before_close = true;
    s.maybe_finish_drain();
  } else {
    s.fail_queued("Connection closing");
    s.fail_pending("Connection closing");
    s.cancel_inbound();
    s.host.close_transport(options.code, options.reason);
  }
  return CloseStart::started;
}

void RpcEngine::State::maybe_finish_drain() {
  if (!drain_before_close || !pending.empty() || !in_chain.empty() || !queue.empty() || !inbound.empty()) return;
  drain_before_close = false;
  if (attached) host.close_transport(close_options.code, close_options.reason);
}

bool RpcEngine::on_transport_closed(std::uint16_t code, std::string_view reason) {
  auto& s = *s_;
  s.attached = false;
  std::string why = "Connection closed (" + std::to_string(code) + (reason.empty() ? "" : ": ") +
                    std::string(reason) + ")";
  s.fail_pending(why, code);
  s.cancel_inbound();
  s.clear_lanes();
  return s.closing_requested;
}

void RpcEngine::finish(const CloseResult& result) {
  auto& s = *s_;
  s.state = ConnectionState::closed;
  s.fail_queued("Connection closed");
  s.last_close = result;
  s.closing_requested = false;
  s.drain_before_close = false;
}

}  // namespace ocpp
