// core/runtime/spawn.h — start a fiber and wait for it to finish.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "core/base/check.h"
#include "core/runtime/event.h"
#include "core/runtime/executor.h"

namespace faultline::runtime {

// Finishes when the fiber's body returns or is unwound by a crash.
class JoinHandle {
 public:
  JoinHandle() = default;

  bool valid() const { return done_ != nullptr; }
  // Every member below needs a valid() handle (a checked error otherwise).
  bool done() const { return Checked().is_set(); }

  // Waits for the fiber to finish. Throws FiberKilled if the waiter crashes.
  void Join() { Checked().Wait(); }
  // Waits up to the deadline; returns done().
  bool JoinUntil(int64_t deadline_ns) { return Checked().WaitUntil(deadline_ns); }

  // For WaitAny.
  Waitable* waitable() { return &Checked(); }

 private:
  template <typename Body>
  friend JoinHandle Spawn(Executor& executor, std::string name, Body body);
  explicit JoinHandle(std::shared_ptr<Event> done) : done_(std::move(done)) {}
  Event& Checked() const {
    FAULTLINE_CHECK_MSG(valid(), "an invalid (default-constructed) JoinHandle was used");
    return *done_;
  }

  std::shared_ptr<Event> done_;
};

// Starts `body` (a void() callable) as a fiber named `name` on the calling
// fiber's node. See Executor::StartFiber for what `body` may throw.
namespace internal {
// Sets the event when destroyed. The executor destroys a fiber's body when
// the fiber finishes — by returning, by being unwound, or without ever
// starting (its node crashed first) — so a join never waits forever.
class DoneSignal {
 public:
  explicit DoneSignal(std::shared_ptr<Event> done) : done_(std::move(done)) {}
  DoneSignal(DoneSignal&& other) noexcept = default;
  DoneSignal& operator=(DoneSignal&&) = delete;
  ~DoneSignal() {
    if (done_ != nullptr) done_->Set();
  }

 private:
  std::shared_ptr<Event> done_;
};
}  // namespace internal

template <typename Body>
JoinHandle Spawn(Executor& executor, std::string name, Body body) {
  auto done = std::make_shared<Event>(executor);
  executor.StartFiber(std::move(name),
                      [signal = internal::DoneSignal(done), body = std::move(body)]() mutable {
                        body();
                      });
  return JoinHandle(std::move(done));
}

}  // namespace faultline::runtime
