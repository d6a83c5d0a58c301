#pragma once
// Loopback fixtures shared by the session tests: deterministic and single-threaded.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include "ocpp/session/session.hpp"
#include "ocpp/transport/loopback.hpp"

namespace ocpp_test {
using namespace ocpp;
namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;


class TestPeer : public RpcSession {
 public:
  static std::shared_ptr<TestPeer> make(asio::any_io_executor ex, SessionOptions o = {}) {
    o.ping_interval = milliseconds(0);
    if (!o.logger) o.logger = null_logger();
    return std::shared_ptr<TestPeer>(new TestPeer(std::move(ex), std::move(o)));
  }
  void open(std::shared_ptr<Transport> t, std::string protocol) { attach(std::move(t), std::move(protocol)); }
  using RpcSession::set_role;

 private:
  TestPeer(asio::any_io_executor ex, SessionOptions o) : RpcSession(std::move(ex), std::move(o), "CP1") {}
};

// The far end driven by hand: records what the session sends.
struct RawEnd final : TransportSink {
  std::vector<std::string> frames;
  std::optional<std::uint16_t> closed_code;
  void on_frame(std::string_view text) override { frames.emplace_back(text); }
  void on_pong() override {}
  void on_closed(std::uint16_t code, std::string_view) override { closed_code = code; }
  json::array frame(std::size_t i) const { return json::parse(frames.at(i)).as_array(); }
};

struct CallOutcome {
  bool done = false;
  std::exception_ptr error;
  json::value result;
  auto handler() {
    return [this](std::exception_ptr e, json::value v) {
      done = true;
      error = e;
      result = std::move(v);
    };
  }
  template <class E>
  bool failed_with() const {
    if (!error) return false;
    try {
      std::rethrow_exception(error);
    } catch (const E&) {
      return true;
    } catch (...) {
    }
    return false;
  }
  RpcError rpc_error() const {
    try {
      std::rethrow_exception(error);
    } catch (const RpcError& e) {
      return e;
    }
  }
};

class SessionTest : public ::testing::Test {
 protected:
  template <class Pred>
  bool run_until(Pred pred, milliseconds limit = milliseconds(2000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(milliseconds(5));
    }
    return pred();
  }

  // Two sessions talking to each other.
  std::pair<std::shared_ptr<TestPeer>, std::shared_ptr<TestPeer>> pair(std::string protocol = "ocpp2.0.1",
                                                                       SessionOptions a_opts = {},
                                                                       SessionOptions b_opts = {}) {
    auto lp = make_loopback_pair(io.get_executor());
    auto a = TestPeer::make(io.get_executor(), a_opts);
    auto b = TestPeer::make(io.get_executor(), b_opts);
    a->open(lp.a, protocol);
    b->open(lp.b, protocol);
    return {a, b};
  }

  // A session and a raw end.
  std::shared_ptr<TestPeer> with_raw(std::string protocol = "ocpp2.0.1", SessionOptions opts = {}) {
    auto lp = make_loopback_pair(io.get_executor());
    auto a = TestPeer::make(io.get_executor(), opts);
    raw = std::make_shared<RawEnd>();
    raw_transport = lp.b;
    lp.b->start(raw);
    a->open(lp.a, protocol);
    return a;
  }
  void send_raw(std::string text) { raw_transport->send(std::move(text)); }

  asio::io_context io;
  std::shared_ptr<RawEnd> raw;
  std::shared_ptr<Transport> raw_transport;
};

}  // namespace ocpp_test
