// core/runtime/future.h — Promise<T> / Future<T>: a value produced once by
// one fiber and awaited by others (e.g. "this WAL record is durable").
//
// A future resolves to absl::StatusOr<T>, so a producer can fail it, and a
// promise destroyed without a value (its owner crashed or gave up) resolves
// its futures to Cancelled instead of leaving waiters hanging forever.
// Futures are cheap to copy; all copies see the same result.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/check.h"
#include "core/runtime/executor.h"
#include "core/runtime/internal/wait_queue.h"
#include "core/runtime/waitable.h"

namespace faultline::runtime {

namespace internal {
template <typename T>
struct FutureState final : Waitable {
  explicit FutureState(Executor& e) : executor(e) {}
  Executor& executor;
  std::optional<absl::StatusOr<T>> result;
  WaitQueue waiters;

  bool IsReady() const override { return result.has_value(); }
  WaitQueue& ReadyQueue() override { return waiters; }
};
}  // namespace internal

template <typename T>
class Future {
 public:
  Future() = default;  // an invalid future; valid() is false

  bool valid() const { return state_ != nullptr; }
  // Every member below needs a valid() future (a checked error otherwise).
  bool ready() const {
    FAULTLINE_CHECK_MSG(valid(), "an invalid (default-constructed) Future was used");
    return state_->result.has_value();
  }

  // Waits for the result. Throws FiberKilled on crash.
  const absl::StatusOr<T>& Get() {
    WaitUntil(kNoDeadline);
    FAULTLINE_CHECK(ready());
    return *state_->result;
  }

  // Waits until ready or the deadline passes; returns ready().
  bool WaitUntil(int64_t deadline_ns) {
    FAULTLINE_CHECK(valid());
    while (!ready()) {
      internal::WaitQueue* queue = &state_->waiters;
      if (internal::WaitOn(state_->executor, {&queue, 1}, deadline_ns, "Future") < 0) break;
    }
    return ready();
  }
  bool WaitFor(int64_t timeout_ns) {
    FAULTLINE_CHECK(valid());
    return WaitUntil(DeadlineAfter(state_->executor.NowNs(), timeout_ns));
  }

  // For WaitAny.
  Waitable* waitable() {
    FAULTLINE_CHECK(valid());
    return state_.get();
  }

 private:
  template <typename>
  friend class Promise;
  explicit Future(std::shared_ptr<internal::FutureState<T>> state) : state_(std::move(state)) {}

  std::shared_ptr<internal::FutureState<T>> state_;
};

template <typename T>
class Promise {
 public:
  explicit Promise(Executor& executor)
      : state_(std::make_shared<internal::FutureState<T>>(executor)) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&& other) noexcept {
    if (&other == this) return *this;  // abandoning first would cancel its own futures
    Abandon();
    state_ = std::move(other.state_);
    return *this;
  }
  Promise(const Promise&) = delete;
  Promise& operator=(const Promise&) = delete;
  ~Promise() { Abandon(); }

  Future<T> GetFuture() const { return Future<T>(state_); }

  // Resolves every future; may be called once. Callable from outside fibers.
  void Set(absl::StatusOr<T> result) {
    FAULTLINE_CHECK(state_ != nullptr);
    FAULTLINE_CHECK_MSG(!state_->result.has_value(), "a Promise was set twice");
    state_->result.emplace(std::move(result));
    state_->waiters.NotifyAll(state_->executor);
  }
  bool is_set() const { return state_ != nullptr && state_->result.has_value(); }

 private:
  void Abandon() {
    if (state_ != nullptr && !state_->result.has_value()) {
      Set(absl::CancelledError("the promise was dropped without a value"));
    }
  }
  std::shared_ptr<internal::FutureState<T>> state_;
};

}  // namespace faultline::runtime
