#pragma once
// The middleware and auth chain of one upgrade. The upgrade derives from it and does the IO of each
// outcome; contexts hold it and deliver their decisions from any thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ocpp/server/connection.hpp"
#include "ocpp/server/server.hpp"
#include "server/observability.hpp"

namespace ocpp::detail {

struct ChainSteps {
  std::vector<ConnectionMiddleware> middleware;  // the server's, then the route's
  AuthCallback auth;                             // the route's, else the server's
  bool empty() const noexcept { return middleware.empty() && !auth; }
};
ChainSteps chain_steps(const std::vector<ConnectionMiddleware>& server_middleware, const AuthCallback& server_auth,
                       const Route* route);

class UpgradeChain : public std::enable_shared_from_this<UpgradeChain> {
 public:
  UpgradeChain(const UpgradeChain&) = delete;
  UpgradeChain& operator=(const UpgradeChain&) = delete;
  virtual ~UpgradeChain() = default;

  // A context's decision. Always deferred, so a middleware's own stack unwinds first; ignored once
  // the chain has ended or moved past `step`.
  void next(std::size_t step, boost::json::object state);
  void reject(std::size_t step, unsigned status, std::string message);
  void accept(std::size_t step, AcceptOptions options);

  // What UpgradeContext::aborted() and cancellation_slot() report.
  std::atomic<bool> aborted{false};
  boost::asio::cancellation_signal abort_signal;

 protected:
  explicit UpgradeChain(std::shared_ptr<const Observability> observability)
      : observability_(std::move(observability)) {}

  // Step i < middleware count runs middleware i; the step after the last runs the auth callback, or
  // accepts when there is none. `handshake` is what every context sees.
  void run_chain(ChainSteps steps, std::shared_ptr<const HandshakeInfo> handshake);
  bool chain_pending() const noexcept { return running_ && !done_; }
  // The socket was lost or handshake_timeout passed while a step was pending: decisions are ignored
  // from now on and the callback learns it through abort_signal.
  void abort(std::string reason);
  // The server is closing: like abort(), without telling anyone (the callbacks may be gone).
  void cancel();

 private:
  // The upgrade's IO, on its executor. At most one of answer() and upgrade() runs per chain.
  virtual boost::asio::any_io_executor chain_executor() = 0;
  virtual void stop_watching() = 0;  // the chain has ended: stop watching the socket for a hang-up
  virtual void answer(unsigned status, std::string_view message) = 0;
  virtual void upgrade(AcceptOptions options, boost::json::object state) = 0;
  virtual void drop() = 0;  // after abort(): close the socket without an answer

  template <class F>
  void post(std::size_t step, F f);
  void run_step(std::size_t step);
  void fail_chain(std::string what);
  void end_chain();

  std::shared_ptr<const Observability> observability_;
  ChainSteps steps_;
  std::shared_ptr<const HandshakeInfo> handshake_;
  boost::json::object state_;
  std::size_t step_ = 0;
  bool running_ = false;
  bool done_ = false;
};

}  // namespace ocpp::detail
