// core/runtime/event.cc — see event.h.
#include "core/runtime/event.h"

namespace faultline::runtime {

void Event::Set() {
  set_ = true;
  waiters_.NotifyAll(executor_);
}

bool Event::WaitUntil(int64_t deadline_ns) {
  if (set_) return true;
  internal::WaitQueue* queue = &waiters_;
  // Only Set() notifies this queue (directly, or through a select passing
  // its wake-up on while the event was set), so a notification means the
  // event was set while this fiber waited: it returns even if a Reset()
  // came before it ran. Re-checking set_ instead would put it back to
  // sleep and lose the wake-up.
  return internal::WaitOn(executor_, {&queue, 1}, deadline_ns, "Event") >= 0 || set_;
}

}  // namespace faultline::runtime
