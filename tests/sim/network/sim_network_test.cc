// tests/sim/network/sim_network_test.cc — message faults (by rule and by
// rate), latency distributions, crashes, back-pressure and determinism of
// the simulated network. Partitions and clogs: sim_network_partition_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/io/errors.h"
#include "sim/network/sim_network.h"
#include "tests/sim/network/net_test_world.h"

namespace faultline::sim::net {
namespace {

using testing::Arrival;
using testing::kMs;
using testing::NetWorld;

NetworkFaultPlan FixedLatency(int64_t latency_ns) {
  NetworkFaultPlan plan;
  plan.latency.default_link = LinkLatency::Fixed(latency_ns);
  return plan;
}

NetworkFaultPlan WithRule(MessageRule rule) {
  NetworkFaultPlan plan = FixedLatency(1 * kMs);
  plan.message_rules.push_back(rule);
  return plan;
}

// Sends "m1".."mN" from n1's endpoint to n2's and returns what n2 receives.
std::vector<Arrival> SendNumbered(NetWorld& world, int count) {
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  for (int i = 1; i <= count; ++i) EXPECT_TRUE(a->Send("b", absl::StrCat("m", i)).ok());
  return world.Drain(world.n2, *b);
}

TEST(SimNetworkRuleTest, DropsTheNthMessageOfAPair) {
  NetWorld world(WithRule({.from = 1, .to = 2, .nth = 3, .action = MessageAction::kDrop}));
  const auto arrivals = SendNumbered(world, 5);
  EXPECT_EQ(NetWorld::Payloads(arrivals), (std::vector<std::string>{"m1", "m2", "m4", "m5"}));
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kDrop), 1u);
}

TEST(SimNetworkRuleTest, RulesCountPerDirectedPair) {
  // The rule names n2 -> n1: messages n1 -> n2 do not count towards it.
  NetWorld world(WithRule({.from = 2, .to = 1, .nth = 1, .action = MessageAction::kDrop}));
  EXPECT_EQ(SendNumbered(world, 2).size(), 2u);
  EXPECT_EQ(world.network.fault_stats().ToString(), "");
}

TEST(SimNetworkRuleTest, DuplicatesAMessage) {
  NetWorld world(WithRule({.from = 1, .to = 2, .nth = 2, .action = MessageAction::kDuplicate}));
  const auto payloads = NetWorld::Payloads(SendNumbered(world, 3));
  EXPECT_EQ(std::multiset<std::string>(payloads.begin(), payloads.end()),
            (std::multiset<std::string>{"m1", "m2", "m2", "m3"}));
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kDuplicate), 1u);
}

TEST(SimNetworkRuleTest, DelaysAMessage) {
  NetWorld world(WithRule({.from = 1, .to = 2, .nth = 1, .action = MessageAction::kDelay,
                           .delay_ns = 30 * kMs}));
  const auto arrivals = SendNumbered(world, 2);
  ASSERT_EQ(arrivals.size(), 2u);
  EXPECT_EQ(arrivals[0].message.payload, "m2");
  EXPECT_EQ(arrivals[0].at_ns, 1 * kMs);
  EXPECT_EQ(arrivals[1].message.payload, "m1");
  EXPECT_EQ(arrivals[1].at_ns, 31 * kMs);
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kDelay), 1u);
}

TEST(SimNetworkRuleTest, CorruptsOneBitAndSaysSo) {
  NetWorld world(WithRule({.from = 1, .to = 2, .nth = 1, .action = MessageAction::kCorrupt}));
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  const std::string sent = "a payload of some length";
  ASSERT_TRUE(a->Send("b", sent).ok());
  const auto arrivals = world.Drain(world.n2, *b);
  ASSERT_EQ(arrivals.size(), 1u);
  const std::string& got = arrivals[0].message.payload;
  ASSERT_EQ(got.size(), sent.size());
  int flipped_bits = 0;
  for (size_t i = 0; i < sent.size(); ++i) flipped_bits += __builtin_popcount(static_cast<uint8_t>(sent[i] ^ got[i]));
  EXPECT_EQ(flipped_bits, 1);
  EXPECT_EQ(world.network.stats().delivered_corrupt, 1u);
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kCorrupt), 1u);
}

TEST(SimNetworkRuleTest, AnEmptyPayloadCannotBeCorrupted) {
  NetWorld world(WithRule({.from = 1, .to = 2, .nth = 1, .action = MessageAction::kCorrupt}));
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  ASSERT_TRUE(a->Send("b", "").ok());
  const auto arrivals = world.Drain(world.n2, *b);
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_EQ(arrivals[0].message.payload, "");
  EXPECT_EQ(world.network.stats().delivered_corrupt, 0u);
}

TEST(SimNetworkRuleTest, ReorderOvertakesAMessageInFlight) {
  NetWorld world(WithRule({.from = 1, .to = 2, .nth = 3, .action = MessageAction::kReorder}));
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  ASSERT_TRUE(a->Send("b", "m1").ok());
  world.Advance(100'000);
  ASSERT_TRUE(a->Send("b", "m2").ok());
  world.Advance(100'000);
  ASSERT_TRUE(a->Send("b", "m3").ok());  // overtakes m1 or m2, both still in flight
  const auto payloads = NetWorld::Payloads(world.Drain(world.n2, *b));
  ASSERT_EQ(payloads.size(), 3u);
  EXPECT_NE(payloads, (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(std::set<std::string>(payloads.begin(), payloads.end()),
            (std::set<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kReorder), 1u);
}

TEST(SimNetworkRuleTest, ReorderWithNothingInFlightChangesNothing) {
  NetWorld world(WithRule({.from = 1, .to = 2, .nth = 1, .action = MessageAction::kReorder}));
  EXPECT_EQ(NetWorld::Payloads(SendNumbered(world, 1)), (std::vector<std::string>{"m1"}));
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kReorder), 0u);
}

// --- rates -------------------------------------------------------------------------

TEST(SimNetworkRateTest, EveryRateAtItsExtreme) {
  struct Case {
    NetFaultRates rates;
    NetFaultKind kind;
    size_t delivered;
  };
  const Case cases[] = {
      {{.drop_ppm = 1'000'000}, NetFaultKind::kDrop, 0},
      {{.duplicate_ppm = 1'000'000}, NetFaultKind::kDuplicate, 20},
      {{.corrupt_ppm = 1'000'000}, NetFaultKind::kCorrupt, 10},
      {{.delay_ppm = 1'000'000, .delay_min_ns = 5 * kMs, .delay_max_ns = 9 * kMs},
       NetFaultKind::kDelay, 10},
  };
  for (const Case& c : cases) {
    NetworkFaultPlan plan = FixedLatency(1 * kMs);
    plan.rates = c.rates;
    NetWorld world(plan);
    const auto arrivals = SendNumbered(world, 10);
    EXPECT_EQ(arrivals.size(), c.delivered) << NetFaultKindName(c.kind);
    EXPECT_EQ(world.network.fault_stats().count(c.kind), 10u) << NetFaultKindName(c.kind);
    for (const Arrival& arrival : arrivals) {
      if (c.kind == NetFaultKind::kDelay) {
        EXPECT_GE(arrival.at_ns, 6 * kMs);
        EXPECT_LE(arrival.at_ns, 10 * kMs);
      }
    }
    if (c.kind == NetFaultKind::kCorrupt) {
      EXPECT_EQ(world.network.stats().delivered_corrupt, 10u);
    }
  }
}

TEST(SimNetworkRateTest, ReorderRateReordersALink) {
  NetworkFaultPlan plan = FixedLatency(10 * kMs);
  plan.rates.reorder_ppm = 500'000;
  NetWorld world(plan);
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(a->Send("b", absl::StrCat(i)).ok());
    world.Advance(100'000);
  }
  const auto payloads = NetWorld::Payloads(world.Drain(world.n2, *b));
  ASSERT_EQ(payloads.size(), 20u);
  EXPECT_FALSE(std::is_sorted(payloads.begin(), payloads.end(),
                              [](const std::string& x, const std::string& y) { return std::stoi(x) < std::stoi(y); }));
  EXPECT_GT(world.network.fault_stats().count(NetFaultKind::kReorder), 0u);
}

// --- latency -----------------------------------------------------------------------

TEST(SimNetworkLatencyTest, FixedUniformAndLongTail) {
  {
    NetWorld world(FixedLatency(3 * kMs));
    for (const Arrival& arrival : SendNumbered(world, 5)) EXPECT_EQ(arrival.at_ns, 3 * kMs);
  }
  {
    NetworkFaultPlan plan;
    plan.latency.default_link = LinkLatency::Uniform(1 * kMs, 2 * kMs);
    NetWorld world(plan);
    std::set<int64_t> times;
    for (const Arrival& arrival : SendNumbered(world, 50)) {
      EXPECT_GE(arrival.at_ns, 1 * kMs);
      EXPECT_LE(arrival.at_ns, 2 * kMs);
      times.insert(arrival.at_ns);
    }
    EXPECT_GT(times.size(), 10u);
  }
  {
    NetworkFaultPlan plan;
    plan.latency.default_link = LinkLatency::LongTail(1 * kMs, 2 * kMs, 200'000, 50 * kMs);
    NetWorld world(plan);
    int tail = 0;
    for (const Arrival& arrival : SendNumbered(world, 200)) {
      EXPECT_GE(arrival.at_ns, 1 * kMs);
      tail += arrival.at_ns > 2 * kMs ? 1 : 0;
    }
    EXPECT_GT(tail, 10);
    EXPECT_LT(tail, 100);
  }
}

TEST(SimNetworkLatencyTest, PerLinkOverride) {
  NetworkFaultPlan plan = FixedLatency(1 * kMs);
  plan.latency.overrides.push_back({.from = 1, .to = 2, .latency = LinkLatency::Fixed(7 * kMs)});
  NetWorld world(plan);
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  auto c = world.Listen(world.n3, "c");
  auto latency_of = [&](io::Endpoint& from, const io::Address& to, NodeId to_node, io::Endpoint& receiver) {
    const int64_t sent_ns = world.scheduler.NowNs();
    EXPECT_TRUE(from.Send(to, "probe").ok());
    return world.Drain(to_node, receiver).at(0).at_ns - sent_ns;
  };
  EXPECT_EQ(latency_of(*a, "b", world.n2, *b), 7 * kMs);
  EXPECT_EQ(latency_of(*a, "c", world.n3, *c), 1 * kMs);
  EXPECT_EQ(latency_of(*b, "a", world.n1, *a), 1 * kMs);
}

// --- crashes -----------------------------------------------------------------------

TEST(SimNetworkCrashTest, ReceiverCrashLosesItsQueueAndTheRestartGetsAFreshEndpoint) {
  NetWorld world(FixedLatency(1 * kMs));
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  ASSERT_TRUE(a->Send("b", "arrived, not taken").ok());
  world.Advance(2 * kMs);
  ASSERT_TRUE(a->Send("b", "in flight").ok());
  world.scheduler.Crash(world.n2, "test");
  world.network.Crash(world.n2);
  EXPECT_TRUE(io::IsNodeDead(b->Receive(0).status()));
  EXPECT_TRUE(io::IsNodeDead(b->Send("a", "x")));
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kCrashVanish), 2u);
  EXPECT_EQ(world.network.in_flight(), 0u);
  world.scheduler.Restart(world.n2, "main", [] {});
  world.Advance(1);
  auto fresh = world.Listen(world.n2, "b");  // the old endpoint still exists, dead
  ASSERT_TRUE(fresh != nullptr);
  ASSERT_TRUE(a->Send("b", "after restart").ok());
  EXPECT_EQ(NetWorld::Payloads(world.Drain(world.n2, *fresh)),
            (std::vector<std::string>{"after restart"}));
  b.reset();  // destroying the dead endpoint leaves the fresh binding alone
  ASSERT_TRUE(a->Send("b", "still bound").ok());
  EXPECT_EQ(world.Drain(world.n2, *fresh).size(), 1u);
}

TEST(SimNetworkCrashTest, SenderCrashLosesWhatIsInFlightButNotWhatArrived) {
  NetWorld world(FixedLatency(1 * kMs));
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  ASSERT_TRUE(a->Send("b", "arrived before the crash").ok());
  world.Advance(2 * kMs);
  ASSERT_TRUE(a->Send("b", "in flight at the crash").ok());
  world.scheduler.Crash(world.n1, "test");
  world.network.Crash(world.n1);
  EXPECT_EQ(NetWorld::Payloads(world.Drain(world.n2, *b)),
            (std::vector<std::string>{"arrived before the crash"}));
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kCrashVanish), 1u);
}

TEST(SimNetworkCrashTest, ACrashTheNetworkWasNotToldOfIsSettledAtItsNextCall) {
  NetWorld world(FixedLatency(1 * kMs));
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  ASSERT_TRUE(a->Send("b", "in flight").ok());
  world.scheduler.Crash(world.n1, "test");  // no SimNetwork::Crash
  EXPECT_TRUE(world.Drain(world.n2, *b).empty());
  EXPECT_TRUE(io::IsNodeDead(a->Send("b", "x")));
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kCrashVanish), 1u);
}

TEST(SimNetworkCrashTest, CrashCalledBeforeTheSchedulerCrashCountsOnce) {
  NetWorld world(FixedLatency(1 * kMs));
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  ASSERT_TRUE(a->Send("b", "in flight").ok());
  world.network.Crash(world.n1);
  world.scheduler.Crash(world.n1, "test");
  world.network.Crash(world.n1);
  EXPECT_TRUE(world.Drain(world.n2, *b).empty());
  EXPECT_EQ(world.network.fault_stats().count(NetFaultKind::kCrashVanish), 1u);
}

// --- bounds and errors -------------------------------------------------------------

TEST(SimNetworkBoundsTest, FullQueueIsResourceExhaustedUntilTheReceiverTakes) {
  NetworkOptions options;
  options.max_queued_messages_per_peer = 3;
  NetWorld world(FixedLatency(1 * kMs), options);
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  auto c = world.Listen(world.n3, "c");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a->Send("b", "x").ok());
  EXPECT_TRUE(absl::IsResourceExhausted(a->Send("b", "x")));
  EXPECT_TRUE(a->Send("c", "other peer").ok());
  EXPECT_EQ(world.network.stats().rejected_queue_full, 1u);
  world.On(world.n2, [&] { EXPECT_TRUE(b->Receive(10 * kMs).ok()); });
  EXPECT_TRUE(a->Send("b", "room again").ok());
}

TEST(SimNetworkBoundsTest, ByteBoundAndBadArguments) {
  NetworkOptions options;
  options.max_message_bytes = 100;
  options.max_queued_bytes_per_peer = 250;
  NetWorld world(FixedLatency(1 * kMs), options);
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  EXPECT_TRUE(absl::IsInvalidArgument(a->Send("b", std::string(101, 'x'))));
  EXPECT_TRUE(a->Send("b", std::string(100, 'x')).ok());
  EXPECT_TRUE(a->Send("b", std::string(100, 'x')).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(a->Send("b", std::string(51, 'x'))));
  EXPECT_TRUE(a->Send("b", std::string(50, 'x')).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(b->Receive(-1).status()));
  world.On(world.n1, [&] {
    EXPECT_TRUE(absl::IsInvalidArgument(world.network.Listen("").status()));
  });
}

TEST(SimNetworkBoundsTest, ADuplicateNeverPassesTheBound) {
  NetworkOptions options;
  options.max_queued_messages_per_peer = 2;
  NetworkFaultPlan plan = FixedLatency(1 * kMs);
  plan.rates.duplicate_ppm = 1'000'000;
  NetWorld world(plan, options);
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  ASSERT_TRUE(a->Send("b", "one").ok());  // and its copy: the queue is full
  EXPECT_TRUE(absl::IsResourceExhausted(a->Send("b", "two")));
  EXPECT_EQ(world.network.in_flight(), 2u);
}

TEST(SimNetworkBoundsTest, AnEndpointThatOutlivesItsNetworkFailsCleanly) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  auto network = std::make_unique<SimNetwork>(scheduler);
  auto listened = network->Listen("a");
  ASSERT_TRUE(listened.ok());
  std::unique_ptr<io::Endpoint> endpoint = std::move(*listened);
  network.reset();
  EXPECT_TRUE(absl::IsFailedPrecondition(endpoint->Send("a", "x")));
  EXPECT_TRUE(absl::IsFailedPrecondition(endpoint->Receive(0).status()));
}

// --- determinism -------------------------------------------------------------------

uint64_t RunChaos(uint64_t seed) {
  NetworkFaultPlan plan;
  plan.latency.default_link = LinkLatency::LongTail(100'000, 900'000, 50'000, 5 * kMs);
  plan.rates = {.drop_ppm = 100'000, .duplicate_ppm = 100'000, .reorder_ppm = 200'000,
                .corrupt_ppm = 100'000, .delay_ppm = 100'000, .delay_min_ns = kMs,
                .delay_max_ns = 4 * kMs};
  plan.partition_rules.push_back({.spec = {.side_a = {1}, .side_b = {}}, .start_ns = 2 * kMs,
                                  .end_ns = 4 * kMs});
  plan.clog_rules.push_back({.spec = {.from = {2}, .to = {3}}, .start_ns = 1 * kMs, .end_ns = 6 * kMs});
  NetWorld world(plan, {}, seed);
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  auto c = world.Listen(world.n3, "c");
  for (int i = 0; i < 40; ++i) {
    EXPECT_TRUE(a->Send(i % 2 == 0 ? "b" : "c", absl::StrCat("from a ", i)).ok());
    EXPECT_TRUE(b->Send("c", absl::StrCat("from b ", i)).ok());
    world.Advance(200'000);
  }
  world.Drain(world.n2, *b);
  world.Drain(world.n3, *c);
  return world.scheduler.trace().hash();
}

TEST(SimNetworkDeterminismTest, SameSeedSameTraceHash) {
  EXPECT_EQ(RunChaos(42), RunChaos(42));
  EXPECT_NE(RunChaos(42), RunChaos(43));
}

}  // namespace
}  // namespace faultline::sim::net
