// The cluster's rules on nodes of one in-memory store, without sockets: each node runs on its own
// io_context that the test pumps by hand, and wall-clock time (deadlines, leases in the store) is
// moved by hand.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <optional>

#include "ocpp/cluster/memory_adapter.hpp"
#include "ocpp/cluster/node.hpp"

namespace {
using namespace ocpp;
using namespace ocpp::cluster;
namespace asio = boost::asio;
using std::chrono::milliseconds;

struct Wall {
  std::shared_ptr<std::atomic<std::int64_t>> now = std::make_shared<std::atomic<std::int64_t>>(1'800'000'000'000);
  WallClock clock() const {
    return [now = now] { return now->load(); };
  }
  void advance(milliseconds d) { *now += d.count(); }
};

struct TestNode {
  TestNode(std::shared_ptr<Adapter> adapter, std::string name, const Wall& wall, milliseconds ttl = milliseconds(5000),
           std::size_t max_inbox = 100) {
    ClusterOptions o;
    o.adapter = std::move(adapter);
    o.node_id = std::move(name);
    o.lease_ttl = ttl;
    o.max_inbox = max_inbox;
    o.wall_clock = wall.clock();
    ClusterNode::Events events;
    events.deliver = [this](RoutedCall call, std::function<void(RoutedReply)> reply) {
      delivered.push_back(call);
      replies.push_back(std::move(reply));
    };
    events.evict = [this](const std::string& identity) { evicted.push_back(identity); };
    events.fenced = [this] { ++fencings; };
    node = std::make_shared<ClusterNode>(io.get_executor(), std::move(o), std::move(events), null_logger());
    node->start();
  }
  // Runs what is ready, without waiting for timers.
  std::size_t pump() {
    io.restart();
    return io.poll();
  }
  // Answers the i-th delivered call with a CALLRESULT.
  void answer(std::size_t i, std::string payload = "{}") {
    replies.at(i)(RoutedReply{delivered.at(i).id, Outcome::result, std::move(payload), {}, {}});
  }

  asio::io_context io;
  std::shared_ptr<ClusterNode> node;
  std::vector<RoutedCall> delivered;
  std::vector<std::function<void(RoutedReply)>> replies;
  std::vector<std::string> evicted;
  int fencings = 0;
};

class ClusterNodeTest : public ::testing::Test {
 protected:
  void pump_all() {
    for (int i = 0; i < 100; ++i) {
      std::size_t ran = 0;
      for (auto* n : nodes) ran += n->pump();
      if (ran == 0) return;
    }
  }
  // The test's nodes, run until each has joined the store.
  void join(std::vector<TestNode*> all) {
    nodes = std::move(all);
    pump_all();
  }
  // `owner` claims `identity`, and the store has it.
  void claim(TestNode& owner, const std::string& identity, std::uint64_t generation = 1) {
    owner.node->claim(identity, generation);
    pump_all();
  }
  std::optional<Owner> owner_of(const std::string& identity) {
    std::optional<Owner> out;
    adapter->lookup({identity}, [&](Result<std::vector<std::optional<Owner>>> r) {
      out = std::get<std::vector<std::optional<Owner>>>(r).at(0);
    });
    return out;
  }
  // Routes a call from `from`; the returned slot is filled when it ends.
  std::shared_ptr<std::optional<RoutedReply>> route(TestNode& from, std::string identity, std::string message_id = {},
                                                    milliseconds timeout = milliseconds(10000)) {
    auto out = std::make_shared<std::optional<RoutedReply>>();
    from.node->route({std::move(identity), {}, "GetConfiguration", "{}", std::move(message_id), timeout},
                     [out](RoutedReply r) { *out = std::move(r); });
    return out;
  }

  // A and B joined, CP1 on A, and a request from B to CP1 that A has taken and not answered.
  std::shared_ptr<std::optional<RoutedReply>> taken_by(TestNode& a, TestNode& b) {
    join({&a, &b});
    claim(a, "CP1");
    auto reply = route(b, "CP1");
    pump_all();
    EXPECT_EQ(a.delivered.size(), 1u);
    return reply;
  }

  Wall wall;
  std::shared_ptr<MemoryAdapter> adapter = std::make_shared<MemoryAdapter>(wall.clock());
  std::vector<TestNode*> nodes;
};

TEST_F(ClusterNodeTest, ACallRoutedToTheOwningNodeIsDeliveredOnceAndItsAnswerComesBack) {
  TestNode a(adapter, "A", wall), b(adapter, "B", wall);
  join({&a, &b});
  claim(a, "CP1");
  ASSERT_TRUE(owner_of("CP1"));
  EXPECT_EQ(owner_of("CP1")->node, a.node->self());

  auto reply = route(b, "CP1");
  pump_all();
  ASSERT_EQ(a.delivered.size(), 1u);
  EXPECT_EQ(a.delivered[0].action, "GetConfiguration");
  EXPECT_EQ(a.delivered[0].caller, b.node->self());
  EXPECT_FALSE(*reply) << "no outcome before the station answers";
  a.answer(0, R"({"configurationKey":[]})");
  pump_all();
  ASSERT_TRUE(*reply);
  EXPECT_EQ((*reply)->outcome, Outcome::result);
  EXPECT_EQ((*reply)->payload, R"({"configurationKey":[]})");
  EXPECT_EQ(b.node->metrics().routed[static_cast<int>(Outcome::result)], 1u);
}

TEST_F(ClusterNodeTest, AnUnknownStationEndsNotConnectedWithoutQueueingAnything) {
  TestNode a(adapter, "A", wall), b(adapter, "B", wall);
  join({&a, &b});
  auto reply = route(b, "NOBODY");
  pump_all();
  ASSERT_TRUE(*reply);
  EXPECT_EQ((*reply)->outcome, Outcome::not_connected);
  EXPECT_TRUE(a.delivered.empty());
}

TEST_F(ClusterNodeTest, ARequestWhoseDeadlinePassedBeforeItRanIsNeverSentAndEndsExpired) {
  TestNode a(adapter, "A", wall), b(adapter, "B", wall);
  join({&a, &b});
  claim(a, "CP1");
  auto reply = route(b, "CP1", {}, milliseconds(1000));
  b.pump();  // queued in A's inbox; A has not run yet
  wall.advance(milliseconds(1500));
  pump_all();
  EXPECT_TRUE(a.delivered.empty()) << "a request past its deadline never reaches the station";
  ASSERT_TRUE(*reply);
  EXPECT_EQ((*reply)->outcome, Outcome::expired);
}

TEST_F(ClusterNodeTest, ASecondCallWithTheSameMessageIdWhileTheFirstIsInFlightEndsDuplicateAndIsNotSent) {
  TestNode a(adapter, "A", wall), b(adapter, "B", wall);
  join({&a, &b});
  claim(a, "CP1");
  auto first = route(b, "CP1", "m-1");
  auto retry = route(b, "CP1", "m-1");
  pump_all();
  ASSERT_TRUE(*retry);
  EXPECT_EQ((*retry)->outcome, Outcome::duplicate);
  ASSERT_EQ(a.delivered.size(), 1u);
  EXPECT_EQ(a.delivered[0].message_id, "m-1");
  a.answer(0);
  pump_all();
  ASSERT_TRUE(*first);
  EXPECT_EQ((*first)->outcome, Outcome::result);

  auto later = route(b, "CP1", "m-1");  // the first has ended: the key is free again
  pump_all();
  EXPECT_EQ(a.delivered.size(), 2u);
  EXPECT_FALSE(*later);
}

TEST_F(ClusterNodeTest, AFullInboxAnswersOverloadedWithoutQueueing) {
  TestNode a(adapter, "A", wall, milliseconds(5000), 2), b(adapter, "B", wall, milliseconds(5000), 2);
  join({&a, &b});
  claim(a, "CP1");
  auto r1 = route(b, "CP1"), r2 = route(b, "CP1"), r3 = route(b, "CP1");
  pump_all();
  EXPECT_EQ(a.delivered.size(), 2u);
  ASSERT_TRUE(*r3);
  EXPECT_EQ((*r3)->outcome, Outcome::overloaded);
  EXPECT_FALSE(*r1);
  EXPECT_FALSE(*r2);
}

TEST_F(ClusterNodeTest, CallsToAKilledNodeEndUnknownIfTakenAndNodeDownIfNotOnceItsLeaseEnds) {
  const auto ttl = milliseconds(60);
  TestNode a(adapter, "A", wall, ttl), b(adapter, "B", wall, ttl);
  join({&a, &b});
  claim(a, "CP1");
  auto taken = route(b, "CP1");
  pump_all();
  ASSERT_EQ(a.delivered.size(), 1u);
  adapter->crash(a.node->self());  // A is gone: it answers nothing and renews nothing
  nodes = {&b};
  auto queued = route(b, "CP1");
  b.pump();
  wall.advance(ttl * 2);  // A's lease has ended in the store
  // B learns it at its next renewal (every ttl / 3).
  for (int i = 0; i < 50 && !(*taken && *queued); ++i) b.io.run_one_for(ttl);
  ASSERT_TRUE(*taken);
  ASSERT_TRUE(*queued);
  EXPECT_EQ((*taken)->outcome, Outcome::unknown_outcome) << "A took it and may have run it";
  EXPECT_EQ((*queued)->outcome, Outcome::node_down) << "A never took it";

  auto after = route(b, "CP1");
  pump_all();
  ASSERT_TRUE(*after);
  EXPECT_EQ((*after)->outcome, Outcome::node_down) << "the claim points at a node whose lease ended";
}

// A store that fails over to a replica may have lost the record of a take (the request comes
// again) or of the answer too (the request comes again after it ran).
TEST_F(ClusterNodeTest, ARequestDeliveredAgainWhileItRunsNeverReachesTheStationTwiceAndItsAnswerStillReturns) {
  TestNode a(adapter, "A", wall), b(adapter, "B", wall);
  auto reply = taken_by(a, b);
  adapter->redeliver(a.node->self());
  pump_all();
  EXPECT_EQ(a.delivered.size(), 1u) << "the station got it once";
  EXPECT_FALSE(*reply) << "the second delivery answers nothing while the first runs";
  a.answer(0);
  pump_all();
  ASSERT_TRUE(*reply);
  EXPECT_EQ((*reply)->outcome, Outcome::result);
}

TEST_F(ClusterNodeTest, ARequestDeliveredAgainAfterItsAnswerWasLostEndsUnknownWithoutRunningAgain) {
  TestNode a(adapter, "A", wall), b(adapter, "B", wall);
  auto reply = taken_by(a, b);
  adapter->set_unreachable(true);
  a.answer(0);  // the answer is lost with the store
  pump_all();
  adapter->set_unreachable(false);
  EXPECT_FALSE(*reply);
  adapter->redeliver(a.node->self());
  pump_all();
  EXPECT_EQ(a.delivered.size(), 1u) << "it ran once";
  ASSERT_TRUE(*reply);
  EXPECT_EQ((*reply)->outcome, Outcome::unknown_outcome) << "it ran; its answer is gone";
}

// At a rejoin the store delivers again what the node took and never finished (a failover may have
// lost the answer). One the node no longer remembers may have run: unknown, and not run again.
TEST_F(ClusterNodeTest, ARequestOfItsOwnDeliveredAgainAtARejoinThatItNoLongerRemembersEndsUnknownWithoutRunning) {
  TestNode a(adapter, "A", wall), b(adapter, "B", wall);
  auto first = taken_by(a, b);
  constexpr std::size_t kForgetting = 10000;  // the node remembers the latest 10,000 requests it took
  for (std::size_t done = 0; done < kForgetting;) {
    for (int i = 0; i < 50; ++i) (void)route(b, "CP1");
    pump_all();
    for (; done < a.delivered.size() - 1; ++done) a.answer(done + 1);
    pump_all();
  }
  adapter->redeliver(a.node->self(), true);
  pump_all();
  EXPECT_EQ(a.delivered.size(), kForgetting + 1) << "not run again";
  ASSERT_TRUE(*first);
  EXPECT_EQ((*first)->outcome, Outcome::unknown_outcome);
}

TEST_F(ClusterNodeTest, ANewerClaimEvictsTheOlderOwnerAndItsLateReleaseLeavesTheNewClaim) {
  TestNode a(adapter, "A", wall), b(adapter, "B", wall);
  join({&a, &b});
  claim(a, "CP1", 7);
  const auto old_claim = *owner_of("CP1");
  claim(b, "CP1", 3);
  EXPECT_EQ(a.evicted, std::vector<std::string>{"CP1"});
  a.node->release("CP1", 7);  // the evicted socket closes late
  pump_all();
  bool released = true;
  adapter->release("CP1", old_claim, [&](Result<bool> r) { released = std::get<bool>(r); });
  EXPECT_FALSE(released) << "a release of an older claim is refused by the store";
  ASSERT_TRUE(owner_of("CP1"));
  EXPECT_EQ(owner_of("CP1")->node, b.node->self());
  EXPECT_GT(owner_of("CP1")->epoch, old_claim.epoch);
}

TEST_F(ClusterNodeTest, ANodeThatCannotRenewFencesAfterTheTtlEndsItsCallsAndRejoinsWhenItCan) {
  const auto ttl = milliseconds(60);
  TestNode a(adapter, "A", wall, ttl), b(adapter, "B", wall, ttl);
  join({&a, &b});
  claim(b, "CP2");
  auto pending = route(a, "CP2");
  pump_all();
  ASSERT_EQ(b.delivered.size(), 1u);
  adapter->set_unreachable(true);
  for (int i = 0; i < 50 && a.fencings == 0; ++i) a.io.run_one_for(ttl);
  EXPECT_EQ(a.fencings, 1);
  EXPECT_TRUE(a.node->fenced());
  ASSERT_TRUE(*pending);
  EXPECT_EQ((*pending)->outcome, Outcome::unknown_outcome) << "a fenced node cannot learn how its calls ended";
  auto refused = route(a, "CP2");
  a.pump();
  ASSERT_TRUE(*refused);
  EXPECT_EQ((*refused)->outcome, Outcome::unavailable) << "a fenced node routes nothing";

  adapter->set_unreachable(false);
  for (int i = 0; i < 50 && a.node->fenced(); ++i) a.io.run_one_for(ttl);
  EXPECT_FALSE(a.node->fenced());
}

TEST_F(ClusterNodeTest, AfterTheStoreLosesItsDataEachNodeClaimsItsStationsAgain) {
  const auto ttl = milliseconds(60);
  TestNode a(adapter, "A", wall, ttl);
  join({&a});
  claim(a, "CP1");
  ASSERT_TRUE(owner_of("CP1"));
  adapter->lose_data();
  EXPECT_FALSE(owner_of("CP1"));
  for (int i = 0; i < 50 && !owner_of("CP1"); ++i) a.io.run_one_for(ttl);
  ASSERT_TRUE(owner_of("CP1")) << "the renewal finds the lease gone, takes it again and reclaims";
  EXPECT_EQ(owner_of("CP1")->node, a.node->self());
}

TEST_F(ClusterNodeTest, ANodeWhoseLeaseCameBackLeavesAStationAnotherNodeClaimedMeanwhileAndClosesItHere) {
  const auto ttl = milliseconds(60);
  TestNode a(adapter, "A", wall, ttl), b(adapter, "B", wall, ttl);
  join({&a, &b});
  claim(a, "CP1");
  wall.advance(milliseconds(1000));  // both leases lapse in the store
  const auto renewed = b.node->metrics().renewals;
  for (int i = 0; i < 50 && b.node->metrics().renewals == renewed; ++i) b.io.run_one_for(ttl);
  b.node->claim("CP1", 1);  // the station reconnected to B; A's lease was gone, so nobody was told
  b.pump();  // B alone: A's renewal, due by now, must not run first
  ASSERT_TRUE(a.evicted.empty());
  for (int i = 0; i < 50 && a.evicted.empty(); ++i) a.io.run_one_for(ttl);
  EXPECT_EQ(a.evicted, std::vector<std::string>{"CP1"}) << "A's connection is the stale one";
  EXPECT_TRUE(b.evicted.empty()) << "A did not take the station back";
  ASSERT_TRUE(owner_of("CP1"));
  EXPECT_EQ(owner_of("CP1")->node, b.node->self());
}

}  // namespace
