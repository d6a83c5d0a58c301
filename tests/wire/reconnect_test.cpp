// The client's reconnect policies and the retried first connect, on loopback: the delays are
// read from the reconnect events, with the random part injected.
#include "wire_fixture.hpp"

namespace ocpp_test {
namespace {

// A loopback port that nothing listens on (connecting to it is refused) until a server takes it.
std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// The reconnect events of a client, and a promise kept at the n-th.
struct Reconnects {
  std::mutex m;
  std::vector<ReconnectEvent> events;
  unsigned signal_at = 1;
  std::promise<void> reached;

  void watch(Client& client) {
    client.on_reconnect([this](const ReconnectEvent& e) {
      std::lock_guard lock(m);
      events.push_back(e);
      if (events.size() == signal_at) reached.set_value();
    });
  }
  std::vector<long long> delays() {
    std::lock_guard lock(m);
    std::vector<long long> out;
    for (const auto& e : events) out.push_back(e.delay.count());
    return out;
  }
  std::size_t count() {
    std::lock_guard lock(m);
    return events.size();
  }
};

ClientOptions retrying(double r) {
  ClientOptions o;
  o.reconnect = false;  // only the first connect is retried here
  o.retry_initial_connect = true;
  o.backoff_random = [r] { return r; };
  return o;
}

template <class E, class F>
E fails_with(F&& future) {
  try {
    get(std::forward<F>(future));
  } catch (const E& e) {
    return e;
  }
  throw std::runtime_error("no exception of the expected type");
}

}  // namespace

TEST_F(WireTest, FirstConnectRetriesUnderTheOcppRuleUntilTheCsmsListens) {
  const auto port = free_port();
  auto o = retrying(0.5);
  o.retry_back_off = OcppRetryBackOff{milliseconds(5), milliseconds(4), 2};
  auto client = make_client(port, "CP1", {"ocpp1.6"}, o);
  Reconnects seen;
  seen.signal_at = 4;
  seen.watch(*client);
  auto connected = client->connect(asio::use_future);
  get(seen.reached.get_future());  // four attempts were refused
  auto server = make_server();
  ASSERT_EQ(server->listen(port, "127.0.0.1"), port);
  get(std::move(connected));
  EXPECT_EQ(client->state(), ConnectionState::open);
  // 5 + 2 ms, doubled plus 2 ms twice (RepeatTimes), then the same wait until the CSMS is back.
  auto delays = seen.delays();
  ASSERT_GE(delays.size(), 4u);
  EXPECT_EQ(std::vector<long long>(delays.begin(), delays.begin() + 4), (std::vector<long long>{7, 16, 34, 34}));
  EXPECT_TRUE(std::all_of(delays.begin() + 3, delays.end(), [](long long d) { return d == 34; }));
  std::lock_guard lock(seen.m);
  for (unsigned i = 0; i < seen.events.size(); ++i) EXPECT_EQ(seen.events[i].attempt, i + 1);
}

TEST_F(WireTest, FirstConnectRetriesUnderTheExponentialPolicyUntilMaxReconnectsRunOut) {
  auto o = retrying(0.5);
  o.backoff_min = milliseconds(8);
  o.backoff_max = milliseconds(20);
  o.max_reconnects = 4;
  auto client = make_client(free_port(), "CP1", {"ocpp1.6"}, o);
  Reconnects seen;
  seen.watch(*client);
  std::promise<CloseResult> closed;
  client->on_close([&](const CloseResult& r) { closed.set_value(r); });
  const auto e = fails_with<ConnectError>(client->connect(asio::use_future));
  EXPECT_NE(std::string(e.what()).find("exhausted"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("Cannot connect"), std::string::npos) << "names the last error: " << e.what();
  // min·2^(n-1)·(0.5 + 0.5·0.5), bounded by backoff_max: the exponential rule is unchanged.
  EXPECT_EQ(seen.delays(), (std::vector<long long>{6, 12, 20, 20}));
  EXPECT_NE(get(closed.get_future()).reason.find("exhausted"), std::string::npos);
  EXPECT_EQ(client->state(), ConnectionState::closed);
}

TEST_F(WireTest, WithoutTheOptionTheFirstConnectFailsAtOnce) {
  auto o = retrying(0.5);
  o.retry_initial_connect = false;
  auto client = make_client(free_port(), "CP1", {"ocpp1.6"}, o);
  Reconnects seen;
  seen.watch(*client);
  EXPECT_NE(std::string(fails_with<ConnectError>(client->connect(asio::use_future)).what()).find("Cannot connect"),
            std::string::npos);
  EXPECT_EQ(seen.count(), 0u);
}

TEST_F(WireTest, FirstConnectRetryWaitsOutA503ButStopsAtA401) {
  auto server = make_server();
  std::atomic<int> upgrades{0};
  std::atomic<unsigned> answer{503};
  server->auth([&](std::shared_ptr<AuthContext> ctx) {
    // Unavailable twice, then the given answer.
    if (++upgrades <= 2) return ctx->reject(503, "Service Unavailable");
    if (answer == 200) return ctx->accept();
    ctx->reject(answer, "Unauthorized");
  });
  const auto port = server->listen(0, "127.0.0.1");
  auto o = retrying(0.0);
  o.backoff_min = milliseconds(4);
  o.backoff_max = milliseconds(4);

  answer = 200;
  auto waits = make_client(port, "CP1", {"ocpp1.6"}, o);
  Reconnects seen;
  seen.watch(*waits);
  get(waits->connect(asio::use_future));
  EXPECT_EQ(seen.count(), 2u) << "each 503 is followed by a reconnect";
  EXPECT_EQ(upgrades, 3);

  upgrades = 0;
  answer = 401;
  auto refused = make_client(port, "CP2", {"ocpp1.6"}, o);
  Reconnects refusals;
  refusals.watch(*refused);
  EXPECT_EQ(fails_with<ConnectError>(refused->connect(asio::use_future)).http_status(), 401u);
  EXPECT_EQ(refusals.count(), 2u) << "the 503s were retried, the 401 was not";
  EXPECT_EQ(upgrades, 3);
  EXPECT_EQ(refused->state(), ConnectionState::closed);
}

TEST_F(WireTest, CloseDuringFirstConnectRetryCompletesEveryWaiter) {
  auto o = retrying(0.0);
  o.retry_back_off = OcppRetryBackOff{milliseconds(60000), milliseconds(0), 0};  // never fires here
  auto client = make_client(free_port(), "CP1", {"ocpp1.6"}, o);
  Reconnects seen;
  seen.watch(*client);
  auto first = client->connect(asio::use_future);
  get(seen.reached.get_future());
  EXPECT_EQ(seen.delays(), std::vector<long long>{60000});
  EXPECT_EQ(client->state(), ConnectionState::connecting);
  auto second = client->connect(asio::use_future);
  auto queued = client->call("Heartbeat", json::object(), asio::use_future);
  get(client->close(CloseOptions{}, asio::use_future));
  EXPECT_NE(std::string(fails_with<ConnectError>(std::move(first)).what()).find("aborted"), std::string::npos);
  EXPECT_NE(std::string(fails_with<ConnectError>(std::move(second)).what()).find("aborted"), std::string::npos);
  fails_with<ConnectionError>(std::move(queued));
  EXPECT_EQ(client->state(), ConnectionState::closed);
}

TEST_F(WireTest, ANegativeOcppRetryBackOffIsRefusedAtCreate) {
  ClientOptions o;
  o.endpoint = "ws://127.0.0.1:1/ocpp";
  o.identity = "CP1";
  o.retry_back_off = OcppRetryBackOff{milliseconds(-1), milliseconds(0), 0};
  EXPECT_THROW(Client::create(pool.executor(), o), std::invalid_argument);
  o.retry_back_off = OcppRetryBackOff{milliseconds(0), milliseconds(-5), 0};
  EXPECT_THROW(Client::create(pool.executor(), o), std::invalid_argument);
}

}  // namespace ocpp_test
