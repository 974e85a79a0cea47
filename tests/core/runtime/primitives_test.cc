// Tests for core/runtime's primitives (Event, Promise/Future, Channel, Mutex,
// WaitAny, Spawn/Join, sleep), run on the deterministic scheduler.
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

void ExpectCompleted(Scheduler& scheduler) {
  RunResult result = scheduler.Run();
  EXPECT_EQ(result.outcome, RunResult::Outcome::kCompleted) << result.detail;
}

TEST(Event, WakesAllWaitersAndStaysSet) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  Event event(scheduler);
  int woke = 0;
  for (int i = 0; i < 5; ++i) scheduler.StartFiber("w", [&] { event.Wait(); ++woke; });
  scheduler.StartFiber("setter", [&] {
    scheduler.SleepFor(100);
    EXPECT_EQ(woke, 0);
    event.Set();
  });
  ExpectCompleted(scheduler);
  EXPECT_EQ(woke, 5);
  EXPECT_TRUE(event.is_set());
}

TEST(Event, WaitForTimesOutOnTime) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  Event event(scheduler);
  scheduler.StartFiber("w", [&] {
    EXPECT_FALSE(event.WaitFor(250));
    EXPECT_EQ(scheduler.NowNs(), 250);
  });
  ExpectCompleted(scheduler);
}

TEST(Future, DeliversTheValueToEveryCopy) {
  Scheduler scheduler(SchedulerOptions{.seed = 2});
  Promise<int> promise(scheduler);
  Future<int> a = promise.GetFuture();
  Future<int> b = a;
  std::vector<int> got;
  scheduler.StartFiber("a", [&] { got.push_back(*a.Get()); });
  scheduler.StartFiber("b", [&] { got.push_back(*b.Get()); });
  scheduler.StartFiber("p", [&] { scheduler.SleepFor(10); promise.Set(7); });
  ExpectCompleted(scheduler);
  EXPECT_THAT(got, ::testing::ElementsAre(7, 7));
}

TEST(Future, CarriesErrorsAndTimesOut) {
  Scheduler scheduler(SchedulerOptions{.seed = 2});
  Promise<int> promise(scheduler);
  Future<int> future = promise.GetFuture();
  scheduler.StartFiber("w", [&] {
    EXPECT_FALSE(future.WaitFor(5));
    EXPECT_EQ(scheduler.NowNs(), 5);
    EXPECT_TRUE(absl::IsInternal(future.Get().status()));
  });
  scheduler.StartFiber("p", [&] { scheduler.SleepFor(20); promise.Set(absl::InternalError("eio")); });
  ExpectCompleted(scheduler);
}

TEST(Future, ADroppedPromiseCancelsItsFutures) {
  Scheduler scheduler(SchedulerOptions{.seed = 3});
  auto promise = std::make_unique<Promise<int>>(scheduler);
  Future<int> future = promise->GetFuture();
  scheduler.StartFiber("w", [&] { EXPECT_TRUE(absl::IsCancelled(future.Get().status())); });
  scheduler.StartFiber("p", [&] { scheduler.SleepFor(1); promise.reset(); });
  ExpectCompleted(scheduler);
}

TEST(Channel, BlocksSendersWhenFullAndPreservesOrder) {
  Scheduler scheduler(SchedulerOptions{.seed = 4});
  Channel<int> channel(scheduler, 2);
  std::vector<int> received;
  scheduler.StartFiber("producer", [&] {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(channel.Send(i).ok());
    channel.Close();
  });
  scheduler.StartFiber("consumer", [&] {
    while (true) {
      EXPECT_LE(channel.size(), channel.capacity());
      absl::StatusOr<int> item = channel.Receive();
      if (!item.ok()) {
        EXPECT_TRUE(absl::IsOutOfRange(item.status()));
        break;
      }
      received.push_back(*item);
      scheduler.SleepFor(3);
    }
  });
  ExpectCompleted(scheduler);
  EXPECT_THAT(received, ::testing::ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
}

TEST(Channel, TimeoutsAndClosedErrors) {
  Scheduler scheduler(SchedulerOptions{.seed = 4});
  Channel<std::string> channel(scheduler, 1);
  scheduler.StartFiber("f", [&] {
    EXPECT_TRUE(absl::IsDeadlineExceeded(channel.Receive(scheduler.NowNs() + 7).status()));
    EXPECT_EQ(scheduler.NowNs(), 7);
    EXPECT_TRUE(channel.TrySend("x").ok());
    EXPECT_TRUE(absl::IsResourceExhausted(channel.TrySend("y")));
    EXPECT_TRUE(absl::IsDeadlineExceeded(channel.Send("y", scheduler.NowNs() + 3)));
    channel.Close();
    EXPECT_TRUE(absl::IsFailedPrecondition(channel.Send("z")));
    EXPECT_EQ(*channel.Receive(), "x");  // drained after close
    EXPECT_TRUE(absl::IsOutOfRange(channel.Receive().status()));
    EXPECT_EQ(channel.TryReceive(), std::nullopt);
  });
  ExpectCompleted(scheduler);
}

TEST(Channel, ANotificationForACrashedReceiverIsPassedOn) {
  Scheduler scheduler(SchedulerOptions{.seed = 5, .fifo = true});
  const sim::NodeId doomed = scheduler.AddNode("doomed");
  Channel<int> channel(scheduler, 4);
  std::vector<int> survivor_got;
  scheduler.StartFiberOn(doomed, "doomed-receiver", [&] { (void)channel.Receive(); });
  scheduler.StartFiber("survivor", [&] { survivor_got.push_back(*channel.Receive()); });
  scheduler.StartFiber("sender-then-crash", [&] {
    scheduler.SleepFor(1);
    ASSERT_TRUE(channel.TrySend(42).ok());  // notifies the doomed receiver (first in line)
    scheduler.Crash(doomed, "crash before it runs");
  });
  ExpectCompleted(scheduler);
  EXPECT_THAT(survivor_got, ::testing::ElementsAre(42));
}

TEST(Mutex, TryLockAndOwnership) {
  Scheduler scheduler(SchedulerOptions{.seed = 6});
  Mutex mutex(scheduler);
  scheduler.StartFiber("a", [&] {
    EXPECT_TRUE(mutex.TryLock());
    EXPECT_TRUE(mutex.locked());
    scheduler.SleepFor(10);
    mutex.Unlock();
  });
  scheduler.StartFiber("b", [&] {
    scheduler.SleepFor(1);
    EXPECT_FALSE(mutex.TryLock());
    MutexLock lock(mutex);  // waits for a
    EXPECT_EQ(scheduler.NowNs(), 10);
  });
  ExpectCompleted(scheduler);
}

TEST(Mutex, IsReleasedWhenItsHolderCrashes) {
  Scheduler scheduler(SchedulerOptions{.seed = 7});
  const sim::NodeId node = scheduler.AddNode("n1");
  Mutex mutex(scheduler);
  bool acquired = false;
  scheduler.StartFiberOn(node, "holder", [&] {
    MutexLock lock(mutex);
    scheduler.SleepFor(1'000'000);
  });
  scheduler.StartFiber("other", [&] {
    scheduler.SleepFor(5);
    scheduler.Crash(node, "holder dies");
    MutexLock lock(mutex);
    acquired = true;
  });
  ExpectCompleted(scheduler);
  EXPECT_TRUE(acquired);
}

TEST(WaitAny, ReturnsTheFirstReadyOrTimesOut) {
  Scheduler scheduler(SchedulerOptions{.seed = 8});
  Event event(scheduler);
  Promise<int> promise(scheduler);
  Future<int> future = promise.GetFuture();
  Channel<int> channel(scheduler, 1);
  scheduler.StartFiber("selector", [&] {
    EXPECT_EQ(WaitAny(scheduler, {&event, future.waitable(), &channel}, 10), std::nullopt);
    EXPECT_EQ(scheduler.NowNs(), 10);
    EXPECT_EQ(WaitAny(scheduler, {&event, future.waitable(), &channel}, 1000), 1u);
    EXPECT_EQ(scheduler.NowNs(), 20);
    EXPECT_EQ(WaitAny(scheduler, {&event, &channel}, 1000), 1u);
    EXPECT_EQ(scheduler.NowNs(), 30);
  });
  scheduler.StartFiber("actor", [&] {
    scheduler.SleepFor(20);
    promise.Set(1);
    scheduler.SleepFor(10);
    ASSERT_TRUE(channel.TrySend(5).ok());
  });
  ExpectCompleted(scheduler);
}

TEST(Spawn, JoinWaitsForTheChild) {
  Scheduler scheduler(SchedulerOptions{.seed = 9});
  std::vector<std::string> log;
  scheduler.StartFiber("parent", [&] {
    JoinHandle child = Spawn(scheduler, "child", [&] {
      scheduler.SleepFor(50);
      log.push_back("child");
    });
    EXPECT_FALSE(child.JoinUntil(scheduler.NowNs() + 10));
    child.Join();
    log.push_back("parent");
  });
  ExpectCompleted(scheduler);
  EXPECT_THAT(log, ::testing::ElementsAre("child", "parent"));
}

TEST(Sleep, ZeroAndNegativeDurationsReturnAtOnce) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  scheduler.StartFiber("f", [&] {
    scheduler.SleepFor(0);
    scheduler.SleepFor(-5);
    scheduler.SleepUntil(0);  // a deadline already passed
    EXPECT_EQ(scheduler.NowNs(), 0);
  });
  ExpectCompleted(scheduler);
}

}  // namespace
}  // namespace faultline::runtime
