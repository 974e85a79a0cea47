// tests/sim/network/sim_network_partition_test.cc — partitions (symmetric,
// one-way, node isolation; imperative and by rule), clogs (held, then
// released in a burst; imperative and by rule) and HealAll.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sim/network/sim_network.h"
#include "tests/sim/network/net_test_world.h"

namespace faultline::sim::net {
namespace {

using testing::kMs;
using testing::NetWorld;

NetworkFaultPlan FixedLatency(int64_t latency_ns) {
  NetworkFaultPlan plan;
  plan.latency.default_link = LinkLatency::Fixed(latency_ns);
  return plan;
}

// Three endpoints, one per node, and a probe of which directed links deliver.
struct Mesh {
  explicit Mesh(NetWorld& net_world)
      : world(net_world),
        a(world.Listen(world.n1, "a")),
        b(world.Listen(world.n2, "b")),
        c(world.Listen(world.n3, "c")) {}

  // "ab ba ..." for every link whose probe arrived.
  std::string Reachable() {
    io::Endpoint* endpoints[] = {a.get(), b.get(), c.get()};
    const char* names[] = {"a", "b", "c"};
    for (int from = 0; from < 3; ++from) {
      for (int to = 0; to < 3; ++to) {
        if (from == to) continue;
        EXPECT_TRUE(endpoints[from]->Send(names[to], std::string(names[from]) + names[to]).ok());
      }
    }
    std::string reachable;
    const NodeId nodes[] = {world.n1, world.n2, world.n3};
    std::vector<std::string> got;
    for (int to = 0; to < 3; ++to) {
      for (const auto& arrival : world.Drain(nodes[to], *endpoints[to], 10 * kMs)) {
        got.push_back(arrival.message.payload);
      }
    }
    std::sort(got.begin(), got.end());
    for (const std::string& link : got) reachable += (reachable.empty() ? "" : " ") + link;
    return reachable;
  }

  NetWorld& world;
  std::unique_ptr<io::Endpoint> a, b, c;
};

constexpr const char* kAll = "ab ac ba bc ca cb";

TEST(SimNetworkPartitionTest, SymmetricOneWayAndIsolation) {
  NetWorld world(FixedLatency(1 * kMs));
  Mesh mesh(world);
  EXPECT_EQ(mesh.Reachable(), kAll);

  const uint64_t symmetric = world.network.Partition({.side_a = {1}, .side_b = {2, 3}});
  EXPECT_EQ(mesh.Reachable(), "bc cb");
  world.network.Heal(symmetric);
  EXPECT_EQ(mesh.Reachable(), kAll);

  const uint64_t one_way = world.network.Partition(
      {.side_a = {1}, .side_b = {2}, .direction = PartitionDirection::kAToB});
  EXPECT_EQ(mesh.Reachable(), "ac ba bc ca cb");
  world.network.Heal(one_way);

  const uint64_t isolated = world.network.Partition({.side_a = {3}, .side_b = {}});
  EXPECT_EQ(mesh.Reachable(), "ab ba");
  world.network.Heal(isolated);
  EXPECT_EQ(mesh.Reachable(), kAll);

  const NetFaultStats& stats = world.network.fault_stats();
  EXPECT_EQ(stats.count(NetFaultKind::kPartition), 3u);
  EXPECT_EQ(stats.count(NetFaultKind::kHeal), 3u);
  EXPECT_EQ(stats.count(NetFaultKind::kPartitionDrop), 4u + 1u + 4u);
}

TEST(SimNetworkPartitionTest, MessagesInFlightLandWhenAPartitionBegins) {
  NetWorld world(FixedLatency(5 * kMs));
  Mesh mesh(world);
  ASSERT_TRUE(mesh.a->Send("b", "on the wire").ok());
  world.Advance(1 * kMs);
  world.network.Partition({.side_a = {1}, .side_b = {2}});
  ASSERT_TRUE(mesh.a->Send("b", "cut").ok());
  EXPECT_EQ(NetWorld::Payloads(world.Drain(world.n2, *mesh.b)),
            (std::vector<std::string>{"on the wire"}));
}

TEST(SimNetworkPartitionTest, RuleWindowCutsThenHeals) {
  // partition {n1} | {n2,n3} from t=5ms to t=40ms
  NetworkFaultPlan plan = FixedLatency(1 * kMs);
  plan.partition_rules.push_back(
      {.spec = {.side_a = {1}, .side_b = {2, 3}}, .start_ns = 5 * kMs, .end_ns = 40 * kMs});
  NetWorld world(plan);
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  for (int64_t t_ms : {1, 4, 5, 20, 39, 40, 41}) {
    world.Advance(t_ms * kMs - world.scheduler.NowNs());
    ASSERT_TRUE(a->Send("b", std::to_string(t_ms)).ok());
  }
  EXPECT_EQ(NetWorld::Payloads(world.Drain(world.n2, *b)),
            (std::vector<std::string>{"1", "4", "40", "41"}));
  const NetFaultStats& stats = world.network.fault_stats();
  EXPECT_EQ(stats.count(NetFaultKind::kPartitionDrop), 3u);
  EXPECT_EQ(stats.count(NetFaultKind::kPartition), 1u);
  EXPECT_EQ(stats.count(NetFaultKind::kHeal), 1u);
  bool announced = false;
  for (const TraceEvent& event : world.scheduler.trace().events()) {
    if (event.kind == TraceKind::kFault && event.text.find("partition rule 0: {1} | {2,3}") == 0) {
      announced = event.time_ns == 5 * kMs;
    }
  }
  EXPECT_TRUE(announced);
}

TEST(SimNetworkClogTest, HeldThenReleasedInABurst) {
  NetWorld world(FixedLatency(1 * kMs));
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  ASSERT_TRUE(a->Send("b", "m1").ok());  // in flight: held too
  const uint64_t clog = world.network.Clog({.from = {1}, .to = {2}});
  ASSERT_TRUE(a->Send("b", "m2").ok());
  world.Advance(3 * kMs);
  ASSERT_TRUE(a->Send("b", "m3").ok());
  ASSERT_TRUE(b->Send("a", "back").ok());  // the other direction flows
  world.Advance(10 * kMs);
  EXPECT_EQ(NetWorld::Payloads(world.Drain(world.n1, *a, 1 * kMs)), (std::vector<std::string>{"back"}));
  EXPECT_EQ(world.network.in_flight(), 3u);
  world.network.Release(clog);
  const int64_t released_ns = world.scheduler.NowNs();
  const auto arrivals = world.Drain(world.n2, *b);
  ASSERT_EQ(arrivals.size(), 3u);
  for (const auto& arrival : arrivals) EXPECT_EQ(arrival.at_ns, released_ns);  // one burst
  EXPECT_EQ(NetWorld::Payloads(arrivals), (std::vector<std::string>{"m1", "m2", "m3"}));
  const NetFaultStats& stats = world.network.fault_stats();
  EXPECT_EQ(stats.count(NetFaultKind::kClog), 1u);
  EXPECT_EQ(stats.count(NetFaultKind::kRelease), 1u);
  EXPECT_EQ(stats.count(NetFaultKind::kClogHeld), 3u);
}

TEST(SimNetworkClogTest, RuleWindowHoldsArrivalsUntilItsEnd) {
  NetworkFaultPlan plan = FixedLatency(1 * kMs);
  plan.clog_rules.push_back({.spec = {.from = {1}, .to = {2}}, .start_ns = 5 * kMs, .end_ns = 20 * kMs});
  NetWorld world(plan);
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  std::vector<int64_t> at_ms;
  // The receiver takes each message as it arrives.
  world.scheduler.StartFiberOn(world.n2, "receiver", [&] {
    for (int i = 0; i < 5; ++i) {
      auto message = b->Receive(100 * kMs);
      ASSERT_TRUE(message.ok()) << message.status();
      at_ms.push_back(world.scheduler.NowNs() / kMs);
    }
  });
  world.On(world.n1, [&] {
    for (int64_t t_ms : {2, 4, 10, 19, 25}) {
      world.scheduler.SleepUntil(t_ms * kMs);
      ASSERT_TRUE(a->Send("b", std::to_string(t_ms)).ok());
    }
  });
  // Sent at 19 ms: arrives at 20 ms, when the window has ended.
  EXPECT_EQ(at_ms, (std::vector<int64_t>{3, 20, 20, 20, 26}));
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kClogHeld), 2u);
}

TEST(SimNetworkClogTest, HealAllEndsEverythingNow) {
  NetworkFaultPlan plan = FixedLatency(1 * kMs);
  plan.clog_rules.push_back({.spec = {.from = {1}, .to = {2}}, .start_ns = 0, .end_ns = 100 * kMs});
  plan.partition_rules.push_back({.spec = {.side_a = {3}, .side_b = {}}, .start_ns = 0, .end_ns = 100 * kMs});
  NetWorld world(plan);
  Mesh mesh(world);
  world.network.Partition({.side_a = {2}, .side_b = {1}, .direction = PartitionDirection::kAToB});
  world.network.Clog({.from = {1}, .to = {3}});
  ASSERT_TRUE(mesh.a->Send("b", "held by the rule").ok());
  world.Advance(5 * kMs);
  world.network.HealAll();
  const int64_t healed_ns = world.scheduler.NowNs();
  const auto arrivals = world.Drain(world.n2, *mesh.b);
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_EQ(arrivals[0].at_ns, healed_ns);
  EXPECT_EQ(mesh.Reachable(), kAll);
}

}  // namespace
}  // namespace faultline::sim::net
