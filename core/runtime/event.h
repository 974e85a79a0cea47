// core/runtime/event.h — a one-shot (resettable) signal fibers can wait on.
#pragma once

#include <cstdint>

#include "core/runtime/executor.h"
#include "core/runtime/internal/wait_queue.h"
#include "core/runtime/waitable.h"

namespace faultline::runtime {

// Fibers wait until the event is set; Set() wakes them all and the event stays
// set until Reset(). Every fiber waiting when Set() is called returns from its
// wait as set, even if Reset() comes before it runs (a pulse is not lost);
// it re-checks its own condition. Waiters must be gone before the Event is
// destroyed.
class Event final : public Waitable {
 public:
  explicit Event(Executor& executor) : executor_(executor) {}

  bool is_set() const { return set_; }

  // Sets the event and wakes every waiter. Callable from outside fibers.
  void Set();
  void Reset() { set_ = false; }

  // Waits until set. Throws FiberKilled on crash.
  void Wait() { WaitUntil(kNoDeadline); }
  // Waits until set or the deadline/timeout passes; returns whether it was
  // set (at the return, or by a Set() during the wait).
  bool WaitUntil(int64_t deadline_ns);
  bool WaitFor(int64_t timeout_ns) {
    return WaitUntil(DeadlineAfter(executor_.NowNs(), timeout_ns));
  }

  bool IsReady() const override { return set_; }
  internal::WaitQueue& ReadyQueue() override { return waiters_; }

 private:
  Executor& executor_;
  bool set_ = false;
  internal::WaitQueue waiters_;
};

}  // namespace faultline::runtime
