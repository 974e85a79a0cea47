// Adversarial wake-up tests for core/runtime's primitives on the
// deterministic scheduler: a wake-up must be neither lost (a waiter sleeps
// while what it waits for is there) nor delivered to a fiber that can no
// longer use it, whatever crashes, resets, moves and selects happen between
// the notification and the moment the woken fiber runs.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/runtime/channel.h"
#include "core/runtime/event.h"
#include "core/runtime/future.h"
#include "core/runtime/mutex.h"
#include "core/runtime/spawn.h"
#include "core/runtime/waitable.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::runtime {
namespace {

using sim::RunResult;
using sim::Scheduler;
using sim::SchedulerOptions;

// Set() wakes every fiber waiting at that moment, even when the event is
// reset before they run: a fiber woken by Set() returns. (Shared events that
// every waiter resets before waiting again — the WAL's "durable advanced" —
// otherwise keep all but the first waiter asleep until the next Set.)
TEST(WakeUps, ASetFollowedByAResetStillReleasesTheWaitersPresent) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .fifo = true});
  Event event(scheduler);
  int released = 0;
  for (int i = 0; i < 3; ++i) {
    scheduler.StartFiber("waiter", [&] {
      event.Wait();
      ++released;
    });
  }
  scheduler.StartFiber("pulser", [&] {
    event.Set();
    event.Reset();
  });
  const RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, RunResult::Outcome::kCompleted) << result.detail;
  scheduler.Shutdown();  // the waiters, if they still sleep, before the event goes
  EXPECT_EQ(released, 3);
}

// The lock is handed to the first waiter, which is killed before it runs:
// the wake-up must reach the next waiter, not die with the first.
TEST(WakeUps, AMutexWakeUpForAKilledWaiterReachesTheNext) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .fifo = true});
  const sim::NodeId doomed = scheduler.AddNode("doomed");
  Mutex mutex(scheduler);
  bool next_acquired = false;
  scheduler.StartFiber("holder", [&] {
    mutex.Lock();
    scheduler.Yield();  // both waiters queue up
    scheduler.Yield();
    mutex.Unlock();             // wakes the doomed waiter, first in line
    scheduler.Crash(doomed, "before the woken waiter runs");
  });
  scheduler.StartFiberOn(doomed, "doomed-waiter", [&] { MutexLock lock(mutex); });
  scheduler.StartFiber("next-waiter", [&] {
    MutexLock lock(mutex);
    next_acquired = true;
  });
  const RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, RunResult::Outcome::kCompleted) << result.detail;
  scheduler.Shutdown();
  EXPECT_TRUE(next_acquired);
}

TEST(WakeUps, MovingAPromiseOntoItselfKeepsItsFutureWaiting) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  Promise<int> promise(scheduler);
  Future<int> future = promise.GetFuture();
  Promise<int>& same = promise;
  promise = std::move(same);
  EXPECT_FALSE(future.ready());
  promise.Set(7);
  ASSERT_TRUE(future.ready());
  EXPECT_EQ(*future.Get(), 7);
}

using WakeUpsDeathTest = ::testing::Test;

TEST(WakeUpsDeathTest, AskingAnInvalidFutureOrHandleIsACheckedError) {
  EXPECT_DEATH((void)Future<int>().ready(), "valid");
  EXPECT_DEATH((void)JoinHandle().done(), "valid");
}

// Receivers on one channel, some blocked in Receive, some in a select over
// the channel and an event that a third party sets, one node of them
// crashing midway: every item sent is received exactly once and the run
// completes (a lost wake-up shows as a deadlock with items queued).
RC_GTEST_PROP(WakeUps, ReceiversAndSelectsOnOneChannelLoseNoItem, (uint64_t seed)) {
  Scheduler scheduler(SchedulerOptions{.seed = seed});
  const sim::NodeId doomed = scheduler.AddNode("doomed");
  Channel<int> channel(scheduler, 2);
  Event distraction(scheduler);
  constexpr int kItems = 40;
  std::vector<int> received;
  auto receiver = [&](bool selects) {
    return [&, selects] {
      while (true) {
        if (selects) {
          auto ready = WaitAny(scheduler, {&distraction, &channel}, kNoDeadline);
          RC_ASSERT(ready.has_value());
          if (*ready == 0) {
            scheduler.Yield();  // the event stays set: take turns with the rest
            if (auto item = channel.TryReceive()) received.push_back(*item);
            if (channel.closed() && channel.size() == 0) return;
            continue;
          }
        }
        absl::StatusOr<int> item = channel.Receive();
        if (!item.ok()) return;
        received.push_back(*item);
      }
    };
  };
  for (int i = 0; i < 3; ++i) scheduler.StartFiberOn(doomed, "doomed", receiver(i % 2 == 0));
  for (int i = 0; i < 3; ++i) scheduler.StartFiber("receiver", receiver(i % 2 == 0));
  scheduler.StartFiber("producer", [&] {
    for (int i = 0; i < kItems; ++i) {
      RC_ASSERT(channel.Send(i).ok());
      if (i == kItems / 3) distraction.Set();
      if (i == kItems / 2) scheduler.Crash(doomed, "midway");
    }
    channel.Close();
  });
  const RunResult result = scheduler.Run();
  scheduler.Shutdown();  // whatever still waits, before the channel goes
  RC_ASSERT(result.outcome == RunResult::Outcome::kCompleted);
  std::vector<int> sorted = received;
  std::sort(sorted.begin(), sorted.end());
  RC_ASSERT(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  RC_ASSERT(sorted.size() == static_cast<size_t>(kItems));
}

// A receive whose deadline falls at the very instant the item is sent: in
// either order the item is received exactly once — by the receiver (its
// wake-up won) or, after it timed out, by a later receive — never lost and
// never twice, whatever the seed picks first.
RC_GTEST_PROP(WakeUps, ADeadlineAtTheInstantOfTheSendNeitherLosesNorDoublesTheItem,
              (uint64_t seed)) {
  Scheduler scheduler(SchedulerOptions{.seed = seed});
  Channel<int> channel(scheduler, 1);
  int received = 0;
  scheduler.StartFiber("receiver", [&] {
    absl::StatusOr<int> item = channel.Receive(100);
    if (item.ok()) ++received;
  });
  scheduler.StartFiber("sender", [&] {
    scheduler.SleepUntil(100);
    RC_ASSERT(channel.TrySend(7).ok());
  });
  const RunResult result = scheduler.Run();
  scheduler.Shutdown();
  RC_ASSERT(result.outcome == RunResult::Outcome::kCompleted);
  RC_ASSERT(received + static_cast<int>(channel.size()) == 1);
  RC_ASSERT(scheduler.NowNs() == 100);
}

}  // namespace
}  // namespace faultline::runtime
