// core/runtime/channel.h — a bounded FIFO queue between fibers, with close.
//
// The bound is the back-pressure: Send() parks while the channel is full.
// Close() wakes everybody; receivers drain what is left, then see OutOfRange.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/check.h"
#include "core/runtime/executor.h"
#include "core/runtime/internal/wait_queue.h"
#include "core/runtime/waitable.h"

namespace faultline::runtime {

template <typename T>
class Channel final : public Waitable {
 public:
  // capacity >= 1: the most items buffered at once.
  Channel(Executor& executor, size_t capacity) : executor_(executor), slots_(capacity) {
    FAULTLINE_CHECK(capacity >= 1);
  }

  size_t capacity() const { return slots_.size(); }
  size_t size() const { return size_; }
  bool closed() const { return closed_; }

  // Appends `value`, parking while full.
  //  FailedPrecondition  the channel is closed (value dropped)
  //  DeadlineExceeded    still full at the deadline
  absl::Status Send(T value, int64_t deadline_ns = kNoDeadline) {
    while (!closed_ && size_ == slots_.size()) {
      internal::WaitQueue* queue = &not_full_;
      if (internal::WaitOn(executor_, {&queue, 1}, deadline_ns, "Channel::Send") < 0) break;
    }
    if (closed_) return absl::FailedPreconditionError("send on a closed channel");
    if (size_ == slots_.size()) return absl::DeadlineExceededError("channel still full");
    Push(std::move(value));
    return absl::OkStatus();
  }

  // Appends without waiting. ResourceExhausted when full, FailedPrecondition
  // when closed.
  absl::Status TrySend(T value) {
    if (closed_) return absl::FailedPreconditionError("send on a closed channel");
    if (size_ == slots_.size()) return absl::ResourceExhaustedError("channel full");
    Push(std::move(value));
    return absl::OkStatus();
  }

  // Takes the oldest item, parking while empty.
  //  OutOfRange        closed and drained
  //  DeadlineExceeded  still empty at the deadline
  absl::StatusOr<T> Receive(int64_t deadline_ns = kNoDeadline) {
    while (!closed_ && size_ == 0) {
      internal::WaitQueue* queue = &not_empty_;
      if (internal::WaitOn(executor_, {&queue, 1}, deadline_ns, "Channel::Receive") < 0) break;
    }
    if (size_ > 0) return Pop();
    if (closed_) return absl::OutOfRangeError("channel closed");
    return absl::DeadlineExceededError("channel still empty");
  }

  // Takes the oldest item without waiting, if any.
  std::optional<T> TryReceive() {
    if (size_ == 0) return std::nullopt;
    return Pop();
  }

  // No more sends; wakes all waiters. Items already queued stay receivable.
  void Close() {
    closed_ = true;
    not_empty_.NotifyAll(executor_);
    not_full_.NotifyAll(executor_);
  }

  // Ready to receive: an item is queued, or the channel is closed.
  bool IsReady() const override { return size_ > 0 || closed_; }
  internal::WaitQueue& ReadyQueue() override { return not_empty_; }

 private:
  void Push(T value) {
    slots_[(head_ + size_) % slots_.size()].emplace(std::move(value));
    ++size_;
    not_empty_.NotifyOne(executor_);
  }
  T Pop() {
    T value = std::move(*slots_[head_]);
    slots_[head_].reset();
    head_ = (head_ + 1) % slots_.size();
    --size_;
    not_full_.NotifyOne(executor_);
    return value;
  }

  Executor& executor_;
  std::vector<std::optional<T>> slots_;  // ring buffer, fixed at construction
  size_t head_ = 0;
  size_t size_ = 0;
  bool closed_ = false;
  internal::WaitQueue not_empty_;
  internal::WaitQueue not_full_;
};

}  // namespace faultline::runtime
