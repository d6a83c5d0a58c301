#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "ocpp/server/station_state.hpp"

using namespace ocpp;
using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

namespace {
const TimePoint t0 = TimePoint{} + 1000h;

struct FakeClock {
  TimePoint now = t0;
  Clock clock() {
    return [this] { return now; };
  }
};

boost::json::object object_with(std::string_view key, int value) {
  boost::json::object o;
  o[key] = value;
  return o;
}
}  // namespace

TEST(StationStore, AttachCreatesAConnectedStationWithTheInitialData) {
  FakeClock fake;
  StationStore store(2h, 100, fake.clock());
  auto a = store.attach("CP1", object_with("tenant", 7));
  ASSERT_TRUE(a.station);
  EXPECT_TRUE(a.created);
  EXPECT_EQ(a.station->identity, "CP1");
  EXPECT_EQ(a.station->data, object_with("tenant", 7));
  EXPECT_EQ(a.station->created, t0);
  EXPECT_EQ(a.station->last_seen.load(), t0);
  EXPECT_TRUE(a.station->connected.load());
  EXPECT_EQ(store.find("CP1"), a.station);
  EXPECT_EQ(store.find("CP2"), nullptr);
  EXPECT_EQ(store.size(), 1u);
}

TEST(StationStore, ReconnectWithinTheTtlKeepsTheStationAndItsData) {
  FakeClock fake;
  StationStore store(2h, 100, fake.clock());
  auto first = store.attach("CP1", object_with("seed", 1));
  first.station->data["transactions"] = 3;
  fake.now += 1h;
  EXPECT_TRUE(store.detach("CP1", first.generation));
  EXPECT_FALSE(first.station->connected.load());
  EXPECT_EQ(first.station->last_seen.load(), t0 + 1h);

  fake.now += 2h - 1ns;
  auto second = store.attach("CP1", object_with("seed", 2));
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.station, first.station);
  EXPECT_GT(second.generation, first.generation);
  // The application's data wins: `initial` only seeds a new station.
  EXPECT_EQ(second.station->data.at("seed"), 1);
  EXPECT_EQ(second.station->data.at("transactions"), 3);
  EXPECT_TRUE(second.station->connected.load());
  EXPECT_EQ(second.station->created, t0);
}

TEST(StationStore, ExpiresExactlyAtLastSeenPlusTtl) {
  FakeClock fake;
  StationStore store(2h, 100, fake.clock());
  auto a = store.attach("CP1", object_with("seed", 1));
  ASSERT_TRUE(store.detach("CP1", a.generation));

  fake.now = t0 + 2h - 1ns;
  EXPECT_EQ(store.find("CP1"), a.station);
  EXPECT_EQ(store.sweep(), 0u);
  EXPECT_EQ(store.size(), 1u);

  fake.now = t0 + 2h;
  EXPECT_EQ(store.find("CP1"), nullptr);  // gone even before the sweep
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.sweep(), 1u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.sweep(), 0u);
}

TEST(StationStore, ReconnectAfterExpiryStartsAFreshStationEvenBeforeASweep) {
  FakeClock fake;
  StationStore store(2h, 100, fake.clock());
  auto a = store.attach("CP1", object_with("seed", 1));
  a.station->data["transactions"] = 3;
  ASSERT_TRUE(store.detach("CP1", a.generation));
  fake.now += 2h;
  auto b = store.attach("CP1", object_with("seed", 2));
  EXPECT_TRUE(b.created);
  EXPECT_NE(b.station, a.station);
  EXPECT_EQ(b.station->data, object_with("seed", 2));
  EXPECT_EQ(b.station->created, t0 + 2h);
  EXPECT_EQ(store.size(), 1u);
  // The old connection closing again must not touch the new station.
  EXPECT_FALSE(store.detach("CP1", a.generation));
  EXPECT_TRUE(b.station->connected.load());
}

TEST(StationStore, ALateDetachOfASupersededConnectionIsIgnored) {
  FakeClock fake;
  StationStore store(2h, 100, fake.clock());
  auto gen1 = store.attach("CP1");
  fake.now += 1s;
  auto gen2 = store.attach("CP1");  // duplicate identity: the new socket evicts the old one
  ASSERT_EQ(gen2.station, gen1.station);
  ASSERT_NE(gen2.generation, gen1.generation);

  fake.now += 1s;
  EXPECT_FALSE(store.detach("CP1", gen1.generation));  // the old socket's close arrives late
  EXPECT_TRUE(gen2.station->connected.load());
  EXPECT_EQ(gen2.station->last_seen.load(), t0 + 1s);

  fake.now = t0 + 100h;
  EXPECT_EQ(store.sweep(), 0u);  // connected stations never expire
  EXPECT_TRUE(store.detach("CP1", gen2.generation));
  EXPECT_FALSE(gen2.station->connected.load());
  EXPECT_EQ(gen2.station->last_seen.load(), t0 + 100h);
  EXPECT_FALSE(store.detach("CP1", gen2.generation));  // a second close is a no-op
  EXPECT_FALSE(store.detach("CP2", gen2.generation));
}

TEST(StationStore, SweepCountsOnlyExpiredDisconnectedStations) {
  FakeClock fake;
  StationStore store(10min, 100, fake.clock());
  std::vector<StationStore::Attached> attached;
  for (int i = 0; i < 6; ++i) attached.push_back(store.attach("CP" + std::to_string(i)));
  // CP0..CP2 leave at t0, CP3 at t0 + 5 min, CP4 and CP5 stay.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store.detach("CP" + std::to_string(i), attached[i].generation));
  fake.now += 5min;
  ASSERT_TRUE(store.detach("CP3", attached[3].generation));

  fake.now = t0 + 10min;
  EXPECT_EQ(store.sweep(), 3u);
  EXPECT_EQ(store.size(), 3u);
  fake.now = t0 + 15min;
  EXPECT_EQ(store.sweep(), 1u);
  EXPECT_EQ(store.size(), 2u);
  fake.now = t0 + 1000h;
  EXPECT_EQ(store.sweep(), 0u);
  EXPECT_NE(store.find("CP4"), nullptr);
  EXPECT_NE(store.find("CP5"), nullptr);
}

TEST(StationStore, AtTheBoundTheOldestDisconnectedStationIsEvicted) {
  FakeClock fake;
  StationStore store(2h, 3, fake.clock());
  auto a = store.attach("A");
  auto b = store.attach("B");
  auto c = store.attach("C");
  // Disconnect in the order B, C, A: B has the oldest last_seen.
  fake.now += 1s;
  store.detach("B", b.generation);
  fake.now += 1s;
  store.detach("C", c.generation);
  fake.now += 1s;
  store.detach("A", a.generation);

  fake.now += 1s;
  auto d = store.attach("D");
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.find("B"), nullptr);
  EXPECT_NE(store.find("C"), nullptr);
  EXPECT_NE(store.find("A"), nullptr);

  auto e = store.attach("E");
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.find("C"), nullptr);
  EXPECT_NE(store.find("A"), nullptr);

  // A reconnect needs no room, so it evicts nothing.
  auto a2 = store.attach("A");
  EXPECT_FALSE(a2.created);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_NE(store.find("D"), nullptr);
  EXPECT_NE(store.find("E"), nullptr);
}

TEST(StationStore, AtTheBoundExpiredStationsGoFirst) {
  FakeClock fake;
  StationStore store(1h, 3, fake.clock());
  auto a = store.attach("A");
  auto b = store.attach("B");
  auto c = store.attach("C");
  store.detach("A", a.generation);
  store.detach("B", b.generation);
  fake.now += 1h;  // A and B expire together
  store.detach("C", c.generation);
  store.attach("D");
  EXPECT_EQ(store.size(), 2u);  // the sweep made room for two
  EXPECT_NE(store.find("C"), nullptr);
}

TEST(StationStore, ConnectedStationsAreNeverEvicted) {
  FakeClock fake;
  StationStore store(2h, 2, fake.clock());
  auto a = store.attach("A");
  auto b = store.attach("B");
  auto c = store.attach("C");  // all connected: the store goes past its bound
  EXPECT_TRUE(c.created);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_NE(store.find("A"), nullptr);
  EXPECT_NE(store.find("B"), nullptr);

  // Once stations disconnect, a new one brings the store back within the bound.
  store.detach("A", a.generation);
  store.detach("B", b.generation);
  store.attach("D");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.find("A"), nullptr);
  EXPECT_EQ(store.find("B"), nullptr);
  EXPECT_NE(store.find("C"), nullptr);
  EXPECT_NE(store.find("D"), nullptr);
}

TEST(StationStore, ZeroTtlForgetsOnDisconnect) {
  FakeClock fake;
  StationStore store(0ms, 10, fake.clock());
  auto a = store.attach("A");
  store.detach("A", a.generation);
  EXPECT_EQ(store.find("A"), nullptr);
  EXPECT_TRUE(store.attach("A").created);
}

TEST(StationStore, HugeTtlAndClockGoingBackwardsDoNotOverflow) {
  FakeClock fake;
  fake.now = TimePoint::max() - 1h;
  StationStore store(std::chrono::milliseconds::max(), 10, fake.clock());
  auto a = store.attach("A");
  store.detach("A", a.generation);
  fake.now = TimePoint::max();
  EXPECT_EQ(store.sweep(), 0u);
  EXPECT_NE(store.find("A"), nullptr);
  fake.now = TimePoint::min();
  EXPECT_EQ(store.sweep(), 0u);
  EXPECT_NE(store.find("A"), nullptr);
}

TEST(StationStore, ConcurrentAttachDetachFromManyThreads) {
  StationStore store(1h, 50);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string id = "CP" + std::to_string((i * 7 + t) % 64);
        auto attached = store.attach(id);
        attached.station->connected.load();
        if (i % 3 != 0) store.detach(id, attached.generation);
        if (i % 100 == 0) store.sweep();
        store.find(id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(store.size(), 64u);
}
