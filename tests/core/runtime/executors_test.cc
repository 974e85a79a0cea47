// The same fiber programs on both executors (sim::Scheduler and
// posix::EventLoop): they share the primitives' code, the unwind policy and
// the stack-overflow checks, so they must agree on wake-ups, on the order
// fibers are unwound in, and on how an overflowing fiber fails. Every
// program here is ordered by yields and wake-ups only, never by time, so it
// runs the same way in FIFO simulation and on the real loop.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/posix/event_loop.h"
#include "core/runtime/channel.h"
#include "core/runtime/event.h"
#include "core/runtime/internal/fiber_core.h"
#include "core/runtime/mutex.h"
#include "core/runtime/spawn.h"
#include "core/runtime/waitable.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::runtime {
namespace {

// Both worlds give fibers 64 KiB stacks (the simulator's default).
constexpr size_t kStackSizeBytes = 64 * 1024;

// FIFO simulation: runs fibers in the order they became runnable, like the
// event loop, so both worlds run each program in the same order.
class SimWorld {
 public:
  Executor& executor() { return scheduler_; }
  void Run() {
    const sim::RunResult result = scheduler_.Run();
    EXPECT_TRUE(result.ok()) << result.detail;
  }
  // From a fiber: Run() returns once it parks or yields.
  void Stop() { scheduler_.Stop("stopped by the test"); }
  void Shutdown() { scheduler_.Shutdown(); }

 private:
  sim::Scheduler scheduler_{
      sim::SchedulerOptions{.seed = 1, .fifo = true, .stack_size_bytes = kStackSizeBytes}};
};

class PosixWorld {
 public:
  Executor& executor() { return *loop_; }
  void Run() { loop_->Run(); }
  void Stop() { loop_->Stop(); }
  // Destroying the loop is its shutdown: it unwinds the fibers still alive.
  void Shutdown() { loop_.reset(); }

 private:
  std::unique_ptr<posix::EventLoop> loop_ =
      std::make_unique<posix::EventLoop>(
          posix::EventLoopOptions{.stack_size_bytes = kStackSizeBytes, .io_threads = 1});
};

template <typename World>
class Executors : public ::testing::Test {};
template <typename World>
class ExecutorsDeathTest : public ::testing::Test {
 protected:
  // The event loop has I/O threads: re-execute rather than fork a threaded process.
  ExecutorsDeathTest() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};
using Worlds = ::testing::Types<SimWorld, PosixWorld>;
TYPED_TEST_SUITE(Executors, Worlds);
TYPED_TEST_SUITE(ExecutorsDeathTest, Worlds);

// Writes every page of `buffer`, lowest address first — the order in which
// a frame larger than the guard would reach into memory below its stack —
// where the optimizer cannot drop it.
[[gnu::noinline]] void WriteEveryPage(char* buffer, size_t size_bytes) {
  for (size_t i = 0; i < size_bytes; i += 1024) buffer[i] = static_cast<char>(i);
  asm volatile("" : : "r"(buffer) : "memory");
}

// A 72 KiB frame in a 64 KiB stack, among neighbours whose stacks lie just
// below it in memory: it must fail at once, naming the fiber, not write
// into a neighbour's stack and carry on (or fault later in the wrong fiber).
TYPED_TEST(ExecutorsDeathTest, AFrameLargerThanTheStackFailsNamingTheFiber) {
  EXPECT_DEATH(
      {
        TypeParam world;
        Executor& executor = world.executor();
        Event never(executor);
        for (int i = 0; i < 4; ++i) executor.StartFiber("neighbour", [&] { never.Wait(); });
        executor.StartFiber("big-frame", [] {
          char buffer[72 * 1024];
          WriteEveryPage(buffer, sizeof(buffer));
        });
        for (int i = 0; i < 4; ++i) executor.StartFiber("neighbour", [&] { never.Wait(); });
        executor.StartFiber("stopper", [&] { world.Stop(); });
        world.Run();
        world.Shutdown();  // not reached with the guard in place
      },
      "fiber 'big-frame' \\(#5\\) overflowed its 65536-byte stack");
}

// A frame that reaches the very bottom of the stack without touching the
// guard (here: a write into the canary) is caught at the fiber's next switch.
TYPED_TEST(ExecutorsDeathTest, AFiberThatReachedTheBottomFailsAtItsNextSwitch) {
  EXPECT_DEATH(
      {
        TypeParam world;
        Executor& executor = world.executor();
        executor.StartFiber("deep", [&] {
          const auto* self = static_cast<const internal::FiberCore*>(executor.CurrentFiber());
          internal::StackBottom(self->stack())[3] ^= 0x5a;
          executor.Yield();
        });
        world.Run();
      },
      "fiber 'deep' \\(#1\\) overflowed its 65536-byte stack");
}

// ... or, if it never switches again, when it ends: its stack must not go
// back to a pool with a dirty canary.
TYPED_TEST(ExecutorsDeathTest, AFiberThatReachedTheBottomFailsWhenItEnds) {
  EXPECT_DEATH(
      {
        TypeParam world;
        Executor& executor = world.executor();
        executor.StartFiber("deep-then-done", [&] {
          const auto* self = static_cast<const internal::FiberCore*>(executor.CurrentFiber());
          internal::StackBottom(self->stack())[0] = 1;
        });
        world.Run();
      },
      "fiber 'deep-then-done' \\(#1\\) overflowed its 65536-byte stack");
}

// Appends `name` to `log` when destroyed: records the unwind order.
struct UnwindNote {
  std::vector<std::string>& log;
  std::string name;
  ~UnwindNote() { log.push_back(name); }
};

// A killed fiber's Yield returns at once and no other fiber runs until it
// has unwound, so a destructor that yields until another fiber acts would
// spin forever. It is a checked failure naming the fiber instead.
TYPED_TEST(ExecutorsDeathTest, ADestructorThatWaitsForeverWhileUnwoundFailsNamingTheFiber) {
  EXPECT_DEATH(
      {
        TypeParam world;
        Executor& executor = world.executor();
        Event never(executor);
        bool other_acted = false;
        executor.StartFiber("spinner", [&] {
          struct WaitsForTheOther {
            Executor& executor;
            bool& other_acted;
            ~WaitsForTheOther() {
              // Bounded only so that a missing check fails the test, not hangs.
              for (int i = 0; i < 50'000'000 && !other_acted; ++i) executor.Yield();
            }
          } guard{executor, other_acted};
          never.Wait();
        });
        executor.StartFiber("stopper", [&] { world.Stop(); });
        world.Run();
        world.Shutdown();
      },
      "fiber 'spinner' \\(#1\\) kept waiting while being unwound");
}

// A parent keeps a channel and an event on its stack for its children; the
// executor shuts down while all of them wait. The children must be unwound
// first (newest first), or the parent's primitives die under waiting
// children (~WaitQueue's check).
TYPED_TEST(Executors, ShutdownUnwindsChildrenBeforeTheParentThatOwnsTheirPrimitives) {
  TypeParam world;
  Executor& executor = world.executor();
  std::vector<std::string> unwound;
  executor.StartFiber("parent", [&] {
    UnwindNote note{unwound, "parent"};
    Channel<int> channel(executor, 1);
    Event event(executor);
    std::vector<JoinHandle> children;
    for (int i = 0; i < 3; ++i) {
      children.push_back(Spawn(executor, "child", [&, i] {
        UnwindNote child_note{unwound, "child" + std::to_string(i)};
        if (i == 1) {
          event.Wait();
        } else {
          (void)channel.Receive();
        }
      }));
    }
    for (auto& child : children) child.Join();
  });
  executor.StartFiber("stopper", [&] {
    for (int i = 0; i < 4; ++i) executor.Yield();  // every other fiber is parked by now
    world.Stop();
  });
  world.Run();
  EXPECT_TRUE(unwound.empty());
  world.Shutdown();
  EXPECT_THAT(unwound, ::testing::ElementsAre("child2", "child1", "child0", "parent"));
}

// Destructors that run during shutdown may yield or start fibers: the yield
// returns at once (a killed fiber finishes unwinding before anything else
// runs) and the new fiber is born killed, so the shutdown ends with every
// fiber gone instead of aborting.
TYPED_TEST(Executors, ShutdownSurvivesDestructorsThatYieldOrStartFibers) {
  TypeParam world;
  Executor& executor = world.executor();
  Event never(executor);
  std::vector<std::string> log;
  bool late_ran = false;
  executor.StartFiber("older", [&] {
    UnwindNote note{log, "older"};
    never.Wait();
  });
  executor.StartFiber("newer", [&] {
    struct YieldsAndStarts {
      Executor& executor;
      std::vector<std::string>& log;
      bool& late_ran;
      ~YieldsAndStarts() {
        log.push_back("newer before yield");
        executor.Yield();
        log.push_back("newer after yield");
        executor.StartFiber("late", [&ran = late_ran] { ran = true; });
      }
    } guard{executor, log, late_ran};
    never.Wait();
  });
  executor.StartFiber("stopper", [&] {
    executor.Yield();
    world.Stop();
  });
  world.Run();
  world.Shutdown();
  EXPECT_THAT(log, ::testing::ElementsAre("newer before yield", "newer after yield", "older"));
  EXPECT_FALSE(late_ran);
}

// Push wakes one waiter. When that waiter is a select (WaitAny) that returns
// another ready channel, it must pass the wake-up on, or a receiver blocked
// on the pushed channel sleeps although an item is queued (issue: lost
// wake-up through WaitAny).
TYPED_TEST(Executors, ASelectThatReturnsAnotherChannelPassesTheWakeUpOn) {
  TypeParam world;
  Executor& executor = world.executor();
  Channel<int> a(executor, 4);
  Channel<int> b(executor, 4);
  bool received = false;
  executor.StartFiber("select", [&] {
    // Parks on both first in line on `a`, before the receiver.
    EXPECT_EQ(WaitAny(executor, {&b, &a}, kNoDeadline), 0u);
    EXPECT_TRUE(b.TryReceive().has_value());
  });
  executor.StartFiber("receiver", [&] { received = a.Receive().ok(); });
  executor.StartFiber("producer", [&] {
    EXPECT_TRUE(a.TrySend(1).ok());  // wakes the select, first waiter on `a`
    EXPECT_TRUE(b.TrySend(2).ok());  // the select, already woken, takes this one
  });
  executor.StartFiber("checker", [&] {
    for (int i = 0; i < 8 && !received; ++i) executor.Yield();
    EXPECT_TRUE(received) << "the receiver still sleeps with an item in its channel";
    a.Close();  // bounded either way: a stuck receiver wakes up now
  });
  world.Run();
  world.Shutdown();
}

// The deadline shape of the same lost wake-up, in virtual time: an item
// queued at t=10 must reach a receiver whose deadline is t=500 at t=10.
TEST(ExecutorsSim, ASelectDoesNotDelayAReceiverWithADeadline) {
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1, .fifo = true});
  Channel<int> a(scheduler, 4);
  Channel<int> b(scheduler, 4);
  int64_t received_at_ns = -1;
  scheduler.StartFiber("select", [&] {
    EXPECT_EQ(WaitAny(scheduler, {&b, &a}, kNoDeadline), 0u);
    EXPECT_TRUE(b.TryReceive().has_value());
  });
  scheduler.StartFiber("receiver", [&] {
    EXPECT_TRUE(a.Receive(/*deadline_ns=*/500).ok());
    received_at_ns = scheduler.NowNs();
  });
  scheduler.StartFiber("producer", [&] {
    scheduler.SleepFor(10);
    EXPECT_TRUE(a.TrySend(1).ok());
    EXPECT_TRUE(b.TrySend(2).ok());
  });
  const sim::RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, sim::RunResult::Outcome::kCompleted) << result.detail;
  EXPECT_EQ(received_at_ns, 10);
}

// Fibers blocked on each other in a cycle — each holds one mutex and waits
// for the other's, and a third joins both — are all unwound by the shutdown:
// the mutex released by the first one unwound wakes the second, which is
// already killed and passes the wake-up on to nobody; no wait node stays
// linked on a stack that is gone (AddressSanitizer would see it).
TYPED_TEST(Executors, ShutdownUnwindsFibersBlockedOnEachOtherInACycle) {
  TypeParam world;
  Executor& executor = world.executor();
  Mutex first(executor);
  Mutex second(executor);
  Event both_hold(executor);
  int holding = 0;
  JoinHandle a, b;
  auto lock_then_lock = [&](Mutex& mine, Mutex& theirs) {
    return [&] {
      MutexLock hold(mine);
      if (++holding == 2) both_hold.Set();
      both_hold.Wait();
      MutexLock wait(theirs);  // never: the other holds it
    };
  };
  a = Spawn(executor, "a", lock_then_lock(first, second));
  b = Spawn(executor, "b", lock_then_lock(second, first));
  executor.StartFiber("joiner", [&] {
    a.Join();
    b.Join();
  });
  executor.StartFiber("stopper", [&] {
    for (int i = 0; i < 8; ++i) executor.Yield();
    world.Stop();
  });
  world.Run();
  EXPECT_EQ(holding, 2);
  EXPECT_FALSE(a.done());  // the cycle formed
  world.Shutdown();
  EXPECT_TRUE(a.done());
  EXPECT_TRUE(b.done());
  EXPECT_FALSE(first.locked());
  EXPECT_FALSE(second.locked());
}

}  // namespace
}  // namespace faultline::runtime
