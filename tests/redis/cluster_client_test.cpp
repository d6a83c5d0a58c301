// The Redis Cluster client (ocpp/redis/cluster_client.hpp) against a real cluster of redis-server
// processes (tests/support/redis_cluster): routing by slot, MOVED and ASK, scripts, seeds, a
// master's failover to its replica, and a Subscriber on a cluster URL.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "ocpp/redis/cluster_client.hpp"
#include "ocpp/redis/key_slot.hpp"
#include "ocpp/redis/subscriber.hpp"
#include "ocpp/redis/url.hpp"
#include "support/capturing_logger.hpp"
#include "support/redis_cluster.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ocpp::redis::ClusterClient;
using ocpp::redis::Completion;
using ocpp::redis::ConnectionOptions;
using ocpp::redis::Error;
using ocpp::redis::ErrorKind;
using ocpp::redis::key_slot;
using ocpp::redis::Result;
using ocpp_test::RedisCluster;
using Clock = std::chrono::steady_clock;

TEST(RedisKeySlot, MatchesTheClusterSpecificationAndItsHashTagRules) {
  EXPECT_EQ(key_slot("123456789"), 12739);
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("ocpp:{cp1}:owner"), key_slot("cp1"));
  EXPECT_EQ(ocpp::redis::hash_tag("foo{}{bar}"), "foo{}{bar}") << "an empty tag hashes the whole key";
  EXPECT_EQ(ocpp::redis::hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(ocpp::redis::hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(ocpp::redis::hash_tag("foo{bar"), "foo{bar") << "an unclosed brace is no tag";
}

TEST(RedisUrl, ParsesClusterSeedsAndRefusesADatabase) {
  using ocpp::redis::Url;
  EXPECT_EQ(ocpp::redis::parse_url("rediss-cluster://u:p@a,b:7001,[::1]:7002"),
            (Url{.tls = true, .user = "u", .password = "p", .seeds = {{"a", 6379}, {"b", 7001}, {"::1", 7002}}}));
  EXPECT_TRUE(ocpp::redis::parse_url("redis-cluster://a").cluster());
  for (const char* bad : {"redis-cluster://a/1", "redis-cluster://", "redis-cluster://a,,b", "redis-cluster://a:0"})
    EXPECT_THROW(ocpp::redis::parse_url(bad), ocpp::redis::UrlError) << bad;
  asio::io_context io;
  EXPECT_THROW(ocpp::redis::Connection(io.get_executor(), {.url = "redis-cluster://a"}), ocpp::redis::UrlError)
      << "one connection cannot serve a cluster";
  EXPECT_THROW(ClusterClient(io.get_executor(), {.url = "redis://a"}), ocpp::redis::UrlError);
}

// One cluster for the tests that leave its masters alive; each test keeps to its own hash tags.
class RedisClusterClient : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new RedisCluster(3, 1); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  RedisClusterClient() : thread_([this] { io_.run(); }) {}
  ~RedisClusterClient() override {
    clients_.clear();
    work_.reset();
    auto done = std::async(std::launch::async, [this] { thread_.join(); });
    if (done.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "handlers were left on the io_context after every client stopped";
      io_.stop();
      done.wait();
    }
  }

  ClusterClient& client(const std::string& url) {
    ConnectionOptions o;
    o.url = url;
    o.logger = logger_;
    o.reconnect_min = 20ms;
    o.reconnect_max = 200ms;
    o.command_timeout = 1000ms;
    o.connect_timeout = 500ms;
    // No refresh but the first and those a MOVED asks for: a periodic one would race the tests'
    // migrations and hide the redirects they check.
    o.slot_refresh_interval = 1h;
    clients_.push_back(std::make_unique<ClusterClient>(io_.get_executor(), std::move(o)));
    clients_.back()->start();
    return *clients_.back();
  }

  static Result wait(const std::function<void(Completion)>& issue) {
    auto promise = std::make_shared<std::promise<Result>>();
    auto future = promise->get_future();
    issue([promise](Result r) { promise->set_value(std::move(r)); });
    if (future.wait_for(10s) != std::future_status::ready)
      return Error{ErrorKind::timeout, "the test waited in vain for a completion"};
    return future.get();
  }
  static Result call(ClusterClient& c, const std::string& key, std::vector<std::string> args) {
    return wait([&](Completion done) { c.command(key, std::move(args), std::move(done)); });
  }

  // Moves `slot` from its master to another one the way redis-cli --cluster reshard does, leaving
  // it half way (MIGRATING/IMPORTING) when `finish` is false. Returns {from, to}.
  static std::pair<ocpp_test::RedisServer*, ocpp_test::RedisServer*> migrate(std::uint16_t slot,
                                                                              const std::vector<std::string>& keys,
                                                                              bool finish) {
    auto* from = cluster_->master_of(slot);
    ocpp_test::RedisServer* to = nullptr;
    for (auto& n : cluster_->nodes())
      if (n.get() != from && RedisCluster::cli(n->port(), "role").starts_with("master")) to = n.get();
    const auto id = [](ocpp_test::RedisServer* n) { return RedisCluster::cli(n->port(), "cluster myid"); };
    const std::string s = std::to_string(slot);
    RedisCluster::cli(to->port(), "cluster setslot " + s + " importing " + id(from));
    RedisCluster::cli(from->port(), "cluster setslot " + s + " migrating " + id(to));
    std::string list;
    for (const auto& k : keys) list += " " + k;
    if (!keys.empty())
      RedisCluster::cli(from->port(), "migrate 127.0.0.1 " + std::to_string(to->port()) + " \"\" 0 5000 keys" + list);
    if (finish) {
      for (auto& n : cluster_->nodes())
        if (RedisCluster::cli(n->port(), "role").starts_with("master"))
          RedisCluster::cli(n->port(), "cluster setslot " + s + " node " + id(to));
      cluster_->wait_ok(15s, slot);
    }
    return {from, to};
  }

  static RedisCluster* cluster_;
  std::shared_ptr<ocpp_test::CapturingLogger> logger_ = std::make_shared<ocpp_test::CapturingLogger>();
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::thread thread_;
  std::vector<std::unique_ptr<ClusterClient>> clients_;
};
RedisCluster* RedisClusterClient::cluster_ = nullptr;

TEST_F(RedisClusterClient, KeysOfEverySlotRangeReachTheirMasterOnceTheMapIsLoaded) {
  auto& c = client(cluster_->url(1));
  for (int i = 0; i < 300; ++i) {
    const std::string key = "spread:" + std::to_string(i);
    ASSERT_TRUE(call(c, key, {"SET", key, std::to_string(i)})) << key;
  }
  for (int i = 0; i < 300; ++i) {
    const std::string key = "spread:" + std::to_string(i);
    const auto r = call(c, key, {"GET", key});
    ASSERT_TRUE(r) << r.to_string();
    EXPECT_EQ(r->str(), std::to_string(i));
  }
  EXPECT_EQ(c.stats().masters, 3u);
  EXPECT_LE(c.stats().moved, 10u) << "MOVED only before the first slot map arrived";
  int masters_with_keys = 0;
  for (auto& n : cluster_->nodes())
    if (RedisCluster::cli(n->port(), "role").starts_with("master") && RedisCluster::cli(n->port(), "dbsize") != "0")
      ++masters_with_keys;
  EXPECT_EQ(masters_with_keys, 3) << "every master got its share: the commands were routed by slot";
}

TEST_F(RedisClusterClient, AMovedSlotIsFollowedAndTheNextCommandGoesStraightToItsNewMaster) {
  auto& c = client(cluster_->url());
  const std::string key = "{moved}:k";
  ASSERT_TRUE(call(c, key, {"SET", key, "v"}));
  const auto moved_before = c.stats().moved;
  migrate(key_slot(key), {key}, true);
  auto r = call(c, key, {"GET", key});
  ASSERT_TRUE(r) << r.to_string();
  EXPECT_EQ(r->str(), "v");
  EXPECT_EQ(c.stats().moved, moved_before + 1);
  r = call(c, key, {"GET", key});
  ASSERT_TRUE(r) << r.to_string();
  EXPECT_EQ(c.stats().moved, moved_before + 1) << "the slot map was corrected by the first MOVED";
}

TEST_F(RedisClusterClient, AnAskIsFollowedForTheOneCommandAndTheSlotStaysWithItsMaster) {
  auto& c = client(cluster_->url());
  const std::string gone = "{ask}:gone", stays = "{ask}:stays";
  ASSERT_TRUE(call(c, gone, {"SET", gone, "moved-over"}));
  ASSERT_TRUE(call(c, stays, {"SET", stays, "still-here"}));
  const auto moved = c.stats().moved;  // before the map arrived
  migrate(key_slot(gone), {gone}, false);
  auto r = call(c, gone, {"GET", gone});
  ASSERT_TRUE(r) << r.to_string();
  EXPECT_EQ(r->str(), "moved-over");
  EXPECT_EQ(c.stats().asked, 1u);
  r = call(c, stays, {"GET", stays});
  ASSERT_TRUE(r) << r.to_string();
  EXPECT_EQ(r->str(), "still-here");
  EXPECT_EQ(c.stats().asked, 1u) << "ASK does not move the slot";
  EXPECT_EQ(c.stats().moved, moved);
  migrate(key_slot(gone), {stays}, true);  // finish, for the next tests
}

TEST_F(RedisClusterClient, ScriptsRunOnTheirSlotsMasterAndKeysInTwoSlotsFailUnsent) {
  auto& c = client(cluster_->url());
  static const ocpp::redis::Script script("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[2])");
  const std::vector<std::string> keys{"{script}:a", "{script}:b"};
  ASSERT_TRUE(call(c, keys[1], {"SET", keys[1], "b-value"}));
  RedisCluster::cli(cluster_->master_of(key_slot(keys[0]))->port(), "script flush");
  auto r = wait([&](Completion done) { c.eval(script, keys, {"a-value"}, std::move(done)); });
  ASSERT_TRUE(r) << r.to_string() << " (NOSCRIPT must fall back to EVAL)";
  EXPECT_EQ(r->str(), "b-value");
  r = call(c, keys[0], {"GET", keys[0]});
  EXPECT_EQ(r->str(), "a-value");

  const auto sent = c.stats().connections.sent;
  r = wait([&](Completion done) { c.eval(script, {"{one}:a", "{two}:b"}, {}, std::move(done)); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), "CROSSSLOT");
  EXPECT_EQ(c.stats().connections.sent, sent) << "refused before sending";
  EXPECT_THROW(c.eval(script, {}, {}, [](Result) {}), std::invalid_argument);
}

TEST_F(RedisClusterClient, ASeedThatIsDownIsSkippedForTheNext) {
  std::uint16_t dead = 0;
  {
    ocpp_test::RedisServer gone;
    dead = gone.port();
  }
  auto& c = client("redis-cluster://127.0.0.1:" + std::to_string(dead) + ",127.0.0.1:" +
                   std::to_string(cluster_->nodes()[1]->port()));
  const auto deadline = Clock::now() + 10s;
  while (c.stats().slot_refreshes == 0 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(c.stats().masters, 3u);
  const auto r = call(c, "seed:k", {"SET", "seed:k", "1"});
  EXPECT_TRUE(r) << r.to_string();
}

// A cluster of its own: its master dies.
// Pub/sub on a cluster: a message published on any node reaches every node, so a Subscriber takes a
// cluster URL, connects to one of its nodes, and to the next when that one dies.
TEST(RedisClusterPubSub, ASubscriberOnAClusterUrlGetsWhatAnyNodePublishesAndMovesOnWhenItsNodeDies) {
  RedisCluster cluster(3, 1);
  std::vector<ocpp_test::RedisServer*> replicas, masters;
  for (auto& n : cluster.nodes())
    (RedisCluster::cli(n->port(), "role").starts_with("slave") ? replicas : masters).push_back(n.get());
  ASSERT_GE(replicas.size(), 2u);
  // The first seed is a replica, which can die without the cluster noticing.
  const std::string url = "redis-cluster://127.0.0.1:" + std::to_string(replicas[0]->port()) + ",127.0.0.1:" +
                          std::to_string(replicas[1]->port());
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread thread([&] { io.run(); });
  ConnectionOptions o;
  o.url = url;
  o.logger = std::make_shared<ocpp_test::CapturingLogger>();
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  auto sub = std::make_unique<ocpp::redis::Subscriber>(io.get_executor(), o);
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> got;
  int connects = 0;
  sub->on_message([&](std::string_view, std::string_view message) {
    std::lock_guard lock(m);
    got.emplace_back(message);
    cv.notify_all();
  });
  sub->on_connected([&] {
    std::lock_guard lock(m);
    ++connects;
    cv.notify_all();
  });
  sub->start();
  // Published until it arrives: a message before the SUBSCRIBE is confirmed is not delivered.
  const auto until_received = [&](const std::string& message) {
    for (int i = 0; i < 200; ++i) {
      RedisCluster::cli(masters[static_cast<std::size_t>(i) % masters.size()]->port(), "publish news " + message);
      std::unique_lock lock(m);
      if (cv.wait_for(lock, 50ms, [&] { return std::find(got.begin(), got.end(), message) != got.end(); })) return true;
    }
    return false;
  };
  std::promise<Result> subscribed;
  sub->subscribe("news", [&](Result r) { subscribed.set_value(std::move(r)); });
  ASSERT_TRUE(subscribed.get_future().get());
  EXPECT_TRUE(until_received("first")) << "published on a master, received through a replica";
  replicas[0]->kill();
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return connects >= 2; })) << "no reconnect to the next seed";
  }
  EXPECT_TRUE(until_received("second")) << "subscribed again on the next node";
  sub.reset();
  work.reset();
  thread.join();
}

TEST(RedisClusterFailover, AKilledMastersSlotsAreFollowedToItsReplicaEveryCommandEndsByItsDeadlineAndTheChangeOfMastersIsTold) {
  RedisCluster cluster(3, 1);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread thread([&] { io.run(); });
  ConnectionOptions o;
  o.url = cluster.url();
  o.logger = std::make_shared<ocpp_test::CapturingLogger>();
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  o.command_timeout = 500ms;
  o.connect_timeout = 300ms;
  auto c = std::make_unique<ClusterClient>(io.get_executor(), o);
  std::atomic<int> masters_changed{0};
  c->on_masters_changed([&] { ++masters_changed; });
  c->start();

  const std::string key = "{failover}:n";
  auto* master = cluster.master_of(key_slot(key));
  ASSERT_NE(master, nullptr);
  std::atomic<int> issued{0}, ended{0}, ok{0}, late{0}, bad{0};
  std::atomic<long long> first_ok_after_kill_ms{-1};
  std::atomic<bool> killed{false};
  Clock::time_point killed_at{};
  const auto run_for = [&](std::chrono::milliseconds span) {
    const auto until = Clock::now() + span;
    while (Clock::now() < until) {
      const auto issued_at = Clock::now();
      ++issued;
      c->command(key, {"INCR", key}, [&, issued_at](Result r) {
        if (Clock::now() - issued_at > 500ms + 100ms) ++late;  // the deadline, and a margin for the thread
        if (r) {
          ++ok;
          if (killed && first_ok_after_kill_ms < 0)
            first_ok_after_kill_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at).count();
        } else if (r.error().kind != ErrorKind::disconnected && r.error().kind != ErrorKind::timeout &&
                   r.error().code() != "CLUSTERDOWN") {
          ++bad;
          ADD_FAILURE() << r.to_string();
        }
        ++ended;
      });
      std::this_thread::sleep_for(5ms);  // the load's pace
    }
  };
  run_for(300ms);
  const int before = ok;
  EXPECT_EQ(masters_changed.load(), 0) << "not for the first map";
  killed_at = Clock::now();
  killed = true;
  master->kill();
  run_for(6s);
  const auto deadline = Clock::now() + 5s;
  while (ended < issued && Clock::now() < deadline) std::this_thread::sleep_for(10ms);

  EXPECT_EQ(ended.load(), issued.load()) << "every command ended";
  EXPECT_EQ(late.load(), 0) << "none after its deadline";
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(before, 0);
  EXPECT_GE(first_ok_after_kill_ms.load(), 0) << "the promoted replica served the slot";
  EXPECT_GE(masters_changed.load(), 1) << "the replica's promotion was told";
  std::cout << "[ figures ] first INCR served after the kill: " << first_ok_after_kill_ms << " ms ("
            << ok << " ok of " << issued << ")\n";
  const auto r = [&] {
    std::promise<Result> p;
    c->command(key, {"GET", key}, [&](Result r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }();
  ASSERT_TRUE(r) << r.to_string();
  EXPECT_LE(std::stoi(r->str()), issued.load()) << "no INCR ran twice";
  c.reset();
  work.reset();
  thread.join();
}

}  // namespace
