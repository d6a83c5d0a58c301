#pragma once
/// @file
/// N threads, each running its own io_context: the concurrency model of the library (a connection
/// lives on one context and needs no locks). The server spreads connections across them.
#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace boost::asio {
class io_context;
}

namespace ocpp {

/// A pool of io_contexts, each run by its own thread: the executors a multi-threaded Server spreads connections over.
class IoPool {
 public:
  /// `threads` io_contexts; start() runs them.
  explicit IoPool(std::size_t threads = 1);
  ~IoPool();  ///< stops and joins
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  /// One executor per io_context.
  std::vector<boost::asio::any_io_executor> executors() const;
  /// The executor of io_context `i`.
  boost::asio::any_io_executor executor(std::size_t i = 0) const;
  /// The number of io_contexts.
  std::size_t size() const noexcept { return contexts_.size(); }

  void start();  ///< one thread per context; they run until stop()
  /// Stops the io_contexts.
  void stop();
  /// Waits for the threads to end.
  void join();

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::thread> threads_;
  struct Guards;
  std::unique_ptr<Guards> guards_;
};

}  // namespace ocpp
OCPP_API_END
