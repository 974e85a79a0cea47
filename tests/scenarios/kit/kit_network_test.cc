// tests/scenarios/kit/kit_network_test.cc — the kit's network plumbing: a
// node's crash settled on the simulated network at the crash's virtual
// time, network faults in the coverage, the per-seed network swarm and
// stopping network faults.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "scenarios/kit/network_swarm.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"
#include "sim/network/sim_network.h"

namespace faultline::scenarios::kit {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(KitNetwork, ACrashNowMakesTheNodesMessagesInFlightVanishAtOnce) {
  World world(ScenarioOptions{.seed = 3});
  sim::net::NetworkFaultPlan plan;
  plan.latency.default_link = sim::net::LinkLatency::Fixed(5 * kMs);
  sim::net::SimNetwork network(world.scheduler(), {}, plan);
  world.coverage().WatchNetwork(network);
  Node sender(world, "n1");
  Node receiver(world, "n2");
  sender.AttachNetwork(network);
  receiver.AttachNetwork(network);
  int incarnations = 0;
  // Kept outside the fiber, as an object owned by the scenario would be: a
  // crash does not destroy it, and the next incarnation listens while the
  // dead endpoint still exists.
  std::unique_ptr<io::Endpoint> sender_endpoint;
  sender.SetMain([&](Life) {
    ++incarnations;
    auto endpoint = sender.Network().Listen("n1");  // a fresh endpoint every incarnation
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    sender_endpoint = std::move(*endpoint);
    ASSERT_TRUE(sender_endpoint->Send("n2", "from incarnation " + std::to_string(incarnations)).ok());
    world.scheduler().SleepFor(100 * kMs);
  });
  std::vector<std::string> received;
  receiver.SetMain([&](Life) {
    auto endpoint = receiver.Network().Listen("n2");
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    // Anything in flight at the crash would arrive at 5 ms.
    auto message = (*endpoint)->Receive(50 * kMs);
    if (message.ok()) received.push_back(message->payload);
  });
  receiver.Start();
  sender.Start();
  world.StartNemesis([&] {
    world.scheduler().SleepFor(1 * kMs);
    EXPECT_TRUE(sender.CrashNow("test crash", ""));
    // Down past the time the lost message would have arrived: only the
    // crash itself can have made it vanish.
    world.scheduler().SleepFor(10 * kMs);
    sender.Restart(Life::kWork);  // sends again: this one arrives at 16 ms
  });
  const ScenarioResult result = world.Run();
  EXPECT_TRUE(result.passed()) << result.run.detail;
  EXPECT_EQ(incarnations, 2);
  EXPECT_EQ(received, (std::vector<std::string>{"from incarnation 2"}));
  EXPECT_EQ(result.faults_injected.at("net_crash_vanish"), 1u);
  EXPECT_EQ(result.faults_injected.at("crash"), 1u);
}

TEST(KitNetworkSwarm, SameSeedSamePlanAndEveryKindAppearsAcrossSeeds) {
  const std::vector<sim::NodeId> nodes = {1, 2, 3};
  const int64_t horizon_ns = 40 * kMs;
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    sim::Prng a = sim::Prng::ForStream(seed, sim::Stream::kSwarm);
    sim::Prng b = sim::Prng::ForStream(seed, sim::Stream::kSwarm);
    const sim::net::NetworkFaultPlan plan = DrawNetworkSwarm(a, nodes, horizon_ns);
    const sim::net::NetworkFaultPlan again = DrawNetworkSwarm(b, nodes, horizon_ns);
    ASSERT_EQ(plan.rates.drop_ppm, again.rates.drop_ppm);
    ASSERT_EQ(plan.partition_rules.size(), again.partition_rules.size());
    ASSERT_EQ(plan.message_rules.size(), again.message_rules.size());
    seen.insert("latency" + std::to_string(static_cast<int>(plan.latency.default_link.kind)));
    if (plan.rates.drop_ppm > 0) seen.insert("drop");
    if (plan.rates.duplicate_ppm > 0) seen.insert("duplicate");
    if (plan.rates.reorder_ppm > 0) seen.insert("reorder");
    if (plan.rates.corrupt_ppm > 0) seen.insert("corrupt");
    if (plan.rates.delay_ppm > 0) seen.insert("delay");
    for (const auto& rule : plan.partition_rules) {
      EXPECT_GE(rule.start_ns, 0);
      EXPECT_LT(rule.start_ns, horizon_ns);
      EXPECT_GT(rule.end_ns, rule.start_ns);
      if (rule.spec.side_b.empty()) {
        seen.insert("isolation");
      } else if (rule.spec.side_a.size() + rule.spec.side_b.size() < nodes.size()) {
        seen.insert("bridge");
      } else {
        seen.insert("partition" + std::to_string(static_cast<int>(rule.spec.direction)));
      }
    }
    if (!plan.clog_rules.empty()) seen.insert("clog");
    for (const auto& rule : plan.message_rules) {
      EXPECT_NE(rule.from, rule.to);
      seen.insert(std::string(sim::net::MessageActionName(rule.action)));
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"bridge", "clog", "corrupt", "delay", "drop", "duplicate",
                                         "isolation", "latency1", "latency2", "latency3",
                                         "partition0", "partition1", "partition2", "reorder"}))
      << "plus every message action";
}

TEST(KitNetworkSwarm, StopNetworkFaultsHealsAndClearsTheFaults) {
  World world(ScenarioOptions{.seed = 9});
  sim::net::NetworkFaultPlan plan;
  plan.rates.drop_ppm = 1'000'000;
  plan.partition_rules.push_back({.spec = {.side_a = {1}}, .start_ns = 0, .end_ns = 100 * kMs});
  sim::net::SimNetwork network(world.scheduler(), {}, plan);
  network.Partition({.side_a = {2}});
  StopNetworkFaults(network);
  EXPECT_EQ(network.plan().rates.drop_ppm, 0u);
  EXPECT_TRUE(network.plan().partition_rules.empty());
  EXPECT_EQ(network.fault_stats().count(sim::net::NetFaultKind::kHeal), 2u);
}

}  // namespace
}  // namespace faultline::scenarios::kit
