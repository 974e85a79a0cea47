// sim/scheduler/run_queue.h — the runnable fibers: a growable ring buffer.
//
// FIFO mode pops the front; seeded mode takes a random index and fills the
// hole with the last element. Both are O(1) with contiguous storage, which
// matters: picking the next fiber is on every scheduler step.
#pragma once

#include <cstddef>
#include <vector>

#include "core/base/check.h"

namespace faultline::sim::internal {

template <typename T>
class RunQueue {
 public:
  RunQueue() : slots_(16) {}

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void PushBack(T item) {
    if (size_ == slots_.size()) Grow();
    slots_[(head_ + size_) & (slots_.size() - 1)] = item;
    ++size_;
  }
  void PushFront(T item) {
    if (size_ == slots_.size()) Grow();
    head_ = (head_ + slots_.size() - 1) & (slots_.size() - 1);
    slots_[head_] = item;
    ++size_;
  }
  T PopFront() {
    FAULTLINE_CHECK(size_ > 0);
    T item = slots_[head_];
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    return item;
  }
  // Removes the item at `index` (from the front), moving the last item into
  // its place: order is not kept.
  T TakeAt(size_t index) {
    FAULTLINE_CHECK(index < size_);
    T& slot = At(index);
    T item = slot;
    slot = At(size_ - 1);
    --size_;
    return item;
  }
  // Removes `item`, keeping the order of the rest. O(n): crashes only.
  bool Erase(T item) {
    for (size_t i = 0; i < size_; ++i) {
      if (At(i) != item) continue;
      for (size_t j = i; j + 1 < size_; ++j) At(j) = At(j + 1);
      --size_;
      return true;
    }
    return false;
  }

 private:
  T& At(size_t index) { return slots_[(head_ + index) & (slots_.size() - 1)]; }
  void Grow() {
    std::vector<T> bigger(slots_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger[i] = At(i);
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;  // capacity is a power of two
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace faultline::sim::internal
