// Crashes, restarts and kills requested while fibers are already being
// unwound: from destructors, from the shutdown, from another node's fiber.
// None may throw out of a destructor (std::terminate) or lose a fiber.
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/runtime/event.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim {
namespace {

using ::testing::HasSubstr;
using Outcome = RunResult::Outcome;

// Calls `action` from its destructor, i.e. while its fiber unwinds.
template <typename Action>
struct OnUnwind {
  Action action;
  ~OnUnwind() { action(); }
};
template <typename Action>
OnUnwind(Action) -> OnUnwind<Action>;

// The shutdown unwinds every fiber while their nodes are still alive; a
// destructor that crashes its own node then must not throw FiberKilled out
// of the destructor (that would terminate the process).
TEST(NestedCrash, CrashingYourOwnNodeFromADestructorDuringShutdown) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .fifo = true});  // in start order
  const NodeId node = scheduler.AddNode("n1");
  runtime::Event never(scheduler);
  bool after_crash = false;
  scheduler.StartFiberOn(node, "victim", [&] {
    OnUnwind guard{[&] {
      scheduler.Crash(node, "from a destructor");
      after_crash = true;
    }};
    never.Wait();
  });
  scheduler.StartFiber("stopper", [&] { scheduler.Stop("done"); });
  EXPECT_EQ(scheduler.Run().outcome, Outcome::kStopped);
  scheduler.Shutdown();
  EXPECT_TRUE(after_crash);  // the destructor finished
  EXPECT_FALSE(scheduler.IsAlive(node));
  EXPECT_EQ(scheduler.live_fibers(), 0u);
}

// A destructor of a fiber unwinding from a crash restarts the node and
// crashes it again: the second crash names the fiber's node, which is alive
// again; it still must not throw out of the destructor.
TEST(NestedCrash, RestartAndCrashAgainFromADestructorDuringUnwinding) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .fifo = true});  // in start order
  const NodeId node = scheduler.AddNode("n1");
  runtime::Event never(scheduler);
  bool restarted_main_ran = false;
  bool destructor_finished = false;
  scheduler.StartFiberOn(node, "victim", [&] {
    OnUnwind guard{[&] {
      scheduler.Restart(node, "main", [&] { restarted_main_ran = true; });
      scheduler.Crash(node, "again, from the destructor");
      destructor_finished = true;
    }};
    never.Wait();
  });
  scheduler.StartFiber("crasher", [&] { scheduler.Crash(node, "first"); });
  const RunResult result = scheduler.Run();
  EXPECT_TRUE(result.ok()) << result.detail;
  EXPECT_TRUE(destructor_finished);
  EXPECT_FALSE(restarted_main_ran);  // started by a dead incarnation: never runs
  EXPECT_FALSE(scheduler.IsAlive(node));
  EXPECT_EQ(scheduler.Incarnation(node), 2u);
}

// An ordinary exception unwinds a fiber whose destructor crashes the
// fiber's own node: the run fails naming the exception; the process lives.
TEST(NestedCrash, CrashingYourOwnNodeWhileAnExceptionUnwindsYou) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .fifo = true});  // in start order
  const NodeId node = scheduler.AddNode("n1");
  scheduler.StartFiberOn(node, "thrower", [&] {
    OnUnwind guard{[&] { scheduler.Crash(node, "while unwinding"); }};
    throw std::runtime_error("boom");
  });
  const RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_THAT(result.detail, HasSubstr("boom"));
  EXPECT_FALSE(scheduler.IsAlive(node));
}

// Node A's fiber, unwinding, crashes node B; B's fiber, unwinding, crashes
// A (already dead) and restarts it: every fiber of both is unwound once,
// children before parents, and the restarted A runs nothing of the dead one.
TEST(NestedCrash, CrashesAcrossNodesDuringUnwinding) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .fifo = true});  // in start order
  const NodeId a = scheduler.AddNode("a");
  const NodeId b = scheduler.AddNode("b");
  runtime::Event never(scheduler);
  std::vector<std::string> unwound;
  scheduler.StartFiberOn(b, "b-fiber", [&] {
    OnUnwind guard{[&] {
      unwound.push_back("b");
      scheduler.Crash(a, "from b");
      scheduler.Restart(a, "a-main", [&] { unwound.push_back("a-main ran"); });
    }};
    never.Wait();
  });
  scheduler.StartFiberOn(a, "a-fiber", [&] {
    OnUnwind guard{[&] {
      unwound.push_back("a");
      scheduler.Crash(b, "from a");
    }};
    never.Wait();
  });
  scheduler.StartFiber("crasher", [&] { scheduler.Crash(a, "first"); });
  const RunResult result = scheduler.Run();
  EXPECT_TRUE(result.ok()) << result.detail;
  EXPECT_THAT(unwound, ::testing::ElementsAre("a", "b"));
  EXPECT_TRUE(scheduler.IsAlive(a));
  EXPECT_FALSE(scheduler.IsAlive(b));
  EXPECT_EQ(scheduler.live_fibers(), 0u);
}

// Starts a fiber holding another of its kind when destroyed: during a
// shutdown, each is born killed and destroyed at once, so without a bound
// the shutdown would never end. Stops by itself after kMaxRespawns, so that
// an unbounded shutdown shows as a test failure rather than a hang.
class Respawner {
 public:
  static constexpr int kMaxRespawns = 200'000;
  Respawner(Scheduler* scheduler, int* respawns) : scheduler_(scheduler), respawns_(respawns) {}
  Respawner(Respawner&& other) noexcept
      : scheduler_(std::exchange(other.scheduler_, nullptr)), respawns_(other.respawns_) {}
  Respawner& operator=(Respawner&&) = delete;
  ~Respawner() {
    if (scheduler_ == nullptr || ++*respawns_ >= kMaxRespawns) return;
    scheduler_->StartFiber("respawned", [again = Respawner(scheduler_, respawns_)] {});
  }

 private:
  Scheduler* scheduler_;
  int* respawns_;
};

using NestedCrashDeathTest = ::testing::Test;

TEST(NestedCrashDeathTest, AShutdownWhoseFibersKeepStartingFibersIsBounded) {
  EXPECT_DEATH(
      {
        Scheduler scheduler(SchedulerOptions{.seed = 1, .max_steps = 1000});
        runtime::Event never(scheduler);
        int respawns = 0;
        scheduler.StartFiber("first", [&never, keep = Respawner(&scheduler, &respawns)] {
          never.Wait();
        });
        scheduler.Run();  // deadlock: the fiber waits forever
        scheduler.Shutdown();
      },
      "kept starting fibers during shutdown");
}

}  // namespace
}  // namespace faultline::sim
