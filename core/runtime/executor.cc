// core/runtime/executor.cc — sleeping, written once on Park.
#include "core/runtime/executor.h"

namespace faultline::runtime {

void Executor::SleepUntil(int64_t deadline_ns) {
  while (NowNs() < deadline_ns) {
    if (Park(deadline_ns, "sleep") == WakeReason::kKilled) return;
  }
}

void Executor::SleepFor(int64_t duration_ns) { SleepUntil(DeadlineAfter(NowNs(), duration_ns)); }

}  // namespace faultline::runtime
