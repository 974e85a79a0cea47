// core/runtime/internal/wait_queue.cc — see wait_queue.h.
#include "core/runtime/internal/wait_queue.h"

#include <array>
#include <exception>

#include "core/base/check.h"

namespace faultline::runtime::internal {

WaitQueue::~WaitQueue() {
  // A waiter's node lives on its fiber's stack; a queue must outlive its
  // waiters, or they would resume into freed memory.
  FAULTLINE_CHECK_MSG(head_ == nullptr, "a WaitQueue was destroyed while fibers wait on it (unwind the fibers "
                      "first, e.g. sim::Scheduler::Shutdown())");
}

void WaitQueue::Link(WaitNode* node) {
  FAULTLINE_CHECK(node->owner == nullptr);
  node->owner = this;
  node->prev = tail_;
  node->next = nullptr;
  if (tail_ != nullptr) tail_->next = node; else head_ = node;
  tail_ = node;
}

void WaitQueue::Unlink(WaitNode* node) {
  FAULTLINE_CHECK(node->owner == this);
  if (node->prev != nullptr) node->prev->next = node->next; else head_ = node->next;
  if (node->next != nullptr) node->next->prev = node->prev; else tail_ = node->prev;
  node->owner = nullptr;
  node->prev = node->next = nullptr;
}

bool WaitQueue::NotifyOne(Executor& executor) {
  while (head_ != nullptr) {
    WaitNode* node = head_;
    Unlink(node);
    if (node->state->fired_by != nullptr) continue;  // already woken elsewhere
    node->state->fired_by = this;
    executor.Unpark(node->state->fiber);
    return true;
  }
  return false;
}

void WaitQueue::NotifyAll(Executor& executor) {
  while (NotifyOne(executor)) {
  }
}

int WaitOn(Executor& executor, absl::Span<WaitQueue* const> queues, int64_t deadline_ns,
           std::string_view waiting_on) {
  FAULTLINE_CHECK(queues.size() >= 1 && queues.size() <= kMaxWaitQueues);
  Fiber* self = executor.CurrentFiber();
  FAULTLINE_CHECK_MSG(self != nullptr, "waiting outside a fiber");

  WaitState state{.fiber = self};
  std::array<WaitNode, kMaxWaitQueues> nodes{};
  // Unlinks whatever is still linked, on every exit path including a
  // FiberKilled unwind, and hands a notification this fiber can no longer
  // use to the next waiter of that queue.
  struct Cleanup {
    Executor& executor;
    WaitState& state;
    std::array<WaitNode, kMaxWaitQueues>& nodes;
    size_t count;
    int uncaught_at_entry;
    ~Cleanup() {
      for (size_t i = 0; i < count; ++i) {
        if (nodes[i].owner != nullptr) nodes[i].owner->Unlink(&nodes[i]);
      }
      bool unwinding = std::uncaught_exceptions() > uncaught_at_entry;
      if (unwinding && state.fired_by != nullptr) state.fired_by->NotifyOne(executor);
    }
  } cleanup{executor, state, nodes, queues.size(), std::uncaught_exceptions()};

  size_t i = 0;
  for (WaitQueue* queue : queues) {
    nodes[i].state = &state;
    queue->Link(&nodes[i]);
    ++i;
  }
  while (state.fired_by == nullptr) {
    WakeReason reason = executor.Park(deadline_ns, waiting_on);
    if (reason == WakeReason::kKilled) {
      // Unwinding: pass any notification on and report a timeout.
      if (state.fired_by != nullptr) {
        state.fired_by->NotifyOne(executor);
        state.fired_by = nullptr;
      }
      return kWaitKilled;
    }
    if (reason == WakeReason::kTimedOut && state.fired_by == nullptr) return kWaitTimedOut;
  }
  i = 0;
  for (WaitQueue* queue : queues) {
    if (queue == state.fired_by) return static_cast<int>(i);
    ++i;
  }
  FAULTLINE_CHECK_MSG(false, "notified by a queue it did not wait on");
  return kWaitTimedOut;
}

}  // namespace faultline::runtime::internal
