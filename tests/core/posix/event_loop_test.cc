// tests/core/posix/event_loop_test.cc — the production executor: the same
// Park/Unpark/Yield contract as sim::Scheduler, real timers, fd waits,
// blocking work off the loop, and shutdown that unwinds fibers.
#include "core/posix/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/runtime/channel.h"
#include "core/runtime/event.h"
#include "core/runtime/future.h"
#include "core/runtime/mutex.h"
#include "core/runtime/spawn.h"
#include "core/runtime/waitable.h"
#include "tests/core/posix/posix_test_util.h"

namespace faultline::posix {
namespace {

using ::faultline::posix::testing::RunInFiber;
using runtime::WakeReason;

// Loose bound on how late a timer may fire on a loaded 2-core CI machine.
constexpr int64_t kSlackNs = 2 * io::kNanosPerSecond;

TEST(EventLoopTest, RunWithNoFibersCompletes) {
  EventLoop loop;
  EXPECT_EQ(loop.Run(), RunOutcome::kCompleted);
}

TEST(EventLoopTest, FibersStartAndYieldInFifoOrder) {
  EventLoop loop;
  std::string order;
  for (char name : std::string("abc")) {
    loop.StartFiber(std::string(1, name), [&, name] {
      order.push_back(name);
      loop.Yield();
      order.push_back(static_cast<char>(name - 'a' + 'A'));
    });
  }
  EXPECT_EQ(loop.Run(), RunOutcome::kCompleted);
  EXPECT_EQ(order, "abcABC");
}

TEST(EventLoopTest, CurrentFiberIsNullOutsideFibers) {
  EventLoop loop;
  EXPECT_EQ(loop.CurrentFiber(), nullptr);
  runtime::Fiber* seen = nullptr;
  RunInFiber(loop, [&] { seen = loop.CurrentFiber(); });
  EXPECT_NE(seen, nullptr);
}

TEST(EventLoopTest, ParkWithPastDeadlineTimesOutAtOnce) {
  EventLoop loop;
  RunInFiber(loop, [&] {
    EXPECT_EQ(loop.Park(loop.NowNs() - 1, "past"), WakeReason::kTimedOut);
    EXPECT_EQ(loop.Park(0, "zero"), WakeReason::kTimedOut);
  });
}

TEST(EventLoopTest, ParkTimesOutAfterDeadline) {
  EventLoop loop;
  RunInFiber(loop, [&] {
    const int64_t start_ns = loop.NowNs();
    const int64_t deadline_ns = start_ns + 20 * io::kNanosPerMilli;
    EXPECT_EQ(loop.Park(deadline_ns, "timer"), WakeReason::kTimedOut);
    EXPECT_GE(loop.NowNs(), deadline_ns);
    EXPECT_LT(loop.NowNs(), deadline_ns + kSlackNs);
  });
}

TEST(EventLoopTest, UnparkWakesParkedFiberAndIsNoOpOtherwise) {
  EventLoop loop;
  runtime::Fiber* sleeper = nullptr;
  WakeReason reason = WakeReason::kTimedOut;
  loop.StartFiber("sleeper", [&] {
    sleeper = loop.CurrentFiber();
    reason = loop.Park(runtime::kNoDeadline, "test");
  });
  loop.StartFiber("waker", [&] {
    ASSERT_NE(sleeper, nullptr);
    loop.Unpark(sleeper);
    loop.Unpark(sleeper);              // already runnable: no-op
    loop.Unpark(loop.CurrentFiber());  // running: no-op
  });
  EXPECT_EQ(loop.Run(), RunOutcome::kCompleted);
  EXPECT_EQ(reason, WakeReason::kUnparked);
}

TEST(EventLoopTest, UnparkCancelsTheDeadline) {
  EventLoop loop;
  RunInFiber(loop, [&] {
    runtime::Fiber* self = loop.CurrentFiber();
    runtime::Spawn(loop, "waker", [&] { loop.Unpark(self); });
    EXPECT_EQ(loop.Park(loop.NowNs() + 10 * io::kNanosPerSecond, "long"), WakeReason::kUnparked);
    // The cancelled timer does not fire later: a short park times out normally.
    EXPECT_EQ(loop.Park(loop.NowNs() + io::kNanosPerMilli, "short"), WakeReason::kTimedOut);
  });
}

TEST(EventLoopTest, SleepsWakeInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> woke;
  for (int delay_ms : {30, 10, 20}) {
    loop.StartFiber("sleeper", [&, delay_ms] {
      loop.SleepFor(delay_ms * io::kNanosPerMilli);
      woke.push_back(delay_ms);
    });
  }
  EXPECT_EQ(loop.Run(), RunOutcome::kCompleted);
  EXPECT_EQ(woke, (std::vector<int>{10, 20, 30}));
}

TEST(EventLoopTest, StopEndsRunAndRunResumes) {
  EventLoop loop;
  bool finished = false;
  loop.StartFiber("worker", [&] {
    loop.Stop();
    loop.Yield();
    finished = true;
  });
  EXPECT_EQ(loop.Run(), RunOutcome::kStopped);
  EXPECT_FALSE(finished);
  EXPECT_EQ(loop.Run(), RunOutcome::kCompleted);
  EXPECT_TRUE(finished);
}

TEST(EventLoopTest, StopFromAnotherThreadWakesABlockedLoop) {
  EventLoop loop;
  loop.StartFiber("forever", [&] { loop.Park(runtime::kNoDeadline, "forever"); });
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop.Stop();
  });
  EXPECT_EQ(loop.Run(), RunOutcome::kStopped);
  stopper.join();
  // The parked fiber is unwound by the destructor.
}

TEST(EventLoopTest, CallbackTimersFireAndCancel) {
  EventLoop loop;
  std::vector<std::string> fired;
  RunInFiber(loop, [&] {
    const int64_t now_ns = loop.NowNs();
    loop.AddTimer(now_ns + 5 * io::kNanosPerMilli, [&] { fired.push_back("a"); });
    const EventLoop::TimerId cancelled =
        loop.AddTimer(now_ns + 2 * io::kNanosPerMilli, [&] { fired.push_back("cancelled"); });
    loop.AddTimer(now_ns + io::kNanosPerMilli, [&] { fired.push_back("b"); });
    EXPECT_TRUE(loop.CancelTimer(cancelled));
    EXPECT_FALSE(loop.CancelTimer(cancelled));
    loop.SleepFor(20 * io::kNanosPerMilli);
  });
  EXPECT_EQ(fired, (std::vector<std::string>{"b", "a"}));
}

TEST(EventLoopTest, DestructorUnwindsParkedFibers) {
  int unwound = 0;
  bool caught_in_body = false;
  {
    EventLoop loop;
    for (int i = 0; i < 3; ++i) {
      loop.StartFiber("parked", [&] {
        struct Counter {
          int& count;
          ~Counter() { ++count; }
        } counter{unwound};
        loop.Park(runtime::kNoDeadline, "forever");
      });
    }
    loop.StartFiber("catches-and-rethrows", [&] {
      try {
        loop.Park(runtime::kNoDeadline, "forever");
      } catch (...) {
        caught_in_body = true;
        throw;
      }
    });
    // Stop() ends the round before "never-started" gets its turn: the
    // destructor must unwind a fiber that never ran, without running it.
    loop.StartFiber("stopper", [&] { loop.Stop(); });
    loop.StartFiber("never-started", [&] { ADD_FAILURE() << "must not run"; });
    EXPECT_EQ(loop.Run(), RunOutcome::kStopped);
  }
  EXPECT_EQ(unwound, 3);
  EXPECT_TRUE(caught_in_body);
}

TEST(EventLoopTest, RuntimePrimitivesWorkOnTheLoop) {
  EventLoop loop;
  RunInFiber(loop, [&] {
    runtime::Channel<int> channel(loop, 2);
    runtime::Promise<std::string> promise(loop);
    runtime::Future<std::string> future = promise.GetFuture();
    runtime::Mutex mutex(loop);
    int in_critical_section = 0;
    int max_in_critical_section = 0;
    std::vector<runtime::JoinHandle> joins;
    joins.push_back(runtime::Spawn(loop, "producer", [&] {
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(channel.Send(i).ok());
      channel.Close();
    }));
    for (int i = 0; i < 3; ++i) {
      joins.push_back(runtime::Spawn(loop, "locker", [&] {
        runtime::MutexLock lock(mutex);
        ++in_critical_section;
        max_in_critical_section = std::max(max_in_critical_section, in_critical_section);
        loop.SleepFor(io::kNanosPerMilli);
        --in_critical_section;
      }));
    }
    joins.push_back(runtime::Spawn(loop, "promiser", [&] {
      loop.SleepFor(2 * io::kNanosPerMilli);
      promise.Set(std::string("done"));
    }));
    int sum = 0;
    for (int i = 0; i < 11; ++i) {  // 10 items, then OutOfRange
      auto item = channel.Receive();
      if (!item.ok()) break;
      sum += *item;
    }
    EXPECT_EQ(sum, 45);
    EXPECT_EQ(future.Get().value_or(""), "done");
    runtime::Event never(loop);
    auto which = runtime::WaitAny(loop, {&never}, io::kNanosPerMilli);
    EXPECT_FALSE(which.has_value());
    for (auto& join : joins) join.Join();
    EXPECT_EQ(max_in_critical_section, 1);
  });
}

TEST(EventLoopTest, RunBlockingRunsOffTheLoopThread) {
  EventLoop loop;
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id work_thread;
  RunInFiber(loop, [&] { loop.RunBlocking([&] { work_thread = std::this_thread::get_id(); }); });
  EXPECT_NE(work_thread, loop_thread);
  // Outside a fiber it runs inline.
  loop.RunBlocking([&] { work_thread = std::this_thread::get_id(); });
  EXPECT_EQ(work_thread, loop_thread);
}

// inline_when_idle_horizon_ns: a blocking call runs on the loop thread only
// when nothing else could need the loop meanwhile.
TEST(EventLoopTest, RunBlockingRunsInlineOnlyWhenTheLoopIsIdle) {
  EventLoopOptions options;
  options.inline_when_idle_horizon_ns = 10 * io::kNanosPerSecond;
  EventLoop loop(options);
  const std::thread::id loop_thread = std::this_thread::get_id();
  auto runs_inline = [&] {
    std::thread::id work_thread;
    loop.RunBlocking([&] { work_thread = std::this_thread::get_id(); });
    return work_thread == loop_thread;
  };
  RunInFiber(loop, [&] {
    // Alone on the loop: inline.
    EXPECT_TRUE(runs_inline());
    EXPECT_EQ(loop.inline_blocking_calls(), 1u);

    // Another fiber is runnable: off the loop.
    runtime::JoinHandle other = runtime::Spawn(loop, "other", [] {});
    EXPECT_FALSE(runs_inline());
    other.Join();

    // A timer due within the horizon: off the loop. One due later: inline.
    // (Both far enough out not to fire during the test on a slow machine.)
    const EventLoop::TimerId soon = loop.AddTimer(loop.NowNs() + 5 * io::kNanosPerSecond, [] {});
    EXPECT_FALSE(runs_inline());
    EXPECT_TRUE(loop.CancelTimer(soon));
    const EventLoop::TimerId later = loop.AddTimer(loop.NowNs() + 60 * io::kNanosPerSecond, [] {});
    EXPECT_TRUE(runs_inline());
    EXPECT_TRUE(loop.CancelTimer(later));

    // Another blocking call in flight: off the loop (its completion must not
    // wait behind this one).
    std::atomic<bool> release{false};
    runtime::JoinHandle blocked = runtime::Spawn(loop, "blocked", [&] {
      loop.RunBlocking([&] {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
      });
    });
    loop.Yield();  // let it start its call
    ASSERT_EQ(loop.inflight_io(), 1u);
    EXPECT_FALSE(runs_inline());
    release = true;
    blocked.Join();

    // A watched fd (a socket, say) could become ready meanwhile: off the loop.
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    {
      FdWatcher watcher(loop, fds[0]);
      EXPECT_FALSE(runs_inline());
    }
    close(fds[0]);
    close(fds[1]);
    EXPECT_TRUE(runs_inline());
    EXPECT_EQ(loop.inline_blocking_calls(), 3u);
  });
}

TEST(EventLoopTest, RunBlockingNeverRunsInlineByDefault) {
  EventLoop loop;
  RunInFiber(loop, [&] {
    for (int i = 0; i < 3; ++i) loop.RunBlocking([] {});
  });
  EXPECT_EQ(loop.inline_blocking_calls(), 0u);
}

// Both hand-off paths: sleeping threads woken through the condition variable
// and the eventfd (the default), and the optional busy-waits.
class RunBlockingTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(RunBlockingTest, IsBoundedAndAllComplete) {
  EventLoopOptions options;
  options.io_threads = 2;
  options.max_inflight_io = 3;
  options.io_thread_spin_ns = GetParam();
  options.loop_completion_spin_ns = GetParam();
  EventLoop loop(options);
  std::atomic<int> concurrent{0};
  std::atomic<int> max_concurrent{0};
  int completed = 0;
  RunInFiber(loop, [&] {
    std::vector<runtime::JoinHandle> joins;
    for (int i = 0; i < 12; ++i) {
      joins.push_back(runtime::Spawn(loop, "io", [&] {
        for (int call = 0; call < 10; ++call) {
          loop.RunBlocking([&] {
            const int now = ++concurrent;
            int seen = max_concurrent.load();
            while (now > seen && !max_concurrent.compare_exchange_weak(seen, now)) {
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            --concurrent;
          });
          EXPECT_LE(loop.inflight_io(), 3u);
        }
        ++completed;
      }));
    }
    for (auto& join : joins) join.Join();
  });
  EXPECT_EQ(completed, 12);
  EXPECT_LE(max_concurrent.load(), 2);
}

INSTANTIATE_TEST_SUITE_P(SpinNs, RunBlockingTest, ::testing::Values(0, 50'000));

class EventLoopPipeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0); }
  void TearDown() override {
    close(fds_[0]);
    close(fds_[1]);
  }
  int fds_[2] = {-1, -1};
};

TEST_F(EventLoopPipeTest, WaitReadableWakesOnData) {
  EventLoop loop;
  std::string got;
  RunInFiber(loop, [&] {
    FdWatcher reader(loop, fds_[0]);
    runtime::Spawn(loop, "writer", [&] {
      loop.SleepFor(5 * io::kNanosPerMilli);
      ASSERT_EQ(write(fds_[1], "hi", 2), 2);
    });
    for (int attempt = 0; attempt < 100 && got.empty(); ++attempt) {
      char buffer[8];
      const ssize_t n = read(fds_[0], buffer, sizeof(buffer));
      if (n > 0) {
        got.assign(buffer, static_cast<size_t>(n));
        break;
      }
      ASSERT_EQ(errno, EAGAIN);
      ASSERT_TRUE(reader.WaitReadable(loop.NowNs() + kSlackNs).ok());
    }
  });
  EXPECT_EQ(got, "hi");
}

TEST_F(EventLoopPipeTest, WaitReadableTimesOut) {
  EventLoop loop;
  RunInFiber(loop, [&] {
    FdWatcher reader(loop, fds_[0]);
    const int64_t deadline_ns = loop.NowNs() + 10 * io::kNanosPerMilli;
    absl::Status status = reader.WaitReadable(deadline_ns);
    EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
    EXPECT_GE(loop.NowNs(), deadline_ns);
    // The write end of an empty pipe is writable at once.
    FdWatcher writer(loop, fds_[1]);
    EXPECT_TRUE(writer.WaitWritable(loop.NowNs() + kSlackNs).ok());
  });
}

TEST_F(EventLoopPipeTest, CallbackSeesReadiness) {
  EventLoop loop;
  int calls = 0;
  RunInFiber(loop, [&] {
    FdWatcher reader(loop, fds_[0]);
    reader.SetCallback([&](uint32_t) {
      ++calls;
      char buffer[16];
      while (read(fds_[0], buffer, sizeof(buffer)) > 0) {
      }
      reader.SetInterest(false, false);
    });
    reader.SetInterest(true, false);
    ASSERT_EQ(write(fds_[1], "x", 1), 1);
    loop.SleepFor(10 * io::kNanosPerMilli);
  });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace faultline::posix
