#include "ocpp/transport/io_pool.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace ocpp {
namespace asio = boost::asio;

struct IoPool::Guards {
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
};

IoPool::IoPool(std::size_t threads) : guards_(std::make_unique<Guards>()) {
  if (threads == 0) threads = 1;
  for (std::size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_->guards.push_back(asio::make_work_guard(*contexts_.back()));
  }
}

IoPool::~IoPool() {
  stop();
  join();
}

std::vector<asio::any_io_executor> IoPool::executors() const {
  std::vector<asio::any_io_executor> out;
  for (const auto& c : contexts_) out.push_back(c->get_executor());
  return out;
}

asio::any_io_executor IoPool::executor(std::size_t i) const { return contexts_.at(i)->get_executor(); }

void IoPool::start() {
  if (!threads_.empty()) return;
  for (auto& c : contexts_) threads_.emplace_back([ctx = c.get()] { ctx->run(); });
}

void IoPool::stop() {
  guards_->guards.clear();
  for (auto& c : contexts_) c->stop();
}

void IoPool::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace ocpp
