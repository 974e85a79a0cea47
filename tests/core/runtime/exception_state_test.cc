// Exceptions in flight or being handled belong to one fiber. The C++ runtime
// keeps them per thread (the stack of caught exceptions and the count of
// uncaught ones), and every fiber of an executor shares its thread, so the
// executors must give each fiber its own copy across switches: a catch
// block that parks must come back to its own exception, and a fiber must
// not see another fiber's exception as in flight.
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "core/posix/event_loop.h"
#include "core/runtime/event.h"
#include "core/runtime/executor.h"
#include "core/runtime/spawn.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::runtime {
namespace {

struct SimWorld {
  sim::Scheduler scheduler{sim::SchedulerOptions{.seed = 1, .fifo = true}};
  Executor& executor() { return scheduler; }
  void Run() {
    const sim::RunResult result = scheduler.Run();
    EXPECT_TRUE(result.ok()) << result.detail;
  }
};

struct PosixWorld {
  posix::EventLoop loop{posix::EventLoopOptions{.io_threads = 1}};
  Executor& executor() { return loop; }
  void Run() { loop.Run(); }
};

template <typename World>
class ExceptionState : public ::testing::Test {};
using Worlds = ::testing::Types<SimWorld, PosixWorld>;
TYPED_TEST_SUITE(ExceptionState, Worlds);

// What the current exception of the calling fiber says, or "none".
std::string CurrentExceptionText() {
  std::exception_ptr current = std::current_exception();
  if (current == nullptr) return "none";
  try {
    std::rethrow_exception(current);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
}

// Two fibers each park inside a catch block (a retry after a back-off is the
// everyday shape); the first leaves its handler while the second is still in
// its own. Sharing the thread's stack of caught exceptions, the first would
// end the second's exception (freeing it under the second's handler) and
// the second would then see the first's as its current exception.
TYPED_TEST(ExceptionState, ACatchBlockThatParksKeepsItsOwnException) {
  TypeParam world;
  Executor& executor = world.executor();
  Event x_may_leave(executor);
  std::string x_seen, y_seen;
  executor.StartFiber("x", [&] {
    try {
      throw std::runtime_error("x");
    } catch (const std::runtime_error&) {
      x_may_leave.Wait();  // y enters its handler meanwhile
      x_seen = CurrentExceptionText();
    }
  });
  executor.StartFiber("y", [&] {
    try {
      throw std::runtime_error("y");
    } catch (const std::runtime_error&) {
      x_may_leave.Set();
      executor.Yield();  // x leaves its handler meanwhile
      y_seen = CurrentExceptionText();
    }
  });
  world.Run();
  EXPECT_EQ(x_seen, "x");
  EXPECT_EQ(y_seen, "y");
}

// A fiber whose destructor parks while an ordinary exception unwinds it (it
// was not killed) must not make other fibers believe an exception is in
// flight: a killed fiber that believed so would not throw FiberKilled but
// get kKilled back from Park and run on.
TYPED_TEST(ExceptionState, AnExceptionInFlightIsNotSeenByOtherFibers) {
  TypeParam world;
  Executor& executor = world.executor();
  Event go_on(executor);
  int seen_by_other = -1;
  executor.StartFiber("unwinding", [&] {
    struct ParksWhileUnwinding {
      Event& go_on;
      ~ParksWhileUnwinding() { go_on.Wait(); }
    };
    try {
      ParksWhileUnwinding guard{go_on};
      throw std::runtime_error("unwinding");
    } catch (const std::runtime_error&) {
    }
  });
  executor.StartFiber("other", [&] {
    seen_by_other = std::uncaught_exceptions();
    go_on.Set();
  });
  world.Run();
  EXPECT_EQ(seen_by_other, 0);
}

}  // namespace
}  // namespace faultline::runtime
