// core/runtime/mutex.cc — see mutex.h.
#include "core/runtime/mutex.h"

namespace faultline::runtime {

void Mutex::Lock() {
  Fiber* self = executor_.CurrentFiber();
  FAULTLINE_CHECK_MSG(self != nullptr, "Mutex::Lock outside a fiber");
  FAULTLINE_CHECK_MSG(owner_ != self, "Mutex is not reentrant");
  while (owner_ != nullptr) {
    internal::WaitQueue* queue = &waiters_;
    // kWaitKilled only happens while unwinding; locking then is a bug.
    FAULTLINE_CHECK_MSG(internal::WaitOn(executor_, {&queue, 1}, kNoDeadline, "Mutex") >= 0,
                        "Mutex::Lock in a fiber being unwound while another fiber holds it "
                        "(destructors must not wait)");
  }
  owner_ = self;
}

bool Mutex::TryLock() {
  if (owner_ != nullptr) return false;
  owner_ = executor_.CurrentFiber();
  FAULTLINE_CHECK_MSG(owner_ != nullptr, "Mutex::TryLock outside a fiber");
  return true;
}

void Mutex::Unlock() {
  FAULTLINE_CHECK_MSG(owner_ != nullptr && owner_ == executor_.CurrentFiber(),
                      "Mutex unlocked by a fiber that does not hold it");
  owner_ = nullptr;
  waiters_.NotifyOne(executor_);
}

}  // namespace faultline::runtime
