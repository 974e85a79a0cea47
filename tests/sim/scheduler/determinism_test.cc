// One seed, one binary: the same trace hash in every process. A scheduler
// that ordered anything by address (pointer-keyed or hash containers) would
// agree with itself within a process and differ across processes, whose
// stacks and heap lie elsewhere (address-space randomization); so the
// workload is replayed in a fresh process and the hashes compared.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/runtime/channel.h"
#include "core/runtime/event.h"
#include "core/runtime/mutex.h"
#include "core/runtime/spawn.h"
#include "core/runtime/waitable.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim {
namespace {

// Nodes whose fibers send, select, lock and sleep, crashed and restarted.
uint64_t WorkloadHash(uint64_t seed) {
  Scheduler scheduler(SchedulerOptions{.seed = seed});
  runtime::Channel<int> channel(scheduler, 3);
  runtime::Event tick(scheduler);
  runtime::Mutex mutex(scheduler);
  std::vector<NodeId> nodes;
  for (int n = 0; n < 3; ++n) nodes.push_back(scheduler.AddNode("n" + std::to_string(n)));
  auto worker = [&](int index) {
    return [&, index] {
      for (int round = 0; round < 20; ++round) {
        if (index % 2 == 0) {
          (void)channel.Send(index * 100 + round, scheduler.NowNs() + 50);
        } else if (auto ready = runtime::WaitAny(scheduler, {&tick, &channel}, 30)) {
          if (*ready == 1) (void)channel.TryReceive();
        }
        runtime::MutexLock lock(mutex);
        scheduler.SleepFor(1 + (index + round) % 7);
      }
    };
  };
  for (int i = 0; i < 12; ++i) scheduler.StartFiberOn(nodes[i % 3], "worker", worker(i));
  scheduler.StartFiber("chaos", [&] {
    for (int round = 0; round < 6; ++round) {
      scheduler.SleepFor(40);
      const NodeId victim = nodes[round % 3];
      scheduler.Crash(victim, "chaos");
      tick.Set();
      scheduler.Restart(victim, "worker", worker(round));
    }
  });
  const RunResult result = scheduler.Run();
  EXPECT_TRUE(result.ok()) << result.detail;
  EXPECT_GT(result.steps, 200u);
  scheduler.Shutdown();
  return result.trace_hash;
}

class DeterminismDeathTest : public ::testing::Test {
 protected:
  // Re-executes the binary for the child: a fresh address-space layout.
  DeterminismDeathTest() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(DeterminismDeathTest, TheSameSeedGivesTheSameHashInAnotherProcess) {
  for (uint64_t seed : {1u, 2u, 77u}) {
    const uint64_t here = WorkloadHash(seed);
    EXPECT_EQ(here, WorkloadHash(seed));
    char expected[32];
    std::snprintf(expected, sizeof(expected), "hash=%016" PRIx64 ";", here);
    EXPECT_EXIT(
        {
          std::fprintf(stderr, "hash=%016" PRIx64 ";\n", WorkloadHash(seed));
          std::exit(0);
        },
        ::testing::ExitedWithCode(0), ::testing::HasSubstr(expected));
  }
}

}  // namespace
}  // namespace faultline::sim
