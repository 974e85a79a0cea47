// core/runtime/internal/wait_queue.h — the one waiting mechanism under every
// primitive (Event, Future, Channel, Mutex, WaitAny).
//
// A WaitQueue is an intrusive FIFO list of waiters whose nodes live on the
// waiting fibers' stacks, so waiting allocates nothing and a fiber that is
// unwound (crash) unlinks itself in its destructors. One wait may sit on
// several queues at once (WaitAny); the first queue to notify it wins.
//
// Not API: use the primitives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "core/runtime/executor.h"

namespace faultline::runtime::internal {

class WaitQueue;

// What one waiting fiber shares across the queues it waits on.
struct WaitState {
  Fiber* fiber = nullptr;
  WaitQueue* fired_by = nullptr;  // the queue that notified, if any
};

struct WaitNode {
  WaitState* state = nullptr;
  WaitQueue* owner = nullptr;  // non-null while linked
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;
};

class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  ~WaitQueue();

  bool empty() const { return head_ == nullptr; }

  // Wakes the longest-waiting fiber that has not been woken through another
  // queue. Returns whether one was woken.
  bool NotifyOne(Executor& executor);
  // Wakes every waiter.
  void NotifyAll(Executor& executor);

  void Link(WaitNode* node);
  void Unlink(WaitNode* node);

 private:
  WaitNode* head_ = nullptr;
  WaitNode* tail_ = nullptr;
};

// The most queues one wait may sit on (WaitAny's bound).
inline constexpr size_t kMaxWaitQueues = 16;

inline constexpr int kWaitTimedOut = -1;
// Only while an exception is already in flight (see Executor::Park): the
// caller must give up waiting at once.
inline constexpr int kWaitKilled = -2;

// Parks the current fiber on every queue in `queues` until one notifies or
// `deadline_ns` passes. Returns the notifying queue's index, kWaitTimedOut or
// kWaitKilled. A notification that arrives for a fiber that is then killed is
// passed on to the next waiter of that queue, so no wake-up is lost to a crash.
int WaitOn(Executor& executor, absl::Span<WaitQueue* const> queues, int64_t deadline_ns,
           std::string_view waiting_on);

}  // namespace faultline::runtime::internal
