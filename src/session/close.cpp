// Closing the session: close() from any thread, the transport's end, and the final close.
#include <boost/asio/dispatch.hpp>

#include "complete.hpp"
#include "timers.hpp"

namespace ocpp {
namespace asio = boost::asio;

void RpcSession::close(CloseOptions options) {
  close(std::move(options), [](CloseResult) {});
}

void RpcSession::start_close(CloseOptions options, CloseHandler handler) {
  asio::dispatch(executor_, [self = shared_from_this(), options = std::move(options),
                             wrapped = detail::MoveOnly(std::move(handler))]() mutable {
    auto& engine = self->engine_;
    if (engine.state() == ConnectionState::closed && !engine.close_requested()) {
      detail::complete_later(engine.hooks().gate, self->executor_, std::move(wrapped.h),
                             engine.last_close().value_or(CloseResult{}));
      return;
    }
    // Registered first: a forced close may end the connection before engine.close() returns.
    self->close_waiters_.push_back(std::move(wrapped.h));
    if (!engine.close_requested()) {
      self->close_guard_ = std::make_unique<CloseGuard>(self->executor_);
      self->close_guard_->timer.expires_at(asio::steady_timer::time_point::max());
      self->close_guard_->timer.async_wait([keep = self](boost::system::error_code) {});
    }
    switch (engine.close(std::move(options))) {
      case CloseStart::not_open: return self->on_close_while_not_open();
      case CloseStart::started: return self->stop_pings();
      case CloseStart::already_closed:
      case CloseStart::joined: return;
    }
  });
}

void RpcSession::on_close_while_not_open() { finish_close({close_code::going_away, "Connection aborted"}); }

void RpcSession::finish_close(const CloseResult& result) {
  engine_.finish(result);
  stop_pings();
  if (close_guard_) close_guard_->timer.cancel();
  auto waiters = std::move(close_waiters_);
  close_waiters_.clear();
  for (auto& w : waiters) detail::complete_later(engine_.hooks().gate, executor_, std::move(w), result);
  if (auto finished = engine_.hooks().finished) finished(result);
  emit("on_close", events().close, result);
}

void RpcSession::on_unexpected_close(const CloseResult& result) { finish_close(result); }

void RpcSession::on_closed(std::uint16_t code, std::string_view reason) {
  auto keep = shared_from_this();  // a close event may release the last outside reference
  transport_.reset();
  stop_pings();
  CloseResult result{code, std::string(reason)};
  if (engine_.on_transport_closed(code, reason))
    finish_close(result);
  else
    on_unexpected_close(result);
}

}  // namespace ocpp
