#pragma once
// Internal: the session's timers, made when first needed so an idle connection carries none.
#include <boost/asio/steady_timer.hpp>

#include <optional>
#include <random>

#include "ocpp/session/session.hpp"

namespace ocpp {

// One timer per session for every call deadline the engine asks for.
struct RpcSession::DeadlineTimer {
  explicit DeadlineTimer(const boost::asio::any_io_executor& ex) : timer(ex) {}
  boost::asio::steady_timer timer;
  std::optional<TimePoint> armed;
};

struct RpcSession::PingState {
  explicit PingState(const boost::asio::any_io_executor& ex) : timer(ex) {}
  boost::asio::steady_timer timer;
  bool awaiting_pong = false;
  std::minstd_rand rng{std::random_device{}()};
};

// A wait that never expires and holds the session: a closing session outlives whoever asked for the
// close, yet an io_context destroyed mid-close still frees it (it destroys pending waits).
struct RpcSession::CloseGuard {
  explicit CloseGuard(const boost::asio::any_io_executor& ex) : timer(ex) {}
  boost::asio::steady_timer timer;
};

}  // namespace ocpp
