// core/io/clock.h — the one source of time production code may read.
//
// Production code never reads a system clock itself: it asks a Clock.
// In simulation the clock is virtual (it jumps to the next timer when nothing
// is runnable); in production it is CLOCK_MONOTONIC.
#pragma once

#include <cstdint>

namespace faultline::io {

class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic time in nanoseconds since an arbitrary, fixed origin. Never
  // decreases between two calls on the same Clock. Not wall-clock time.
  virtual int64_t NowNs() = 0;
};

inline constexpr int64_t kNanosPerMicro = 1'000;
inline constexpr int64_t kNanosPerMilli = 1'000'000;
inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

}  // namespace faultline::io
