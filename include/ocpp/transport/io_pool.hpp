#pragma once
// N threads, each running its own io_context: the concurrency model of the library (a connection
// lives on one context and needs no locks). The server spreads connections across them.
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

class IoPool {
 public:
  explicit IoPool(std::size_t threads = 1);
  ~IoPool();  // stops and joins
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  std::vector<boost::asio::any_io_executor> executors() const;
  boost::asio::any_io_executor executor(std::size_t i = 0) const;
  std::size_t size() const noexcept { return contexts_.size(); }

  void start();  // one thread per context; they run until stop()
  void stop();
  void join();

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::thread> threads_;
  struct Guards;
  std::unique_ptr<Guards> guards_;
};

}  // namespace ocpp
OCPP_API_END
