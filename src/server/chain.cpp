#include "server/chain.hpp"

#include <boost/asio/post.hpp>

namespace ocpp::detail {

ChainSteps chain_steps(const std::vector<ConnectionMiddleware>& server_middleware, const AuthCallback& server_auth,
                       const Route* route) {
  ChainSteps steps{server_middleware, route && route->auth_callback() ? route->auth_callback() : server_auth};
  if (route) steps.middleware.insert(steps.middleware.end(), route->middleware().begin(), route->middleware().end());
  return steps;
}

template <class F>
void UpgradeChain::post(std::size_t step, F f) {
  boost::asio::post(chain_executor(), [self = shared_from_this(), f = std::move(f), step]() mutable {
    if (self->done_ || step != self->step_) return;
    f(*self);
  });
}

void UpgradeChain::next(std::size_t step, boost::json::object state) {
  post(step, [step, state = std::move(state)](UpgradeChain& c) mutable {
    c.state_ = std::move(state);
    c.run_step(step + 1);
  });
}

void UpgradeChain::reject(std::size_t step, unsigned status, std::string message) {
  post(step, [status, message = std::move(message)](UpgradeChain& c) {
    c.observability_->security_event(SecurityEventType::auth_failed, c.handshake_->identity,
                                     c.handshake_->remote_address, std::to_string(status) + " " + message);
    c.end_chain();
    c.answer(status, message);
  });
}

void UpgradeChain::accept(std::size_t step, AcceptOptions options) {
  post(step, [options = std::move(options)](UpgradeChain& c) mutable {
    c.end_chain();
    c.upgrade(std::move(options), std::move(c.state_));
  });
}

void UpgradeChain::run_chain(ChainSteps steps, std::shared_ptr<const HandshakeInfo> handshake) {
  steps_ = std::move(steps);
  handshake_ = std::move(handshake);
  running_ = true;
  run_step(0);
}

void UpgradeChain::run_step(std::size_t step) {
  step_ = step;
  const auto self = shared_from_this();
  CallbackGate::Scope scope(observability_->gate());
  if (!scope) return cancel();
  try {
    if (step < steps_.middleware.size()) {
      steps_.middleware[step](std::make_shared<ConnectionContext>(self, step, handshake_, state_));
    } else if (steps_.auth) {
      steps_.auth(std::make_shared<AuthContext>(self, step, handshake_, state_));
    } else {
      end_chain();
      upgrade({}, std::move(state_));
    }
  } catch (const std::exception& e) {
    fail_chain(e.what());
  } catch (...) {
    fail_chain("a non-exception was thrown");
  }
}

void UpgradeChain::fail_chain(std::string what) {
  if (done_) return;
  observability_->upgrade_error(handshake_->identity, handshake_->remote_address, std::move(what));
  end_chain();
  answer(500, "Internal Server Error");
}

void UpgradeChain::end_chain() {
  done_ = true;
  stop_watching();
}

void UpgradeChain::abort(std::string reason) {
  if (done_) return;
  end_chain();
  aborted = true;
  if (CallbackGate::Scope scope(observability_->gate()); scope) abort_signal.emit(boost::asio::cancellation_type::terminal);
  drop();
  observability_->upgrade_aborted(handshake_->identity, handshake_->remote_address, std::move(reason));
}

void UpgradeChain::cancel() {
  if (done_) return;
  end_chain();
  aborted = true;
  drop();
}

}  // namespace ocpp::detail
