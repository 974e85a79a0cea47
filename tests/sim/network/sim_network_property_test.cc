// tests/sim/network/sim_network_property_test.cc — RapidCheck properties of
// the simulated network under random fault rates and latencies: it never
// invents a message, delivers each at most twice (a duplicate), loses none
// unless a loss fault is on, corrupts none unless corruption is on, and its
// queue accounting returns to zero once everything is taken.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "sim/network/sim_network.h"
#include "tests/sim/network/net_test_world.h"

namespace faultline::sim::net {
namespace {

using testing::kMs;
using testing::NetWorld;

RC_GTEST_PROP(SimNetworkProperty, NeverInventsLosesOnlyWithFaultsAndDrains, ()) {
  const bool lossy = *rc::gen::arbitrary<bool>();
  NetworkFaultPlan plan;
  plan.latency.default_link =
      LinkLatency::LongTail(0, *rc::gen::inRange<int64_t>(0, 3 * kMs), 100'000, 2 * kMs);
  plan.rates.duplicate_ppm = *rc::gen::inRange<uint32_t>(0, 1'000'001);
  plan.rates.reorder_ppm = *rc::gen::inRange<uint32_t>(0, 1'000'001);
  plan.rates.delay_ppm = *rc::gen::inRange<uint32_t>(0, 1'000'001);
  plan.rates.delay_min_ns = 0;
  plan.rates.delay_max_ns = 5 * kMs;
  if (lossy) plan.rates.drop_ppm = *rc::gen::inRange<uint32_t>(0, 1'000'001);
  const int count = *rc::gen::inRange(1, 60);
  NetWorld world(plan, {}, *rc::gen::arbitrary<uint64_t>());
  auto a = world.Listen(world.n1, "a");
  auto b = world.Listen(world.n2, "b");
  for (int i = 0; i < count; ++i) {
    RC_ASSERT(a->Send("b", absl::StrCat("m", i)).ok());
    world.Advance(*rc::gen::inRange<int64_t>(0, kMs));
  }
  std::map<std::string, int> times_delivered;
  for (const auto& arrival : world.Drain(world.n2, *b, 200 * kMs)) {
    ++times_delivered[arrival.message.payload];
    RC_ASSERT(arrival.message.from == "a");
  }
  for (const auto& [payload, times] : times_delivered) {
    RC_ASSERT(payload.size() >= 2 && payload[0] == 'm');  // sent, and intact
    RC_ASSERT(std::stoi(payload.substr(1)) < count);
    RC_ASSERT(times <= 2);
  }
  if (!lossy) RC_ASSERT(times_delivered.size() == static_cast<size_t>(count));
  RC_ASSERT(world.network.in_flight() == 0u);
  RC_ASSERT(world.network.stats().delivered_corrupt == 0u);
  // The queue is empty again: a full window's worth can be sent.
  for (size_t i = 0; i < world.network.options().max_queued_messages_per_peer / 2; ++i) {
    RC_ASSERT(a->Send("b", "again").ok());
  }
}

}  // namespace
}  // namespace faultline::sim::net
