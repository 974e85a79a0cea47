// The SIGSEGV handler that names a fiber which overflowed into its guard gap
// (core/posix/internal/fiber_stack.h) must leave every other SIGSEGV as it
// was: a fault elsewhere still kills the process with SIGSEGV and is not
// called an overflow, a signal sent by kill() or raise() is not swallowed,
// and a handler installed before it still gets the faults that are not
// overflows.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/posix/internal/fiber_stack.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::runtime {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SegvReporterDeathTest : public ::testing::Test {
 protected:
  SegvReporterDeathTest() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// Dies of anything: a signal, or a sanitizer's report and non-zero exit.
bool Died(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

[[gnu::noinline]] void WriteThrough(volatile int* pointer) { *pointer = 1; }

// A page nobody may touch that is no fiber's guard gap: writing there is a
// plain fault (and, unlike a null pointer, not caught earlier by UBSan).
volatile int* InaccessiblePage() {
  void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) std::abort();
  return static_cast<volatile int*>(page);
}

TEST_F(SegvReporterDeathTest, ARaisedSigsegvIsNotSwallowed) {
  EXPECT_EXIT(
      {
        posix::internal::InstallStackOverflowReporter();
        raise(SIGSEGV);
        std::exit(0);  // reached only if the signal was swallowed
      },
      Died, "");
}

TEST_F(SegvReporterDeathTest, AStrayWriteInAFiberIsNotCalledAnOverflow) {
  EXPECT_EXIT(
      {
        sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
        scheduler.StartFiber("faulty", [] { WriteThrough(InaccessiblePage()); });
        scheduler.Run();
        std::exit(0);
      },
      Died, Not(HasSubstr("overflowed")));
}

volatile sig_atomic_t earlier_handler_ran = 0;

TEST_F(SegvReporterDeathTest, AHandlerInstalledBeforeStillSeesOtherFaults) {
  EXPECT_EXIT(
      {
        struct sigaction action {};
        action.sa_handler = [](int) {
          earlier_handler_ran = 1;
          static const char kText[] = "earlier handler\n";
          [[maybe_unused]] ssize_t written = write(STDERR_FILENO, kText, sizeof(kText) - 1);
          _exit(3);
        };
        sigemptyset(&action.sa_mask);
        sigaction(SIGSEGV, &action, nullptr);
        sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
        scheduler.StartFiber("faulty", [] { WriteThrough(InaccessiblePage()); });
        scheduler.Run();
        std::exit(0);
      },
      ::testing::ExitedWithCode(3), HasSubstr("earlier handler"));
}

// Recurses until the thread's own stack runs out (no tail call, no loop).
// (Bounded by the argument only in name: the stack ends long before.)
[[gnu::noinline]] int Recurse(int depth, int limit) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (depth == limit) return frame[0];
  return Recurse(depth + 1, limit) + frame[0];
}

// An overflow of the main thread's stack (not a fiber's) still kills the
// process with SIGSEGV and is not blamed on a fiber, even while fibers exist.
TEST_F(SegvReporterDeathTest, AMainThreadOverflowIsNotBlamedOnAFiber) {
  EXPECT_EXIT(
      {
        sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
        scheduler.StartFiber("idle", [] {});
        scheduler.Run();
        std::exit(Recurse(0, 1 << 30) == 0 ? 0 : 0);
      },
      Died, Not(HasSubstr("fiber '")));
}

}  // namespace
}  // namespace faultline::runtime
