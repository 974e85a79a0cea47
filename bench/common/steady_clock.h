// bench/common/steady_clock.h — the clocks benchmark programs time with:
// the monotonic wall clock and the calling thread's CPU clock, in integer
// nanoseconds. Benchmark code only (production code reads time through
// io::Clock).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

#include "core/base/check.h"

namespace faultline::bench {

// Monotonic wall-clock time.
inline int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU time consumed by the calling thread.
inline int64_t ThreadCpuNs() {
  timespec now{};
  FAULTLINE_CHECK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

}  // namespace faultline::bench
