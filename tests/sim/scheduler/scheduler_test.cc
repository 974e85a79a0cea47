// Tests for sim/scheduler/scheduler: seeded interleavings, virtual time,
// timers, nodes and crashes, failure detection and budgets.
#include "sim/scheduler/scheduler.h"

#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/runtime/channel.h"
#include "core/runtime/event.h"
#include "core/runtime/spawn.h"

namespace faultline::sim {
namespace {

using ::testing::HasSubstr;
using Outcome = RunResult::Outcome;

// Four fibers that each log their name three times, yielding in between.
std::string InterleavingOf(uint64_t seed, bool fifo = false) {
  Scheduler scheduler(SchedulerOptions{.seed = seed, .fifo = fifo});
  std::string order;
  for (char name : std::string("abcd")) {
    scheduler.StartFiber(std::string(1, name), [&scheduler, &order, name] {
      for (int i = 0; i < 3; ++i) {
        order.push_back(name);
        scheduler.Yield();
      }
    });
  }
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kCompleted) << result.detail;
  return order;
}

TEST(Scheduler, SameSeedSameInterleavingAndHash) {
  EXPECT_EQ(InterleavingOf(5), InterleavingOf(5));
  Scheduler a(SchedulerOptions{.seed = 5}), b(SchedulerOptions{.seed = 5});
  for (Scheduler* s : {&a, &b}) {
    for (int i = 0; i < 3; ++i) s->StartFiber("f", [s] { s->Yield(); s->SleepFor(10); });
  }
  EXPECT_EQ(a.Run().trace_hash, b.Run().trace_hash);
}

TEST(Scheduler, DifferentSeedsExploreDifferentInterleavings) {
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 32; ++seed) seen.insert(InterleavingOf(seed));
  EXPECT_GE(seen.size(), 16u) << "32 seeds produced only " << seen.size() << " interleavings";
}

TEST(Scheduler, FifoModeIsRoundRobinWhateverTheSeed) {
  EXPECT_EQ(InterleavingOf(1, /*fifo=*/true), "abcdabcdabcd");
  EXPECT_EQ(InterleavingOf(99, /*fifo=*/true), "abcdabcdabcd");
}

TEST(Scheduler, StreamGeneratorsStayPutAndMatchTheirSeededStreams) {
  Scheduler scheduler(SchedulerOptions{.seed = 77});
  Prng& workload = scheduler.prng(Stream::kWorkload);
  const uint64_t first = workload.NextU64();
  (void)scheduler.prng(Stream::kCrash).NextU64();  // using another stream moves nothing
  EXPECT_EQ(&workload, &scheduler.prng(Stream::kWorkload));
  Prng expected = Prng::ForStream(77, Stream::kWorkload);
  EXPECT_EQ(first, expected.NextU64());
  EXPECT_EQ(workload.NextU64(), expected.NextU64());
}

TEST(Scheduler, ThePickStreamIsNotHandedOut) {
  // A copy of the scheduler's own stream would let a scenario predict (and
  // so quietly depend on) the run order; drawing from the stream itself
  // would shift the interleaving with every workload change.
  EXPECT_DEATH(
      {
        Scheduler scheduler(SchedulerOptions{.seed = 5});
        (void)scheduler.prng(Stream::kScheduler).NextU64();
      },
      "the scheduler's own stream");
}

TEST(Scheduler, VirtualTimeJumpsToTheNextTimer) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  int64_t woke_at_ns = -1;
  scheduler.StartFiber("sleeper", [&] {
    scheduler.SleepFor(int64_t{1800} * 1'000'000'000);  // half a virtual hour
    woke_at_ns = scheduler.NowNs();
  });
  RunResult result = scheduler.Run();
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(woke_at_ns, int64_t{1800} * 1'000'000'000);
  EXPECT_EQ(result.end_time_ns, woke_at_ns);
}

TEST(Scheduler, TimersFireInDeadlineOrderAndTiesInArmingOrder) {
  // FIFO so that only the timer order decides who runs first.
  Scheduler scheduler(SchedulerOptions{.seed = 3, .fifo = true});
  std::vector<std::string> woke;
  struct Sleeper { std::string name; int64_t delay_ns; };
  const std::vector<Sleeper> sleepers = {
      {"c30", 30}, {"a10", 10}, {"t20-first", 20}, {"b5", 5}, {"t20-second", 20}, {"z0", 0}};
  for (const Sleeper& sleeper : sleepers) {
    scheduler.StartFiber(sleeper.name, [&, sleeper] {
      scheduler.SleepFor(sleeper.delay_ns);
      woke.push_back(sleeper.name);
    });
  }
  EXPECT_TRUE(scheduler.Run().ok());
  EXPECT_THAT(woke, ::testing::ElementsAre("z0", "b5", "a10", "t20-first", "t20-second", "c30"));
}

RC_GTEST_PROP(Scheduler, SleepersWakeInNondecreasingTimeUnderAnySeed,
              (uint64_t seed, std::vector<uint16_t> delays)) {
  RC_PRE(delays.size() <= 64);
  Scheduler scheduler(SchedulerOptions{.seed = seed});
  std::vector<std::pair<int64_t, int64_t>> wakes;  // (deadline, observed time)
  for (uint16_t delay : delays) {
    scheduler.StartFiber("s", [&, delay] {
      scheduler.SleepFor(delay);
      wakes.emplace_back(delay, scheduler.NowNs());
    });
  }
  RC_ASSERT(scheduler.Run().ok());
  RC_ASSERT(wakes.size() == delays.size());
  for (size_t i = 0; i < wakes.size(); ++i) {
    RC_ASSERT(wakes[i].second == wakes[i].first);  // exactly on time
    if (i > 0) RC_ASSERT(wakes[i - 1].first <= wakes[i].first);
  }
}

TEST(Scheduler, CrashUnwindsExactlyTheNodesFibers) {
  Scheduler scheduler(SchedulerOptions{.seed = 11});
  const NodeId n1 = scheduler.AddNode("n1");
  const NodeId n2 = scheduler.AddNode("n2");
  runtime::Event never(scheduler);
  std::vector<std::string> destroyed;
  std::vector<std::string> finished;
  struct Guard {
    std::vector<std::string>& log;
    std::string name;
    ~Guard() { log.push_back(name); }
  };
  // n1: one fiber blocked forever, one sleeping, one busy in a timer loop.
  scheduler.StartFiberOn(n1, "n1-blocked", [&] { Guard g{destroyed, "n1-blocked"}; never.Wait(); });
  scheduler.StartFiberOn(n1, "n1-sleeper", [&] {
    Guard g{destroyed, "n1-sleeper"};
    scheduler.SleepFor(1'000'000'000);
    finished.push_back("n1-sleeper");
  });
  scheduler.StartFiberOn(n1, "n1-spinner", [&] {
    Guard g{destroyed, "n1-spinner"};
    while (true) scheduler.SleepFor(100);
  });
  // n2: keeps working across n1's crash.
  scheduler.StartFiberOn(n2, "n2-worker", [&] {
    Guard g{destroyed, "n2-worker"};
    scheduler.SleepFor(2'000);
    scheduler.SleepFor(2'000);
    finished.push_back("n2-worker");
  });
  scheduler.StartFiber("nemesis", [&] {
    scheduler.SleepFor(1'000);
    EXPECT_EQ(scheduler.Incarnation(n1), 1u);
    scheduler.Crash(n1, "test crash");
    EXPECT_FALSE(scheduler.IsAlive(n1));
    EXPECT_TRUE(scheduler.IsAlive(n2));
    scheduler.Yield();  // the crashed fibers unwind before anything else runs
    EXPECT_THAT(destroyed, ::testing::UnorderedElementsAre("n1-blocked", "n1-sleeper",
                                                           "n1-spinner"));
    scheduler.Restart(n1, "n1-main", [&] { finished.push_back("n1-main"); });
    EXPECT_EQ(scheduler.Incarnation(n1), 2u);
  });
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kCompleted) << result.detail;
  EXPECT_THAT(finished, ::testing::UnorderedElementsAre("n2-worker", "n1-main"));
  EXPECT_THAT(destroyed, ::testing::Contains("n2-worker"));
}

TEST(Scheduler, ABusyYieldLoopStarvesTimersAndHitsTheStepBudget) {
  // Virtual time advances only when nothing is runnable (as in FoundationDB's
  // simulator): a fiber that spins on Yield() is a livelock, reported as such.
  Scheduler scheduler(SchedulerOptions{.seed = 1, .max_steps = 10'000});
  bool timer_fired = false;
  scheduler.StartFiber("spinner", [&] { while (!timer_fired) scheduler.Yield(); });
  scheduler.StartFiber("sleeper", [&] { scheduler.SleepFor(1); timer_fired = true; });
  EXPECT_EQ(scheduler.Run().outcome, Outcome::kStepBudget);
  EXPECT_FALSE(timer_fired);
}

TEST(Scheduler, ChildrenUnwindBeforeTheParentThatOwnsTheirChannel) {
  Scheduler scheduler(SchedulerOptions{.seed = 4});
  const NodeId node = scheduler.AddNode("n1");
  std::vector<std::string> unwound;
  scheduler.StartFiberOn(node, "parent", [&] {
    runtime::Channel<int> channel(scheduler, 1);  // on the parent's stack
    std::vector<runtime::JoinHandle> children;
    for (int i = 0; i < 3; ++i) {
      children.push_back(runtime::Spawn(scheduler, "child", [&, i] {
        struct Note { std::vector<std::string>& log; int i; ~Note() { log.push_back("child" + std::to_string(i)); } } note{unwound, i};
        (void)channel.Receive();
      }));
    }
    struct Note { std::vector<std::string>& log; ~Note() { log.push_back("parent"); } } note{unwound};
    for (auto& child : children) child.Join();
  });
  scheduler.StartFiber("nemesis", [&] { scheduler.SleepFor(10); scheduler.Crash(node, "test"); });
  EXPECT_TRUE(scheduler.Run().ok());
  EXPECT_THAT(unwound, ::testing::ElementsAre("child2", "child1", "child0", "parent"));
}

TEST(Scheduler, YieldInAFiberBeingUnwoundReturnsAtOnce) {
  // FIFO: without the fix, the nemesis would run while the victim yields.
  Scheduler scheduler(SchedulerOptions{.seed = 1, .fifo = true});
  const NodeId node = scheduler.AddNode("n1");
  runtime::Event never(scheduler);
  std::vector<std::string> log;
  scheduler.StartFiberOn(node, "victim", [&] {
    struct YieldsWhileUnwinding {
      Scheduler& scheduler;
      std::vector<std::string>& log;
      ~YieldsWhileUnwinding() {
        log.push_back("victim before yield");
        scheduler.Yield();
        log.push_back("victim after yield");
      }
    } guard{scheduler, log};
    never.Wait();
  });
  scheduler.StartFiber("nemesis", [&] {
    scheduler.Crash(node, "test");
    scheduler.Yield();
    log.push_back("nemesis after crash");
  });
  EXPECT_TRUE(scheduler.Run().ok());
  EXPECT_THAT(log, ::testing::ElementsAre("victim before yield", "victim after yield",
                                          "nemesis after crash"));
}

TEST(Scheduler, ARestartBeforeUnwindingEndsKeepsTheDeadIncarnationOut) {
  Scheduler scheduler(SchedulerOptions{.seed = 3});
  const NodeId node = scheduler.AddNode("n1");
  runtime::Event never(scheduler);
  bool zombie_ran = false;
  bool new_main_ran = false;
  scheduler.StartFiberOn(node, "old-main", [&] {
    struct StartsWhileUnwinding {
      Scheduler& scheduler;
      bool& zombie_ran;
      ~StartsWhileUnwinding() { scheduler.StartFiber("zombie", [&ran = zombie_ran] { ran = true; }); }
    } guard{scheduler, zombie_ran};
    never.Wait();
  });
  scheduler.StartFiber("nemesis", [&] {
    scheduler.SleepFor(10);
    scheduler.Crash(node, "test");
    // No yield in between: the old incarnation is still being unwound.
    scheduler.Restart(node, "new-main", [&] { new_main_ran = true; });
  });
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kCompleted) << result.detail;
  EXPECT_TRUE(new_main_ran);
  EXPECT_FALSE(zombie_ran) << "the dead incarnation started a fiber in the live one";
}

TEST(Scheduler, CrashingYourOwnNodeUnwindsYou) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  const NodeId n1 = scheduler.AddNode("n1");
  bool after_crash = false;
  scheduler.StartFiberOn(n1, "suicidal", [&] {
    scheduler.Crash(n1, "self");
    after_crash = true;
  });
  EXPECT_TRUE(scheduler.Run().ok());
  EXPECT_FALSE(after_crash);
}

TEST(Scheduler, JoinOfAFiberKilledBeforeItStartedReturns) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  const NodeId n1 = scheduler.AddNode("n1");
  bool ran = false, joined = false;
  runtime::JoinHandle handle;
  scheduler.StartFiberOn(n1, "parent", [&] {
    handle = runtime::Spawn(scheduler, "child", [&] { ran = true; });
    scheduler.Crash(n1, "before the child runs");
  });
  scheduler.StartFiber("joiner", [&] {
    while (!handle.valid()) scheduler.Yield();
    handle.Join();
    joined = true;
  });
  EXPECT_TRUE(scheduler.Run().ok());
  EXPECT_FALSE(ran);
  EXPECT_TRUE(joined);
}

TEST(Scheduler, DeadlockReportNamesEachBlockedFiberAndWhatItWaitsOn) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  const NodeId node = scheduler.AddNode("replica-2");
  runtime::Channel<int> channel(scheduler, 1);
  runtime::Event never(scheduler);
  scheduler.StartFiberOn(node, "applier", [&] { (void)channel.Receive(); });
  scheduler.StartFiber("waiter", [&] { never.Wait(); });
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kDeadlock);
  EXPECT_THAT(result.detail, HasSubstr("'applier' on node 'replica-2': blocked on Channel::Receive"));
  EXPECT_THAT(result.detail, HasSubstr("'waiter' on node 'sim': blocked on Event"));
  scheduler.Shutdown();  // before `channel` and `never` go away
}

TEST(Scheduler, StepBudgetStopsALivelock) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .max_steps = 1000});
  scheduler.StartFiber("spinner", [&] { while (true) scheduler.Yield(); });
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kStepBudget);
  EXPECT_EQ(result.steps, 1000u);
  EXPECT_THAT(result.detail, HasSubstr("spinner"));
}

TEST(Scheduler, VirtualTimeBudgetStopsAnEndlessTimerLoop) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .max_virtual_time_ns = 1'000'000});
  scheduler.StartFiber("ticker", [&] { while (true) scheduler.SleepFor(1'000); });
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kTimeBudget);
  EXPECT_LE(result.end_time_ns, 1'000'000);
}

TEST(Scheduler, AnExceptionEscapingAFiberFailsTheRunNamingFiberAndNode) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  const NodeId node = scheduler.AddNode("n7");
  scheduler.StartFiberOn(node, "thrower", [] { throw std::runtime_error("boom"); });
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_THAT(result.detail, HasSubstr("'thrower'"));
  EXPECT_THAT(result.detail, HasSubstr("'n7'"));
  EXPECT_THAT(result.detail, HasSubstr("boom"));
}

TEST(Scheduler, StopEndsTheRunAndShutdownUnwindsTheRest) {
  bool unwound = false;
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  runtime::Event never(scheduler);
  scheduler.StartFiber("daemon", [&] {
    struct Flag { bool& f; ~Flag() { f = true; } } flag{unwound};
    never.Wait();
  });
  scheduler.StartFiber("main", [&] { scheduler.SleepFor(5); scheduler.Stop("done"); });
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kStopped);
  EXPECT_EQ(result.detail, "done");
  EXPECT_FALSE(unwound);
  scheduler.Shutdown();
  EXPECT_TRUE(unwound);
  EXPECT_EQ(scheduler.live_fibers(), 0u);
}

TEST(Scheduler, DestroyingPrimitivesBeforeUnwindingTheirWaitersIsCaught) {
  EXPECT_DEATH(
      {
        Scheduler scheduler(SchedulerOptions{.seed = 1});
        auto never = std::make_unique<runtime::Event>(scheduler);
        scheduler.StartFiber("waiter", [&] { never->Wait(); });
        (void)scheduler.Run();
        never.reset();
      },
      "WaitQueue was destroyed while fibers wait on it");
}

TEST(Scheduler, FailFromACheckerEndsTheRun) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  scheduler.StartFiber("checker", [&] { scheduler.Fail("invariant X violated"); scheduler.Yield(); });
  scheduler.StartFiber("other", [&] { scheduler.SleepFor(1'000'000); });
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.detail, "invariant X violated");
}

// A fiber leak is a failure of the run, bounded by max_fibers, not a run
// queue and stacks that grow until memory runs out.
TEST(Scheduler, StartingMoreThanMaxFibersFailsTheRun) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .max_fibers = 100});
  runtime::Event never(scheduler);
  std::vector<runtime::JoinHandle> handles;
  scheduler.StartFiber("leaker", [&] {
    for (int i = 0; i < 1000; ++i) {
      handles.push_back(runtime::Spawn(scheduler, "leaked", [&] { never.Wait(); }));
    }
    never.Wait();
  });
  const RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_THAT(result.detail, HasSubstr("max_fibers (100 live fibers)"));
  EXPECT_LE(scheduler.live_fibers(), 100u);
  EXPECT_TRUE(handles.back().done());  // refused: its body was destroyed
  scheduler.Shutdown();
}

TEST(Scheduler, TenThousandIdleFibersFit) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  runtime::Event release(scheduler);
  int finished = 0;
  for (int i = 0; i < 10'000; ++i) {
    scheduler.StartFiber("idle", [&] { release.Wait(); ++finished; });
  }
  scheduler.StartFiber("releaser", [&] { scheduler.SleepFor(1); release.Set(); });
  RunResult result = scheduler.Run();
  EXPECT_TRUE(result.ok()) << result.detail;
  EXPECT_EQ(finished, 10'000);
}

TEST(Scheduler, RecordedTraceDumpsOneStampedLinePerEvent) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .record_trace = true});
  const NodeId node = scheduler.AddNode("n1");
  scheduler.StartFiberOn(node, "f", [&] {
    scheduler.SleepFor(1'500'000'000);
    scheduler.Record(TraceKind::kApp, {"x", 1}, {"y", 2}, "hello");
  });
  RunResult result = scheduler.Run();
  ASSERT_TRUE(result.ok());
  const auto& events = scheduler.trace().events();
  auto it = std::find_if(events.begin(), events.end(),
                         [](const TraceEvent& e) { return e.text == "hello"; });
  ASSERT_NE(it, events.end());
  EXPECT_EQ(it->time_ns, 1'500'000'000);
  EXPECT_EQ(it->node, node);
  EXPECT_THAT(it->Format("n1"), HasSubstr("1.500000000s"));
  // Recording does not change the fingerprint.
  Scheduler quiet(SchedulerOptions{.seed = 1});
  const NodeId quiet_node = quiet.AddNode("n1");
  quiet.StartFiberOn(quiet_node, "f", [&] {
    quiet.SleepFor(1'500'000'000);
    quiet.Record(TraceKind::kApp, {"x", 1}, {"y", 2}, "hello");
  });
  EXPECT_EQ(quiet.Run().trace_hash, result.trace_hash);
}

}  // namespace
}  // namespace faultline::sim
