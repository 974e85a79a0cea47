// tests/sim/scheduler/node_clock_test.cc — per-node clocks: the conversion
// both ways, timers on a drifting node firing at the right virtual times,
// nodes without a clock untouched, and the same seed giving the same trace.
#include "sim/scheduler/node_clock.h"

#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "sim/scheduler/scheduler.h"

namespace faultline::sim {
namespace {

constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

TEST(NodeClockTest, LocalTimeIsOffsetPlusDriftedVirtualTime) {
  const NodeClock fast{.offset_ns = 1'000, .drift_ppm = 100'000};  // 10% fast
  EXPECT_EQ(fast.LocalAt(0), 1'000);
  EXPECT_EQ(fast.LocalAt(1'000'000), 1'000 + 1'100'000);
  const NodeClock slow{.offset_ns = 0, .drift_ppm = -250'000};  // 25% slow
  EXPECT_EQ(slow.LocalAt(4'000'000), 3'000'000);
  EXPECT_EQ(slow.LocalAt(3), 2);  // floor(-0.75) = -1
  EXPECT_EQ(fast.LocalAt(kNoDeadline), kNoDeadline);  // saturates
}

TEST(NodeClockTest, VirtualAtIsTheFirstVirtualTimeTheLocalClockReaches) {
  const NodeClock fast{.offset_ns = 1'000, .drift_ppm = 100'000};
  EXPECT_EQ(fast.VirtualAt(1'101'000), 1'000'000);
  EXPECT_EQ(fast.VirtualAt(500), 0);  // already past
  EXPECT_EQ(fast.VirtualAt(kNoDeadline), kNoDeadline);
  const NodeClock slow{.offset_ns = 0, .drift_ppm = -250'000};
  EXPECT_EQ(slow.VirtualAt(3'000'000), 4'000'000);
}

RC_GTEST_PROP(NodeClockTest, VirtualAtInvertsLocalAt, ()) {
  const NodeClock clock{
      .offset_ns = *rc::gen::inRange<int64_t>(0, int64_t{1} << 40),
      .drift_ppm = *rc::gen::inRange<int64_t>(-NodeClock::kMaxDriftPpm, NodeClock::kMaxDriftPpm + 1)};
  const int64_t local_ns = *rc::gen::inRange<int64_t>(0, int64_t{1} << 50);
  const int64_t t = clock.VirtualAt(local_ns);
  RC_ASSERT(clock.LocalAt(t) >= local_ns);
  // (RC_ASSERT does not short-circuit ||.)
  if (t > 0) RC_ASSERT(clock.LocalAt(t - 1) < local_ns);
  const int64_t virtual_ns = *rc::gen::inRange<int64_t>(0, int64_t{1} << 50);
  RC_ASSERT(clock.LocalAt(virtual_ns + 1) >= clock.LocalAt(virtual_ns));  // never back
}

// A fiber on `node` sleeps `sleeps` in turn (on its node's clock); returns
// the virtual times it woke at, and what its clock read then.
struct Wakes {
  std::vector<int64_t> virtual_ns;
  std::vector<int64_t> local_ns;
};
Wakes SleepOn(const NodeClock& clock, const std::vector<int64_t>& sleeps, uint64_t seed = 1) {
  Scheduler scheduler(SchedulerOptions{.seed = seed});
  const NodeId node = scheduler.AddNode("n1");
  scheduler.SetNodeClock(node, clock);
  Wakes wakes;
  scheduler.StartFiberOn(node, "sleeper", [&] {
    for (int64_t sleep_ns : sleeps) {
      scheduler.SleepFor(sleep_ns);
      wakes.virtual_ns.push_back(scheduler.VirtualNowNs());
      wakes.local_ns.push_back(scheduler.NowNs());
    }
  });
  EXPECT_TRUE(scheduler.Run().ok());
  return wakes;
}

TEST(NodeClockTest, TimersOnAFastNodeFireEarlierInVirtualTime) {
  // 25% fast: 1 ms on the node's clock is 0.8 ms of virtual time.
  const Wakes wakes = SleepOn(NodeClock{.offset_ns = 5'000'000, .drift_ppm = 250'000},
                              {1'000'000, 1'000'000});
  EXPECT_EQ(wakes.virtual_ns, (std::vector<int64_t>{800'000, 1'600'000}));
  EXPECT_EQ(wakes.local_ns, (std::vector<int64_t>{6'000'000, 7'000'000}));
}

TEST(NodeClockTest, TimersOnASlowNodeFireLaterInVirtualTime) {
  const Wakes wakes = SleepOn(NodeClock{.offset_ns = 0, .drift_ppm = -200'000}, {800'000});
  EXPECT_EQ(wakes.virtual_ns, (std::vector<int64_t>{1'000'000}));
  EXPECT_EQ(wakes.local_ns, (std::vector<int64_t>{800'000}));
}

TEST(NodeClockTest, EachNodeKeepsItsOwnTimeAndTheSimulatorKeepsVirtualTime) {
  Scheduler scheduler(SchedulerOptions{.seed = 3});
  const NodeId fast = scheduler.AddNode("fast");
  const NodeId plain = scheduler.AddNode("plain");
  scheduler.SetNodeClock(fast, NodeClock{.offset_ns = 0, .drift_ppm = 100'000});
  std::vector<std::pair<char, int64_t>> order;
  auto sleeper = [&](char name) {
    return [&, name] {
      scheduler.SleepFor(1'100'000);
      order.emplace_back(name, scheduler.VirtualNowNs());
    };
  };
  scheduler.StartFiberOn(fast, "f", sleeper('f'));
  scheduler.StartFiberOn(plain, "p", sleeper('p'));
  scheduler.StartFiber("s", sleeper('s'));
  ASSERT_TRUE(scheduler.Run().ok());
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], std::make_pair('f', int64_t{1'000'000}));
  EXPECT_EQ(order[1].second, 1'100'000);
  EXPECT_EQ(order[2].second, 1'100'000);
  EXPECT_EQ(scheduler.NodeNowNs(fast), 1'210'000);
  EXPECT_EQ(scheduler.NodeNowNs(plain), 1'100'000);
}

TEST(NodeClockTest, SameSeedSameTraceHashWithClocks) {
  auto hash = [](uint64_t seed) {
    Scheduler scheduler(SchedulerOptions{.seed = seed});
    for (int n = 0; n < 3; ++n) {
      const NodeId node = scheduler.AddNode("n");
      scheduler.SetNodeClock(node, NodeClock{.offset_ns = n * 777, .drift_ppm = (n - 1) * 30'000});
      for (int f = 0; f < 3; ++f) {
        scheduler.StartFiberOn(node, "f", [&scheduler, f] {
          for (int i = 0; i < 5; ++i) scheduler.SleepFor(1'000 * (f + 1) + i);
        });
      }
    }
    return scheduler.Run().trace_hash;
  };
  EXPECT_EQ(hash(7), hash(7));
  EXPECT_NE(hash(7), hash(8));
}

TEST(NodeClockDeathTest, AClockMayNotGoBack) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  const NodeId node = scheduler.AddNode("n1");
  scheduler.SetNodeClock(node, NodeClock{.offset_ns = 1'000});
  EXPECT_DEATH(scheduler.SetNodeClock(node, NodeClock{.offset_ns = 10}), "may not go back");
  EXPECT_DEATH(scheduler.SetNodeClock(node, NodeClock{.drift_ppm = 600'000}), "bounded drift");
  EXPECT_DEATH(scheduler.SetNodeClock(kSimNode, NodeClock{}), "no clock for that node");
}

}  // namespace
}  // namespace faultline::sim
