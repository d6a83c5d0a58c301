#pragma once
// Real sockets on loopback: a server and clients on one I/O thread, raw HTTP for the gates.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <future>
#include <mutex>
#include <thread>

#include "ocpp/ocpp.hpp"

namespace ocpp_test {
using namespace ocpp;
namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

inline HandlerResult heartbeat(CallContext&) { return json::object{{"currentTime", "2026-01-01T00:00:00Z"}}; }

template <class F>
auto get(F&& future, milliseconds limit = milliseconds(5000)) {
  if (future.wait_for(limit) != std::future_status::ready) throw std::runtime_error("timed out waiting");
  return future.get();
}

// A clock the test moves by hand. Its state is shared with the server: handlers still running on
// the pool after the test body (a closing connection consults the clock) never touch a dead one.
class ManualClock {
 public:
  explicit ManualClock(std::chrono::steady_clock::time_point start) { state_->now = start; }
  Clock clock() const {
    return [state = state_] {
      std::lock_guard lock(state->m);
      return state->now;
    };
  }
  void advance(std::chrono::steady_clock::duration d) {
    std::lock_guard lock(state_->m);
    state_->now += d;
  }

 private:
  struct State {
    std::mutex m;
    std::chrono::steady_clock::time_point now;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

class WireTest : public ::testing::Test {
 protected:
  WireTest() : pool(1) { pool.start(); }
  // Before any fixture member goes (also of derived fixtures): a handler still running after the
  // test body, such as a late security event, may use them.
  void TearDown() override {
    pool.stop();
    pool.join();
  }

  std::unique_ptr<Server> make_server(ServerOptions o = {}) {
    o.logger = null_logger();
    auto s = std::make_unique<Server>(pool.executor(), o);
    return s;
  }
  std::shared_ptr<Client> make_client(std::uint16_t port, std::string identity = "CP001",
                                      std::vector<std::string> protocols = {"ocpp1.6"}, ClientOptions o = {}) {
    o.endpoint = "ws://127.0.0.1:" + std::to_string(port) + "/ocpp";
    o.identity = std::move(identity);
    o.protocols = std::move(protocols);
    if (!o.logger) o.logger = null_logger();
    if (o.backoff_min == milliseconds(1000)) o.reconnect = false;
    return Client::create(pool.executor(), o);
  }
  // Runs `f` on the pool's thread and waits for it (objects used there must outlive it).
  template <class F>
  void on_pool(F f) {
    std::promise<void> done;
    asio::post(pool.executor(), [&] {
      f();
      done.set_value();
    });
    get(done.get_future());
  }
  // One raw HTTP request; returns the status line.
  std::string raw_http(std::uint16_t port, const std::string& request) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(request));
    std::string response;
    boost::system::error_code ec;
    asio::read_until(s, asio::dynamic_buffer(response), "\r\n\r\n", ec);  // the headers are enough
    return response.substr(0, response.find("\r\n"));
  }

  IoPool pool;
};

inline std::string upgrade_request(const std::string& target, const std::string& extra = "") {
  return "GET " + target +
         " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
         extra + "\r\n";
}

}  // namespace ocpp_test
