// core/runtime/event.cc — see event.h.
#include "core/runtime/event.h"

namespace faultline::runtime {

void Event::Set() {
  set_ = true;
  waiters_.NotifyAll(executor_);
}

bool Event::WaitUntil(int64_t deadline_ns) {
  while (!set_) {
    internal::WaitQueue* queue = &waiters_;
    if (internal::WaitOn(executor_, {&queue, 1}, deadline_ns, "Event") < 0) break;
  }
  return set_;
}

}  // namespace faultline::runtime
