// tests/sim/disk/latency_spike_test.cc — latency spikes (FaultRates::
// latency_spike_ppm): a spiking op waits latency_spike_ns more in virtual
// time, on top of its latency model, and each spike is counted.
#include <gtest/gtest.h>

#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk::testing {
namespace {

TEST(LatencySpikeTest, EveryOpSpikesAtFullRate) {
  FaultPlan plan;
  plan.latency.write = LatencyModel::Fixed(1'000);
  plan.rates.latency_spike_ppm = 1'000'000;
  plan.rates.latency_spike_ns = 5'000'000;
  World world(plan);
  int64_t after_write_ns = -1;
  world.scheduler.StartFiberOn(world.node, "writer", [&] {
    auto file = world.fs().Open("f", io::OpenMode::kCreate).value();  // spikes: 1
    const int64_t before_ns = world.scheduler.NowNs();
    ASSERT_TRUE(file->Append(Bytes("x")).ok());                       // spikes: 2
    after_write_ns = world.scheduler.NowNs() - before_ns;
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_EQ(after_write_ns, 5'001'000);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kLatencySpike), 2u);
}

TEST(LatencySpikeTest, RateZeroNeverSpikes) {
  FaultPlan plan;
  plan.rates.latency_spike_ns = 5'000'000;
  World world(plan);
  world.scheduler.StartFiberOn(world.node, "writer", [&] {
    auto file = world.fs().Open("f", io::OpenMode::kCreate).value();
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(file->Append(Bytes("x")).ok());
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_EQ(world.scheduler.NowNs(), 0);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kLatencySpike), 0u);
}

TEST(LatencySpikeTest, SomeOpsSpikeAtAPartialRate) {
  FaultPlan plan;
  plan.rates.latency_spike_ppm = 100'000;
  plan.rates.latency_spike_ns = 1'000;
  World world(plan);
  world.scheduler.StartFiberOn(world.node, "writer", [&] {
    auto file = world.fs().Open("f", io::OpenMode::kCreate).value();
    for (int i = 0; i < 999; ++i) ASSERT_TRUE(file->Append(Bytes("x")).ok());
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  const uint64_t spikes = world.disk.stats().count(FaultKind::kLatencySpike);
  EXPECT_GT(spikes, 50u);
  EXPECT_LT(spikes, 150u);
  EXPECT_EQ(world.scheduler.NowNs(), static_cast<int64_t>(spikes) * 1'000);
}

}  // namespace
}  // namespace faultline::sim::disk::testing
