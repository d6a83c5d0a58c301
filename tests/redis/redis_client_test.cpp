// The Redis client (ocpp/redis) against real redis-server processes (tests/support/redis_server):
// pipelining, every reply type, deadlines, reconnects, AUTH/SELECT, scripts, pub/sub, blocking
// reads, TLS, stop() and throwing completions.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "ocpp/redis/connection.hpp"
#include "ocpp/redis/subscriber.hpp"
#include "ocpp/redis/url.hpp"
#include "redis/resp.hpp"
#include "support/capturing_logger.hpp"
#include "support/cert_dir.hpp"
#include "support/redis_server.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ocpp::redis::Completion;
using ocpp::redis::Connection;
using ocpp::redis::ConnectionOptions;
using ocpp::redis::Error;
using ocpp::redis::ErrorKind;
using ocpp::redis::Reply;
using ocpp::redis::Result;
using ocpp_test::RedisServer;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = 10s;  // the longest any test waits for an event

// A count of events from the I/O thread that the test thread waits on.
class Events {
 public:
  void bump() {
    std::lock_guard lock(mutex_);
    ++count_;
    cv_.notify_all();
  }
  bool wait_for(int n, std::chrono::milliseconds limit = kWait) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

class RedisClient : public ::testing::Test {
 protected:
  RedisClient() : thread_([this] { io_.run(); }) {}
  ~RedisClient() override {
    connections_.clear();
    subscribers_.clear();
    // Once stopped, a connection leaves nothing behind: run() returns by itself.
    work_.reset();
    auto done = std::async(std::launch::async, [this] { thread_.join(); });
    if (done.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "handlers were left on the io_context after every connection stopped";
      io_.stop();
      done.wait();
    }
  }

  ConnectionOptions options(const std::string& url) {
    ConnectionOptions o;
    o.url = url;
    o.logger = logger_;
    o.reconnect_min = 20ms;
    o.reconnect_max = 200ms;
    return o;
  }
  Connection& connect(ConnectionOptions o) {
    connections_.push_back(std::make_unique<Connection>(io_.get_executor(), std::move(o)));
    connections_.back()->start();
    return *connections_.back();
  }
  Connection& connect(const std::string& url) { return connect(options(url)); }
  ocpp::redis::Subscriber& subscriber(const std::string& url) {
    subscribers_.push_back(std::make_unique<ocpp::redis::Subscriber>(io_.get_executor(), options(url)));
    return *subscribers_.back();
  }

  static Result wait(const std::function<void(Completion)>& issue, std::chrono::milliseconds limit = kWait) {
    auto promise = std::make_shared<std::promise<Result>>();
    auto future = promise->get_future();
    issue([promise](Result r) { promise->set_value(std::move(r)); });
    if (future.wait_for(limit) != std::future_status::ready)
      return Error{ErrorKind::timeout, "the test waited in vain for a completion"};
    return future.get();
  }
  static Result call(Connection& c, std::initializer_list<std::string_view> args) {
    return wait([&](Completion done) { c.command(args, std::move(done)); });
  }
  static Result call(Connection& c, std::initializer_list<std::string_view> args, std::chrono::milliseconds timeout) {
    return wait([&](Completion done) { c.command(args, timeout, std::move(done)); });
  }

  std::shared_ptr<ocpp_test::CapturingLogger> logger_ = std::make_shared<ocpp_test::CapturingLogger>();
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::thread thread_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<ocpp::redis::Subscriber>> subscribers_;
};

// ---- no server -----------------------------------------------------------------------------------

TEST(RedisUrl, ParsesCredentialsPortDbAndTls) {
  using ocpp::redis::Url;
  EXPECT_EQ(ocpp::redis::parse_url("rediss://app%40x:p%3Ass@cache.local:6380/3"),
            (Url{.tls = true, .host = "cache.local", .port = 6380, .user = "app@x", .password = "p:ss", .db = 3}));
  EXPECT_EQ(ocpp::redis::parse_url("redis://:secret@[::1]"), (Url{.host = "::1", .password = "secret"}));
  EXPECT_EQ(ocpp::redis::parse_url("REDIS://h/"), (Url{.host = "h"}));
}

TEST(RedisUrl, ParsesSentinelsWithDefaultPortsMasterNameDbAndTheMastersCredentials) {
  using ocpp::redis::Url;
  EXPECT_EQ(ocpp::redis::parse_url("redis-sentinel://:pw@s1,s2:26380,[::1]:5/my%2Fmaster/2"),
            (Url{.password = "pw", .db = 2, .sentinels = {{"s1", 26379}, {"s2", 26380}, {"::1", 5}},
                 .master_name = "my/master"}));
  const auto tls = ocpp::redis::parse_url("rediss-sentinel://s/m");
  EXPECT_TRUE(tls.tls);
  EXPECT_TRUE(tls.sentinel());
  EXPECT_TRUE(tls.host.empty()) << "the master's address comes from a sentinel";
  EXPECT_FALSE(ocpp::redis::parse_url("redis://h").sentinel());
}

TEST(RedisUrl, BadUrlsThrowUrlError) {
  for (const char* bad : {"http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h:", "redis://h/x",
                          "redis://h/-1", "redis://user@h", "redis://h?db=1", "redis://[::1", "redis-sentinel://h",
                          "redis-sentinel://h/", "redis-sentinel://h,,k/m", "redis-sentinel://h:0/m",
                          "redis-sentinel://h/m/x", "redis-sentinel:///m"})
    EXPECT_THROW(ocpp::redis::parse_url(bad), ocpp::redis::UrlError) << bad;
}

TEST(RedisReply, ReaderBuildsNestedRepliesFromBytesSplitAnywhere) {
  const std::string wire = "*3\r\n:42\r\n*2\r\n$4\r\na\r\nb\r\n$-1\r\n+OK\r\n-ERR no\r\n*0\r\n";
  ocpp::redis::ReplyReader reader;
  std::vector<Reply> replies;
  for (char c : wire) {  // one byte at a time
    ASSERT_TRUE(reader.feed(&c, 1));
    while (auto r = reader.next()) replies.push_back(std::move(*r));
  }
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0], Reply::array({Reply::integer(42), Reply::array({Reply::string("a\r\nb"), Reply::nil()}),
                                      Reply::status("OK")}));
  EXPECT_EQ(replies[0].to_string(), "[(integer) 42, [\"a\r\nb\", (nil)], OK]");
  EXPECT_EQ(replies[1], Reply::error("ERR no"));
  EXPECT_EQ(replies[2], Reply::array({}));
  EXPECT_TRUE(reader.error().empty());
}

TEST(RedisReply, ReaderReportsBytesThatAreNotResp) {
  ocpp::redis::ReplyReader reader;
  reader.feed("!what\r\n", 7);
  EXPECT_FALSE(reader.next());
  EXPECT_FALSE(reader.error().empty());
}

TEST(RedisReply, ScriptSha1IsComputedLocally) {
  EXPECT_EQ(ocpp::redis::Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

// ---- a real redis-server -------------------------------------------------------------------------

TEST_F(RedisClient, PipelinedCommandsCompleteInOrderWithTheRightReplies) {
  RedisServer server;
  auto& c = connect(server.url());
  constexpr int kCommands = 1000;
  std::vector<long long> seen;
  seen.reserve(kCommands);
  Events done;
  for (int i = 0; i < kCommands; ++i)  // all issued before the first reply can arrive
    c.command({"INCR", "counter"}, [&](Result r) {
      seen.push_back(r ? r->integer() : -1);
      done.bump();
    });
  ASSERT_TRUE(done.wait_for(kCommands));
  for (int i = 0; i < kCommands; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], i + 1) << "reply " << i;
  EXPECT_EQ(call(c, {"GET", "counter"})->str(), "1000");
  const auto stats = c.stats();
  EXPECT_EQ(stats.commands, kCommands + 1u);
  EXPECT_EQ(stats.replies, kCommands + 1u);
  EXPECT_EQ(stats.latency_count, kCommands + 1u);
  std::uint64_t bucketed = 0;
  for (auto n : stats.latency_buckets) bucketed += n;
  EXPECT_EQ(bucketed, stats.latency_count);
  EXPECT_EQ(stats.connects, 1u);
}

TEST_F(RedisClient, EveryReplyTypeParses) {
  RedisServer server;
  auto& c = connect(server.url());
  const auto status = call(c, {"SET", "k", std::string_view("a\r\nb\0c", 6)});
  ASSERT_TRUE(status) << status.to_string();
  EXPECT_TRUE(status->is_status());
  EXPECT_EQ(status->str(), "OK");
  const auto bulk = call(c, {"GET", "k"});
  EXPECT_TRUE(bulk->is_string());
  EXPECT_EQ(bulk->str(), std::string("a\r\nb\0c", 6));  // binary-safe both ways
  EXPECT_TRUE(call(c, {"GET", "missing"})->is_nil());
  EXPECT_EQ(call(c, {"INCRBY", "n", "-7"})->integer(), -7);
  const auto empty = call(c, {"LRANGE", "missing", "0", "-1"});
  EXPECT_TRUE(empty->is_array() && empty->elements().empty());

  const auto wrongtype = call(c, {"LPUSH", "k", "x"});
  ASSERT_FALSE(wrongtype);
  EXPECT_EQ(wrongtype.error().kind, ErrorKind::server);
  EXPECT_EQ(wrongtype.error().code(), "WRONGTYPE");
  EXPECT_EQ(call(c, {"NOSUCHCOMMAND"}).error().code(), "ERR");

  const auto id = call(c, {"XADD", "s", "1-1", "f", "v", "g", "w"});
  EXPECT_EQ(id->str(), "1-1");
  const auto range = call(c, {"XRANGE", "s", "-", "+"});
  EXPECT_EQ(range->to_string(), R"([["1-1", ["f", "v", "g", "w"]]])");
  EXPECT_EQ(call(c, {"XGROUP", "CREATE", "s", "grp", "0"})->str(), "OK");
  EXPECT_EQ(call(c, {"XGROUP", "CREATE", "s", "grp", "0"}).error().code(), "BUSYGROUP");
  const auto read = call(c, {"XREADGROUP", "GROUP", "grp", "c1", "COUNT", "10", "STREAMS", "s", ">"});
  EXPECT_EQ(read->to_string(), R"([["s", [["1-1", ["f", "v", "g", "w"]]]]])");
  EXPECT_EQ(call(c, {"XREADGROUP", "GROUP", "nogroup", "c1", "STREAMS", "s", ">"}).error().code(), "NOGROUP");
  // Larger than a read buffer and than hiredis' buffer: parsed across many reads.
  const std::string big(3 * 1024 * 1024 + 7, 'x');
  ASSERT_TRUE(call(c, {"SET", "big", big}));
  EXPECT_EQ(call(c, {"GET", "big"})->str(), big);
  // Nil inside an array.
  EXPECT_EQ(call(c, {"MGET", "k", "missing"})->to_string(), std::string("[\"a\r\nb") + '\0' + "c\", (nil)]");
}

TEST_F(RedisClient, CommandToAPausedServerTimesOutAtItsDeadlineAndTheConnectionRecoversAfterResume) {
  RedisServer server;
  auto o = options(server.url());
  o.command_timeout = 300ms;
  Events connected;
  auto& c = connect(o);
  c.on_connected([&] { connected.bump(); });
  ASSERT_TRUE(call(c, {"PING"}));

  server.pause();
  std::mutex mutex;
  std::vector<Result> results;
  Events done;
  const auto keep = [&](Result r) {
    {
      std::lock_guard lock(mutex);
      results.push_back(std::move(r));
    }
    done.bump();
  };
  const auto t0 = Clock::now();
  c.command({"PING"}, keep);
  c.command({"SET", "x", "1"}, 5000ms, keep);  // sent behind it, with a longer deadline
  ASSERT_TRUE(done.wait_for(2));
  const auto elapsed = Clock::now() - t0;
  std::lock_guard lock(mutex);
  ASSERT_FALSE(results[0]);
  EXPECT_EQ(results[0].error().kind, ErrorKind::timeout) << results[0].error().to_string();
  EXPECT_TRUE(results[0].error().sent) << "it was written: it may have run";
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 2s);
  // The connection was dropped for the late reply, taking the second command with it.
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error().kind, ErrorKind::disconnected) << results[1].error().to_string();

  server.resume();
  const auto after = call(c, {"PING"}, 5000ms);
  EXPECT_TRUE(after) << after.to_string();
  EXPECT_GE(c.stats().timeouts, 1u);
  EXPECT_GE(c.stats().connection_losses, 1u);
}

// A deadline shorter than command_timeout is the caller's own (a routed call's budget): past it the
// command fails alone, and what is pipelined behind it is still answered on the same connection.
TEST_F(RedisClient, ACommandPastAShorterDeadlineOfItsOwnFailsAloneAndTheConnectionServesTheOthers) {
  RedisServer server;
  auto& c = connect(server.url());
  ASSERT_TRUE(call(c, {"PING"}));
  std::mutex mutex;
  std::vector<Result> results(2, Error{});
  Events done;
  c.command({"BLPOP", "nothing-here", "0.4"}, 100ms, [&](Result r) {
    std::lock_guard lock(mutex);
    results[0] = std::move(r);
    done.bump();
  });
  c.command({"PING"}, [&](Result r) {
    std::lock_guard lock(mutex);
    results[1] = std::move(r);
    done.bump();
  });
  ASSERT_TRUE(done.wait_for(2));
  std::lock_guard lock(mutex);
  ASSERT_FALSE(results[0]);
  EXPECT_EQ(results[0].error().kind, ErrorKind::timeout) << results[0].error().to_string();
  ASSERT_TRUE(results[1]) << results[1].to_string();
  EXPECT_EQ(results[1]->str(), "PONG");
  EXPECT_EQ(c.stats().connection_losses, 0u);
  EXPECT_TRUE(call(c, {"PING"})) << "the late BLPOP reply was skipped, not paired with this one";
}

TEST_F(RedisClient, CommandsWhileRedisIsDownFailByTheirDeadlineAndTheConnectionComesBackAfterARestart) {
  RedisServer server;
  Events connected, disconnected;
  auto& c = connect([&] {
    auto o = options(server.url());
    return o;
  }());
  c.on_connected([&] { connected.bump(); });
  c.on_disconnected([&](const Error&) { disconnected.bump(); });
  // on_connected is set after start(): the first connect may or may not be seen; a PING is.
  ASSERT_TRUE(call(c, {"PING"}));
  const int before = connected.count();

  server.stop();
  ASSERT_TRUE(disconnected.wait_for(1));
  const auto t0 = Clock::now();
  const auto down = call(c, {"GET", "k"}, 300ms);
  const auto elapsed = Clock::now() - t0;
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().kind, ErrorKind::disconnected) << down.error().to_string();
  EXPECT_FALSE(down.error().sent) << "queued while down: it never ran";
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 2s);
  EXPECT_FALSE(c.connected());

  server.restart();
  ASSERT_TRUE(connected.wait_for(before + 1)) << "no reconnect after the restart";
  EXPECT_TRUE(c.connected());
  EXPECT_TRUE(call(c, {"PING"}));
  EXPECT_GE(c.stats().reconnects, 1u);
}

TEST_F(RedisClient, AuthWithTheRightPasswordWorksAndAWrongOneIsADefiniteErrorNotAHang) {
  RedisServer server({.args = {"--requirepass", "s3cret"}});
  const std::string port = std::to_string(server.port());
  auto& right = connect("redis://:s3cret@127.0.0.1:" + port);
  EXPECT_EQ(call(right, {"PING"})->str(), "PONG");
  auto& user = connect("redis://default:s3cret@127.0.0.1:" + port);
  EXPECT_EQ(call(user, {"PING"})->str(), "PONG");

  auto& wrong = connect("redis://:nope@127.0.0.1:" + port);
  const auto t0 = Clock::now();
  const auto refused = call(wrong, {"PING"}, 5000ms);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::server) << refused.error().to_string();
  EXPECT_EQ(refused.error().code(), "WRONGPASS");
  EXPECT_LT(Clock::now() - t0, 2s);
  // Later commands get the same answer at once rather than waiting for their deadline.
  EXPECT_EQ(call(wrong, {"PING"}, 5000ms).error().code(), "WRONGPASS");

  auto& none = connect(server.url());
  EXPECT_EQ(call(none, {"GET", "k"}).error().code(), "NOAUTH");
}

TEST_F(RedisClient, SelectInTheUrlPutsKeysInThatDatabase) {
  RedisServer server;
  auto& db3 = connect(server.url("/3"));
  ASSERT_TRUE(call(db3, {"SET", "where", "three"}));
  auto& db0 = connect(server.url());
  EXPECT_TRUE(call(db0, {"GET", "where"})->is_nil());
  EXPECT_EQ(call(db0, {"SELECT", "3"})->str(), "OK");
  EXPECT_EQ(call(db0, {"GET", "where"})->str(), "three");
}

TEST_F(RedisClient, ClientNameIsSetOnConnect) {
  RedisServer server;
  auto o = options(server.url());
  o.client_name = "ocpp-node-1";
  auto& c = connect(o);
  EXPECT_EQ(call(c, {"CLIENT", "GETNAME"})->str(), "ocpp-node-1");
}

TEST_F(RedisClient, ScriptRunsThroughEvalWhenTheServerLacksIt) {
  RedisServer server;
  auto& c = connect(server.url());
  const ocpp::redis::Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(call(c, {"SCRIPT", "LOAD", script.source()})->str(), script.sha1());
  const auto eval = [&] { return wait([&](Completion done) { c.eval(script, {"n"}, {"5"}, std::move(done)); }); };
  EXPECT_EQ(eval()->integer(), 5);  // EVALSHA
  ASSERT_TRUE(call(c, {"SCRIPT", "FLUSH"}));
  const auto after_flush = eval();  // NOSCRIPT, then EVAL
  ASSERT_TRUE(after_flush) << after_flush.to_string();
  EXPECT_EQ(after_flush->integer(), 10);
  EXPECT_EQ(call(c, {"SCRIPT", "EXISTS", script.sha1()})->to_string(), "[(integer) 1]");  // EVAL cached it
  const ocpp::redis::Script broken("return redis.call('NOPE')");
  const auto failed = wait([&](Completion done) { c.eval(broken, {}, {}, std::move(done)); });
  EXPECT_EQ(failed.error().kind, ErrorKind::server);
}

TEST_F(RedisClient, SubscriberReceivesMessagesAndAgainAfterARedisRestart) {
  RedisServer server;
  auto& publisher = connect(server.url());
  auto& sub = subscriber(server.url());
  std::mutex mutex;
  std::vector<std::string> got;
  Events messages, connected;
  sub.on_message([&](std::string_view channel, std::string_view message) {
    {
      std::lock_guard lock(mutex);
      got.push_back(std::string(channel) + "=" + std::string(message));
    }
    messages.bump();
  });
  sub.on_connected([&] { connected.bump(); });
  sub.start();
  const auto confirmed = wait([&](Completion done) { sub.subscribe("news", std::move(done)); });
  EXPECT_EQ(confirmed->to_string(), R"(["subscribe", "news", (integer) 1])");
  ASSERT_TRUE(wait([&](Completion done) { sub.psubscribe("node.*", std::move(done)); }));
  EXPECT_EQ(call(publisher, {"PUBLISH", "news", "one"})->integer(), 1);
  EXPECT_EQ(call(publisher, {"PUBLISH", "node.7", "two"})->integer(), 1);
  ASSERT_TRUE(messages.wait_for(2));
  ASSERT_TRUE(connected.wait_for(1));

  server.restart();
  ASSERT_TRUE(connected.wait_for(2)) << "the subscriber did not reconnect";
  // on_connected fires after the subscriptions are confirmed again.
  EXPECT_EQ(call(publisher, {"PUBLISH", "news", "three"}, 5000ms)->integer(), 1);
  EXPECT_EQ(call(publisher, {"PUBLISH", "node.8", "four"})->integer(), 1);
  ASSERT_TRUE(messages.wait_for(4));

  ASSERT_TRUE(wait([&](Completion done) { sub.unsubscribe("news", std::move(done)); }));
  EXPECT_EQ(call(publisher, {"PUBLISH", "news", "five"})->integer(), 0);
  std::lock_guard lock(mutex);
  EXPECT_EQ(got, (std::vector<std::string>{"news=one", "node.7=two", "news=three", "node.8=four"}));
}

TEST_F(RedisClient, AnIdleSubscriberNoticesAPausedServerThroughItsHealthCheckPing) {
  RedisServer server;
  auto o = options(server.url());
  o.health_check_interval = 100ms;
  o.command_timeout = 200ms;
  subscribers_.push_back(std::make_unique<ocpp::redis::Subscriber>(io_.get_executor(), o));
  auto& sub = *subscribers_.back();
  Events lost;
  std::mutex mutex;
  std::optional<Error> why;
  sub.on_disconnected([&](const Error& e) {
    {
      std::lock_guard lock(mutex);
      if (!why) why = e;
    }
    lost.bump();
  });
  sub.start();
  ASSERT_TRUE(wait([&](Completion done) { sub.subscribe("quiet", std::move(done)); }));
  server.pause();
  ASSERT_TRUE(lost.wait_for(1, 3s)) << "a silent server went unnoticed";
  server.resume();
  std::lock_guard lock(mutex);
  EXPECT_EQ(why->kind, ErrorKind::timeout) << why->to_string();
}

TEST_F(RedisClient, XreadgroupBlockOnASecondConnectionWakesWhenAnotherConnectionXadds) {
  RedisServer server;
  auto& writer = connect(server.url());
  auto& reader = connect(server.url());
  ASSERT_TRUE(call(writer, {"XGROUP", "CREATE", "inbox", "g", "$", "MKSTREAM"}));
  auto blocked = std::async(std::launch::async, [&] {
    return call(reader, {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "8000", "STREAMS", "inbox", ">"}, 9000ms);
  });
  // The reader is blocked once the server counts it; each poll is one round trip.
  bool is_blocked = false;
  for (int i = 0; i < 2000 && !is_blocked; ++i)
    is_blocked = call(writer, {"INFO", "clients"})->str().find("blocked_clients:1") != std::string::npos;
  ASSERT_TRUE(is_blocked);
  const auto t0 = Clock::now();
  ASSERT_TRUE(call(writer, {"XADD", "inbox", "*", "call", "x"}));
  const auto woke = blocked.get();
  EXPECT_LT(Clock::now() - t0, 4s);
  ASSERT_TRUE(woke) << woke.to_string();
  EXPECT_EQ(woke->elements().size(), 1u);
  EXPECT_EQ(woke.value()[0][1][0][1].to_string(), R"(["call", "x"])");
  // A BLOCK that runs out answers nil, within the longer per-command deadline.
  EXPECT_TRUE(
      call(reader, {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "inbox", ">"}, 2000ms)->is_nil());
}

TEST_F(RedisClient, RedissWithTheTestCaWorksAndAWrongCaFailsWithADefiniteError) {
  ocpp_test::CertDir certs("ocpp-redis-tls");
  certs.issue("server", ocpp_test::CertDir::server(ocpp::tls::KeyType::ecdsa_p256));
  RedisServer server({.tls = RedisServer::Tls{certs.cert("server"), certs.key("server"), certs.cert("ca")}});
  auto good = options(server.url());
  good.tls.ca_file = certs.cert("ca");
  auto& c = connect(good);
  EXPECT_EQ(call(c, {"PING"})->str(), "PONG");
  EXPECT_EQ(call(c, {"SET", "k", "v"})->str(), "OK");

  auto bad = options(server.url());
  bad.tls.ca_file = certs.cert("foreign-ca");
  auto& refused = connect(bad);
  const auto t0 = Clock::now();
  const auto failed = call(refused, {"PING"}, 5000ms);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::tls) << failed.error().to_string();
  EXPECT_NE(failed.error().message.find("certificate"), std::string::npos) << failed.error().message;
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST_F(RedisClient, RedissPresentsTheClientCertificateWhenTheServerAsksForOne) {
  ocpp_test::CertDir certs("ocpp-redis-mtls");
  certs.issue("server", ocpp_test::CertDir::server(ocpp::tls::KeyType::ecdsa_p256));
  certs.issue("node", ocpp_test::CertDir::client("node-1"));
  RedisServer server(
      {.tls = RedisServer::Tls{certs.cert("server"), certs.key("server"), certs.cert("ca"), /*auth_clients=*/true}});
  auto with_cert = options(server.url());
  with_cert.tls.ca_file = certs.cert("ca");
  with_cert.tls.cert_file = certs.cert("node");
  with_cert.tls.key_file = certs.key("node");
  auto& c = connect(with_cert);
  EXPECT_EQ(call(c, {"PING"})->str(), "PONG");

  auto without = options(server.url());
  without.tls.ca_file = certs.cert("ca");
  without.command_timeout = 500ms;
  auto& refused = connect(without);
  EXPECT_FALSE(call(refused, {"PING"}));  // the server ends the handshake; when depends on TLS 1.2 or 1.3
}

TEST_F(RedisClient, StopFailsPendingCommandsWithDisconnected) {
  RedisServer server;
  auto& c = connect(server.url());
  ASSERT_TRUE(call(c, {"PING"}));
  Events failed;
  std::vector<Result> results;
  const auto keep = [&](Result r) {
    results.push_back(std::move(r));
    failed.bump();
  };
  c.command({"BLPOP", "nothing", "0"}, 10000ms, keep);  // holds the pipeline
  c.command({"GET", "k"}, 10000ms, keep);
  c.stop();
  ASSERT_TRUE(failed.wait_for(2));
  for (const auto& r : results) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::disconnected);
  }
  EXPECT_EQ(call(c, {"PING"}).error().kind, ErrorKind::disconnected);  // stopped
  c.start();
  EXPECT_TRUE(call(c, {"PING"}, 5000ms));
}

TEST_F(RedisClient, AThrowingCompletionDoesNotTakeDownTheIoContext) {
  RedisServer server;
  auto& c = connect(server.url());
  c.command({"PING"}, [](Result) { throw std::runtime_error("user bug"); });
  EXPECT_EQ(call(c, {"PING"})->str(), "PONG");
  EXPECT_EQ(logger_->count(ocpp::LogLevel::error, "user bug"), 1u);
}

TEST_F(RedisClient, AnEmptyCommandIsRefusedBeforeItCanUnpairTheReplies) {
  RedisServer server;
  auto& c = connect(server.url());
  EXPECT_THROW(c.command(std::vector<std::string>{}, [](Result) {}), std::invalid_argument);
  EXPECT_THROW(c.command({}, [](Result) {}), std::invalid_argument);
  EXPECT_EQ(call(c, {"ECHO", "still paired"})->str(), "still paired");
}

TEST_F(RedisClient, CommandsIssuedBeforeStartWaitForTheConnection) {
  RedisServer server;
  connections_.push_back(std::make_unique<Connection>(io_.get_executor(), options(server.url())));
  auto& c = *connections_.back();
  auto pending = std::async(std::launch::async, [&] { return call(c, {"PING"}); });
  c.start();
  EXPECT_EQ(pending.get()->str(), "PONG");
}

// ---- Sentinel ----------------------------------------------------------------------------------

class RedisSentinel : public RedisClient {
 protected:
static std::string sentinel_url(std::initializer_list<std::uint16_t> ports, const std::string& name = "mm",
                         const std::string& credentials = {}) {
  std::string url = "redis-sentinel://" + credentials;
  for (auto p : ports) url += (url.back() == '/' || url.back() == '@' ? "" : ",") + ("127.0.0.1:" + std::to_string(p));
  return url + "/" + name;
}

// A port nobody listens on: a server's, after it is gone.
static std::uint16_t dead_port() { return RedisServer().port(); }

// The port of the server a connection talks to, as that server says.
static std::string server_port(Connection& c) {
  auto r = call(c, {"CONFIG", "GET", "port"});
  return r && r->is_array() && r->elements().size() == 2 ? (*r)[1].str() : "?";
}

// Until the sentinel has seen the replica (it learns of replicas from the master's INFO, which it
// asks for every few seconds; there is no event to wait on).
void wait_until_sentinel_knows_a_replica(Connection& sentinel) {
  for (const auto end = Clock::now() + kWait; Clock::now() < end; std::this_thread::sleep_for(20ms)) {
    auto r = call(sentinel, {"SENTINEL", "REPLICAS", "mm"});
    if (r && r->is_array() && !r->elements().empty()) return;
  }
  FAIL() << "the sentinel never saw the replica";
}
  // A reply's text, or the error: a failed command fails the expectation instead of the test binary.
  static std::string text(const Result& r) { return r ? r->str() : "error: " + r.error().to_string(); }
  static void expect_replicated(Connection& c) {
    const auto r = call(c, {"WAIT", "1", "5000"}, 6000ms);
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(r->integer(), 1) << "the replica has all that was written";
  }
  // A connection whose first disconnect reason is kept.
  Connection& watched(const std::string& url) {
    connections_.push_back(std::make_unique<Connection>(io_.get_executor(), options(url)));
    auto& c = *connections_.back();
    c.on_disconnected([this](const Error& e) {
      std::lock_guard lock(why_mutex_);
      if (why_.empty()) why_ = e.message;
      lost_.bump();
    });
    c.start();
    return c;
  }
  std::string why() {
    std::lock_guard lock(why_mutex_);
    return why_;
  }

  // SENTINEL FAILOVER through `ask`; the watched connection `c` leaves the old master because of
  // +switch-master (not a lost connection) for `replica`.
  void expect_failover_heard(Connection& ask, Connection& c, const RedisServer& replica) {
    // The sentinel refuses (NOGOODSLAVE) until it has pinged the replica it learnt of: no event for that.
    std::string failover;
    for (const auto end = Clock::now() + kWait;
         (failover = text(call(ask, {"SENTINEL", "FAILOVER", "mm"}))) != "OK" && Clock::now() < end;)
      std::this_thread::sleep_for(50ms);
    ASSERT_EQ(failover, "OK");
    ASSERT_TRUE(lost_.wait_for(1, 20s)) << "the connection never left the old master";
    EXPECT_NE(why().find("failover: the master moved to 127.0.0.1:" + std::to_string(replica.port())), std::string::npos)
        << why();
    EXPECT_EQ(server_port(c), std::to_string(replica.port()));
  }

  Events lost_;
  std::mutex why_mutex_;
  std::string why_;
};

TEST_F(RedisSentinel, SentinelUrlSkipsADeadSentinelAndReachesTheMasterWithBothPasswords) {
  RedisServer master({.args = {"--requirepass", "mpw"}});
  auto o = RedisServer::sentinel_for(master, "mm", 60s);
  o.config += "sentinel auth-pass mm mpw\nrequirepass spw\n";
  RedisServer sentinel(o);
  auto options = this->options(sentinel_url({dead_port(), sentinel.port()}, "mm", ":mpw@"));
  options.sentinel_password = "spw";
  auto& c = connect(options);
  EXPECT_EQ(text(call(c, {"SET", "k", "v"})), "OK");
  EXPECT_EQ(server_port(c), std::to_string(master.port()));
  EXPECT_EQ(c.stats().master_changes, 0u);
}

TEST_F(RedisSentinel, SentinelsThatCannotNameTheMasterFailCommandsAtTheirDeadlineSayingWhy) {
  RedisServer master;
  RedisServer sentinel(RedisServer::sentinel_for(master, "mm", 60s));
  auto& c = watched(sentinel_url({dead_port(), sentinel.port()}, "other"));
  const auto r = call(c, {"PING"}, 500ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::disconnected) << "never sent";
  EXPECT_NE(why().find("no sentinel named the master other"), std::string::npos) << why();
  EXPECT_NE(why().find("cannot connect"), std::string::npos) << "the dead one: " << why();
  EXPECT_NE(why().find("does not know the name"), std::string::npos) << "the live one: " << why();
}

TEST_F(RedisSentinel, ASentinelNamingAReplicaIsRefusedByTheRoleCheck) {
  RedisServer master;
  RedisServer replica(RedisServer::replica_of(master));
  RedisServer sentinel(RedisServer::sentinel_for(replica, "mm", 60s));  // wrongly: a stale answer
  auto& c = watched(sentinel_url({sentinel.port()}));
  EXPECT_FALSE(call(c, {"SET", "k", "v"}, 500ms));
  EXPECT_FALSE(c.connected());
  EXPECT_NE(why().find("is not the master"), std::string::npos) << why();
}

TEST_F(RedisSentinel, AKilledMasterIsFollowedToThePromotedReplicaAndEveryCommandMeanwhileEndsDefinitely) {
  RedisServer master;
  RedisServer replica(RedisServer::replica_of(master));
  auto& direct = connect(master.url());
  expect_replicated(direct);
  RedisServer sentinel(RedisServer::sentinel_for(master, "mm"));
  wait_until_sentinel_knows_a_replica(connect(sentinel.url()));
  auto& c = connect(sentinel_url({sentinel.port()}));
  ASSERT_EQ(text(call(c, {"SET", "k", "before"})), "OK");
  expect_replicated(c);

  master.kill();
  int failed = 0;
  for (const auto end = Clock::now() + 20s;; ++failed) {
    ASSERT_LT(Clock::now(), end) << "no command succeeded after the failover";
    const auto r = call(c, {"INCR", "during"}, 1000ms);
    if (r) break;
    EXPECT_TRUE(r.error().kind == ErrorKind::disconnected || r.error().kind == ErrorKind::timeout)
        << r.error().to_string();
  }
  EXPECT_GT(failed, 0) << "the failover takes the sentinel's down-after time at least";
  EXPECT_EQ(server_port(c), std::to_string(replica.port()));
  EXPECT_EQ(text(call(c, {"GET", "k"})), "before") << "what was replicated survived";
  const auto role = call(c, {"ROLE"});
  ASSERT_TRUE(role) << role.error().to_string();
  EXPECT_EQ((*role)[0].str(), "master");
  EXPECT_EQ(c.stats().master_changes, 1u);
  EXPECT_EQ(logger_->count(ocpp::LogLevel::warn, "the master is now 127.0.0.1:" + std::to_string(replica.port())), 1u);
}

TEST_F(RedisSentinel, AManualFailoverMovesAnIdleConnectionThroughSwitchMaster) {
  RedisServer master;
  RedisServer replica(RedisServer::replica_of(master));
  auto& direct = connect(master.url());
  expect_replicated(direct);
  RedisServer sentinel(RedisServer::sentinel_for(master, "mm", 60s));
  auto& ask = connect(sentinel.url());
  wait_until_sentinel_knows_a_replica(ask);
  auto& c = watched(sentinel_url({sentinel.port()}));
  ASSERT_EQ(server_port(c), std::to_string(master.port()));

  expect_failover_heard(ask, c, replica);
  EXPECT_EQ(c.stats().master_changes, 1u);
}

// The sentinel an idle connection hears +switch-master from dies: it listens to the next one, so a
// failover run by that one still moves it at once.
TEST_F(RedisSentinel, AnIdleConnectionWhoseSentinelDiesHearsTheFailoverFromTheNextSentinel) {
  RedisServer master;
  RedisServer replica(RedisServer::replica_of(master));
  auto& direct = connect(master.url());
  expect_replicated(direct);
  RedisServer first(RedisServer::sentinel_for(master, "mm", 60s)), second(RedisServer::sentinel_for(master, "mm", 60s));
  auto& ask = connect(second.url());
  wait_until_sentinel_knows_a_replica(ask);
  auto& c = watched(sentinel_url({first.port(), second.port()}));
  ASSERT_EQ(server_port(c), std::to_string(master.port()));
  first.kill();

  expect_failover_heard(ask, c, replica);
}

}  // namespace
