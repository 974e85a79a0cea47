// core/runtime/mutex.h — mutual exclusion between fibers of one executor.
//
// Only needed where a fiber parks while holding state others must not see
// half-changed (fibers never preempt each other between parks). Not
// reentrant. Waiters are woken in FIFO order, but a fiber that arrives while
// the mutex is free may take it first (no hand-off), so there is no
// starvation-freedom guarantee.
#pragma once

#include "core/base/check.h"
#include "core/runtime/executor.h"
#include "core/runtime/internal/wait_queue.h"

namespace faultline::runtime {

class Mutex {
 public:
  explicit Mutex(Executor& executor) : executor_(executor) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  ~Mutex() { FAULTLINE_CHECK_MSG(owner_ == nullptr, "a Mutex was destroyed while held"); }

  // Parks until the mutex is free, then takes it. Throws FiberKilled on crash.
  void Lock();
  // Takes the mutex if free; returns whether it did.
  bool TryLock();
  // Releases the mutex; must be called by the holder.
  void Unlock();

  bool locked() const { return owner_ != nullptr; }

 private:
  Executor& executor_;
  Fiber* owner_ = nullptr;
  internal::WaitQueue waiters_;
};

// Holds a Mutex for a scope; releases it on unwind too.
class MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) : mutex_(mutex) { mutex_.Lock(); }
  ~MutexLock() { mutex_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mutex_;
};

}  // namespace faultline::runtime
