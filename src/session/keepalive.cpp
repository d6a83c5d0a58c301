// Keep-alive: jittered WebSocket pings, and dropping a connection whose pong does not come.
#include "timers.hpp"

namespace ocpp {

void RpcSession::start_pings() {
  if (options().ping_interval.count() <= 0) return;
  if (!ping_) ping_ = std::make_unique<PingState>(executor_);
  ping_->awaiting_pong = false;
  schedule_ping();
}

void RpcSession::schedule_ping() {
  const auto base = options().ping_interval.count();
  std::uniform_int_distribution<long long> jitter(base * 3 / 4, base * 5 / 4);
  ping_->timer.expires_after(milliseconds(jitter(ping_->rng)));
  ping_->timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    auto s = weak.lock();
    if (!s || !s->transport_ || !s->ping_) return;
    s->ping_->awaiting_pong = true;
    s->transport_->ping();
    const auto& o = s->options();
    s->ping_->timer.expires_after(o.pong_timeout.value_or(o.ping_interval + milliseconds(5000)));
    s->ping_->timer.async_wait([weak](boost::system::error_code ec) {
      if (ec) return;
      auto s = weak.lock();
      if (!s || !s->transport_ || !s->ping_ || !s->ping_->awaiting_pong) return;
      s->log(LogLevel::warn, "no pong in time; dropping the connection");
      s->emit("on_pong_timeout", s->events().pong_timeout);
      s->transport_->terminate();
    });
  });
}

void RpcSession::on_pong() {
  if (!ping_ || !ping_->awaiting_pong) return;
  ping_->awaiting_pong = false;
  schedule_ping();
}

void RpcSession::stop_pings() {
  if (ping_) {
    ping_->awaiting_pong = false;
    ping_->timer.cancel();
  }
}

}  // namespace ocpp
