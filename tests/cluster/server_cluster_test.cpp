// Clustered servers (nodes sharing one in-memory store) with stations on real loopback sockets:
// calls reach a station on any node, its answers and CALLERRORs come back typed, broadcasts cross
// nodes, a station that moves evicts its old socket, and a node that loses its lease lets go of
// its stations.
#include "ocpp/cluster/memory_adapter.hpp"
#include "ocpp/messages/v16.hpp"
#include "wire/wire_fixture.hpp"

namespace ocpp_test {
namespace {
using cluster::MemoryAdapter;
using cluster::Outcome;
using cluster::RouteError;

class ServerClusterTest : public WireTest {
 protected:
  std::unique_ptr<Server> node(const std::string& name, milliseconds ttl = milliseconds(5000)) {
    ServerOptions o;
    o.health_endpoint = true;
    o.protocols = {"ocpp1.6"};
    o.cluster.adapter = adapter;
    o.cluster.node_id = name;
    o.cluster.lease_ttl = ttl;
    return make_server(o);
  }
  // Stations connect to a node and are then claimed in the store; calls from other nodes find them
  // once the claim is there.
  void wait_claimed(const std::string& identity, const std::string& node_name) {
    for (int i = 0; i < 2000; ++i) {
      std::promise<bool> p;
      adapter->lookup({identity}, [&](cluster::Result<std::vector<std::optional<cluster::Owner>>> r) {
        auto& owners = std::get<0>(r);
        p.set_value(owners.at(0) && owners.at(0)->node.name == node_name);
      });
      if (p.get_future().get()) return;
      std::this_thread::sleep_for(milliseconds(1));  // the claim has no event of its own to wait on
    }
    throw std::runtime_error(identity + " never claimed by " + node_name);
  }
  std::shared_ptr<Client> station(std::uint16_t port, const std::string& identity) {
    auto c = make_client(port, identity);
    c->handle("GetConfiguration", [identity](CallContext&) -> HandlerResult {
      return json::object{{"configurationKey", json::array{json::object{{"key", "Identity"}, {"readonly", true}, {"value", identity}}}}};
    });
    c->handle("Reset", [](CallContext&) -> HandlerResult {
      throw RpcError(ErrorCode::NotSupported, "no resets today", json::object{{"why", "testing"}});
    });
    get(c->connect(asio::use_future));
    return c;
  }

  std::shared_ptr<MemoryAdapter> adapter = std::make_shared<MemoryAdapter>();
};

TEST_F(ServerClusterTest, StationsAreCalledAcrossNodesUntypedAndTypedBothWaysCallErrorsArriveTypedAndMetricsCountTheOutcomes) {
  auto a = node("A"), b = node("B");
  const auto port_a = a->listen(0, "127.0.0.1");
  const auto port_b = b->listen(0, "127.0.0.1");
  auto cp = station(port_a, "CP1");
  wait_claimed("CP1", "A");
  EXPECT_EQ(b->get_client("CP1"), nullptr) << "not connected to B";

  auto result = get(b->send_to_client("CP1", "GetConfiguration", json::object{}, {}, asio::use_future));
  EXPECT_EQ(result.at("configurationKey").at(0).at("value"), "CP1");

  auto typed = get(b->send_to_client("CP1", v16::GetConfigurationRequest{}, {}, asio::use_future));
  ASSERT_TRUE(typed.configurationKey);
  EXPECT_EQ(typed.configurationKey->at(0).value, "CP1");

  try {
    get(b->send_to_client("CP1", v16::ResetRequest{v16::ResetType::Soft}, {}, asio::use_future));
    FAIL() << "expected the station's CALLERROR";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotSupported);
    EXPECT_EQ(e.description(), "no resets today");
    EXPECT_EQ(e.details().at("why"), "testing");
  }
  auto safe = get(b->safe_send_to_client("CP1", "GetConfiguration", json::object{}, {}, asio::use_future));
  EXPECT_TRUE(safe.has_value());
  // And the other way: a station on B, typed from A.
  auto cp2 = station(port_b, "CP2");
  wait_claimed("CP2", "B");
  auto other_way = get(a->send_to_client("CP2", v16::GetConfigurationRequest{}, {}, asio::use_future));
  ASSERT_TRUE(other_way.configurationKey);
  EXPECT_EQ(other_way.configurationKey->at(0).value, "CP2");

  const auto text = b->metrics()->prometheus();
  EXPECT_NE(text.find("ocpp_cluster_routed_calls_total{outcome=\"result\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ocpp_cluster_routed_calls_total{outcome=\"call_error\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ocpp_cluster_pending_calls 0\n"), std::string::npos) << text;
  EXPECT_NE(a->metrics()->prometheus().find("ocpp_cluster_delivered_total 4\n"), std::string::npos)
      << "node A sent the four routed calls to its station";
  EXPECT_NE(a->metrics()->prometheus().find("ocpp_cluster_routed_calls_total{outcome=\"result\"} 1\n"), std::string::npos);
}

TEST_F(ServerClusterTest, AnUnknownStationFailsAtOnceWithNotConnected) {
  auto a = node("A"), b = node("B");
  a->listen(0, "127.0.0.1");
  try {
    get(b->send_to_client("NOBODY", "GetConfiguration", json::object{}, {}, asio::use_future), milliseconds(1000));
    FAIL() << "expected RouteError";
  } catch (const RouteError& e) {
    EXPECT_EQ(e.outcome(), Outcome::not_connected);
  }
  auto safe = get(b->safe_send_to_client("NOBODY", "GetConfiguration", json::object{}, {}, asio::use_future));
  EXPECT_FALSE(safe.has_value());
}

TEST_F(ServerClusterTest, BroadcastBatchGivesEveryIdentityOnAnyNodeItsOutcomeAndBroadcastReachesOtherNodes) {
  auto a = node("A"), b = node("B");
  const auto port_a = a->listen(0, "127.0.0.1");
  const auto port_b = b->listen(0, "127.0.0.1");
  auto cp1 = station(port_a, "CP1");
  auto cp2 = station(port_b, "CP2");
  wait_claimed("CP1", "A");
  wait_claimed("CP2", "B");

  auto batch = get(b->broadcast_batch({"CP1", "CP2", "NOBODY"}, "GetConfiguration", json::object{}, {}, asio::use_future));
  std::sort(batch.delivered.begin(), batch.delivered.end());
  EXPECT_EQ(batch.delivered, (std::vector<std::string>{"CP1", "CP2"}));
  ASSERT_EQ(batch.failed.size(), 1u);
  EXPECT_EQ(batch.failed[0].first, "NOBODY");

  std::promise<void> cp1_got_it;
  cp1->handle("TriggerMessage", [&](CallContext&) -> HandlerResult {
    cp1_got_it.set_value();
    return json::object{{"status", "Accepted"}};
  });
  cp2->handle("TriggerMessage", [](CallContext&) -> HandlerResult { return json::object{{"status", "Accepted"}}; });
  auto local = get(b->broadcast("TriggerMessage", json::object{{"requestedMessage", "Heartbeat"}}, {}, asio::use_future));
  EXPECT_EQ(local.delivered, std::vector<std::string>{"CP2"}) << "the result lists this node's stations";
  get(cp1_got_it.get_future());  // the station on the other node got it too
}

TEST_F(ServerClusterTest, AStationThatMovesToAnotherNodeEvictsItsOldSocketWith4000AndCallsFollowIt) {
  auto a = node("A"), b = node("B");
  const auto port_a = a->listen(0, "127.0.0.1");
  const auto port_b = b->listen(0, "127.0.0.1");
  auto first = station(port_a, "CP1");
  std::promise<CloseResult> first_closed;
  first->on_close([&](const CloseResult& r) { first_closed.set_value(r); });
  wait_claimed("CP1", "A");

  auto second = station(port_b, "CP1");
  EXPECT_EQ(get(first_closed.get_future()).code, close_code::evicted);
  wait_claimed("CP1", "B");
  auto result = get(a->send_to_client("CP1", "GetConfiguration", json::object{}, {}, asio::use_future));
  EXPECT_EQ(result.at("configurationKey").at(0).at("value"), "CP1");
  for (int i = 0; i < 100 && a->get_client("CP1"); ++i) std::this_thread::sleep_for(milliseconds(1));
  EXPECT_EQ(a->get_client("CP1"), nullptr);
  wait_claimed("CP1", "B");  // the old socket's release did not delete the new claim
}

TEST_F(ServerClusterTest, AStationsStateFollowsItToTheNextNodeItConnectsTo) {
  auto a = node("A"), b = node("B");
  a->on_client([](const std::shared_ptr<ServerClient>& c) { c->station().data["tariff"] = "night"; });
  std::promise<json::object> seen_on_b;
  b->on_client([&](const std::shared_ptr<ServerClient>& c) { seen_on_b.set_value(c->station().data); });
  const auto port_a = a->listen(0, "127.0.0.1");
  const auto port_b = b->listen(0, "127.0.0.1");
  auto first = station(port_a, "CP1");
  wait_claimed("CP1", "A");
  get(first->close(CloseOptions{}, asio::use_future));
  for (int i = 0; i < 2000 && a->get_client("CP1"); ++i) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_EQ(a->get_client("CP1"), nullptr);

  auto second = station(port_b, "CP1");
  auto data = get(seen_on_b.get_future());
  EXPECT_EQ(data["tariff"], "night") << "saved by A when the station left, loaded by B before on_client";
}

TEST_F(ServerClusterTest, MessagesOnAChannelReachEverySubscribedNodeAndNoneAfterUnsubscribe) {
  auto a = node("A"), b = node("B");
  std::mutex m;
  std::vector<std::string> on_a, on_b;
  std::promise<void> a_got, b_got, marker;
  a->subscribe("tariffs", [&](const std::string& msg) {
    std::lock_guard lock(m);
    on_a.push_back(msg);
    if (on_a.size() == 1) a_got.set_value();
  });
  b->subscribe("tariffs", [&](const std::string& msg) {
    std::lock_guard lock(m);
    on_b.push_back(msg);
    if (on_b.size() == 1) b_got.set_value();
  });
  // At most once: a node that has not joined yet (its first lease) gets nothing, so ask again.
  auto a_future = a_got.get_future(), b_future = b_got.get_future();
  for (int i = 0; i < 500 && (a_future.wait_for(milliseconds(10)) != std::future_status::ready ||
                              b_future.wait_for(milliseconds(0)) != std::future_status::ready);
       ++i)
    b->publish("tariffs", "night");
  get(std::move(a_future));
  get(std::move(b_future));  // the publisher's own node too

  a->unsubscribe("tariffs");
  a->subscribe("marker", [&](const std::string&) { marker.set_value(); });
  b->publish("tariffs", "day");
  b->publish("marker", "after");
  get(marker.get_future());  // published after "day", delivered to A in order
  std::lock_guard lock(m);
  EXPECT_EQ(std::count(on_a.begin(), on_a.end(), "day"), 0) << "nothing on a channel A left";
  EXPECT_EQ(std::count(on_b.begin(), on_b.end(), "day"), 1);
  EXPECT_THROW(a->subscribe("ocpp.broadcast", [](const std::string&) {}), std::invalid_argument);
}

TEST_F(ServerClusterTest, ANodeThatCannotReachTheStoreWithinItsLeaseClosesItsStationsWith1012) {
  auto a = node("A", milliseconds(90)), b = node("B", milliseconds(90));
  const auto port_a = a->listen(0, "127.0.0.1");
  auto cp = station(port_a, "CP1");
  std::promise<CloseResult> closed;
  cp->on_close([&](const CloseResult& r) { closed.set_value(r); });
  wait_claimed("CP1", "A");
  adapter->set_unreachable(true);
  EXPECT_EQ(get(closed.get_future()).code, close_code::service_restart);
  adapter->set_unreachable(false);
}

}  // namespace
}  // namespace ocpp_test
