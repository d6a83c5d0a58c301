// Closing: asked for (at once, or after draining what is in flight for at most drain_timeout), or
// the transport just went.
#include "state.hpp"

namespace ocpp {

CloseStart RpcEngine::close(CloseOptions options) {
  auto& s = *s_;
  if (s.state == ConnectionState::closed && !s.closing_requested) return CloseStart::already_closed;
  if (s.closing_requested) {
    // A later force still tears the connection down; its code does not replace the first one.
    if (options.force && s.attached) {
      s.close_sent = true;
      s.host.terminate_transport();
    }
    return CloseStart::joined;
  }
  s.closing_requested = true;
  if (!is_sendable_close_code(options.code)) options.code = close_code::normal;
  s.close_options = options;
  if (s.state != ConnectionState::open) return CloseStart::not_open;
  s.state = ConnectionState::closing;
  if (options.force) {
    s.close_sent = true;  // before: the transport may end inside terminate_transport()
    s.host.terminate_transport();
  } else if (options.await_pending) {
    s.drain_before_close = true;
    s.drain_deadline = s.now() + s.options.drain_timeout.value_or(s.options.close_timeout);
    s.maybe_finish_drain();
    if (s.drain_before_close) s.host.schedule(s.drain_deadline);
  } else {
    s.close_now("Connection closing");
  }
  return CloseStart::started;
}

void RpcEngine::State::maybe_finish_drain() {
  if (!drain_before_close || !pending.empty() || !in_chain.empty() || !queue.empty() || !inbound.empty()) return;
  drain_before_close = false;
  drain_deadline.reset();
  host.schedule(std::nullopt);  // nothing is pending: the drain's wake-up is not needed any more
  close_transport();
}

void RpcEngine::State::expire_drain() {
  drain_before_close = false;
  drain_deadline.reset();
  const auto limit = std::to_string(options.drain_timeout.value_or(options.close_timeout).count()) + " ms";
  log(LogLevel::warn, "close: gave up waiting after " + limit + " for " + std::to_string(pending.size()) +
                          " sent and " + std::to_string(queue.size() + in_chain.size()) + " unsent calls and " +
                          std::to_string(inbound.size()) + " running handlers");
  // The peer may still answer before it sees our close frame: not its fault.
  for (const auto& entry : pending) abandon(entry.first);
  close_now("Connection closing: in flight for longer than the drain's " + limit);
}

void RpcEngine::State::close_now(const std::string& why) {
  fail_queued(why);
  fail_pending(why);
  cancel_inbound();
  close_transport();
}

void RpcEngine::State::close_transport() {
  close_sent = true;
  if (attached) host.close_transport(close_options.code, close_options.reason);
}

bool RpcEngine::on_transport_closed(std::uint16_t code, std::string_view reason) {
  auto& s = *s_;
  s.attached = false;
  s.drain_before_close = false;
  s.drain_deadline.reset();
  std::string why = "Connection closed (" + std::to_string(code) + (reason.empty() ? "" : ": ") +
                    std::string(reason) + ")";
  s.fail_pending(why, code);
  s.cancel_inbound();
  s.clear_lanes();
  s.log_suppressed_bad_messages();
  return s.closing_requested;
}

void RpcEngine::finish(const CloseResult& result) {
  auto& s = *s_;
  s.state = ConnectionState::closed;
  s.fail_queued("Connection closed");
  s.last_close = result;
  s.closing_requested = false;
  s.drain_before_close = false;
  s.drain_deadline.reset();
}

}  // namespace ocpp
