// core/runtime/waitable.h — something a fiber can wait to become ready, and
// WaitAny: wait for the first of several with a timeout (select).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>

#include "core/runtime/executor.h"
#include "core/runtime/internal/wait_queue.h"

namespace faultline::runtime {

class Waitable {
 public:
  // Whether a wait would return at once.
  virtual bool IsReady() const = 0;
  // The queue notified whenever IsReady() may have become true.
  virtual internal::WaitQueue& ReadyQueue() = 0;

 protected:
  ~Waitable() = default;
};

// Waits until one of `waitables` (at most internal::kMaxWaitQueues) is ready
// or `timeout_ns` passes. Returns the index of a ready one — the lowest index
// among those ready when it returns — or nullopt on timeout. A wake-up it
// does not use (it was woken by one waitable and returns another) is passed
// on to the next waiter of the waitable that sent it, so a select never
// swallows the one wake-up a notify-one primitive (Channel) gives.
std::optional<size_t> WaitAny(Executor& executor, std::initializer_list<Waitable*> waitables,
                              int64_t timeout_ns);

}  // namespace faultline::runtime
