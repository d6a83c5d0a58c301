#pragma once
// Internal: the connection machinery behind Connection and Subscriber (core.cpp): connect,
// TLS, handshake, pipelined writes, the reply reader, deadlines, reconnects. This header stays
// light (no Asio I/O objects, no hiredis) so that the TUs including it compile quickly.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ocpp/redis/connection.hpp"

namespace ocpp::redis {

struct CoreHooks {
  std::function<void()> connected;
  std::function<void(const Error&)> disconnected;
  // Subscriber: more commands for the handshake (encoded), after AUTH, SELECT and CLIENT SETNAME;
  // each must draw exactly one reply.
  std::function<std::vector<std::string>()> handshake;
  // Subscriber: takes a reply that is a pushed message (true) rather than a command's reply.
  std::function<bool(const Reply&)> push;
};

class Core {
 public:
  virtual ~Core() = default;

  // Any thread; the work is dispatched to the executor.
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual void command(std::string encoded, std::chrono::milliseconds timeout, Completion done) = 0;

  virtual bool connected() const noexcept = 0;
  virtual Stats stats() const = 0;
  virtual const boost::asio::any_io_executor& executor() const noexcept = 0;
  virtual const ConnectionOptions& options() const noexcept = 0;
  // Runs `fn` on the executor (inline when already there), keeping the core alive meanwhile.
  virtual void run(std::function<void()> fn) = 0;

  CoreHooks hooks;  // set before start()
};

// Throws UrlError for a bad options.url, and for a cluster URL unless `any_node`: then each connect
// goes to the next of its nodes (for pub/sub, which reaches every node of a cluster).
std::shared_ptr<Core> make_core(boost::asio::any_io_executor executor, ConnectionOptions options, bool any_node = false);

}  // namespace ocpp::redis
