// core/runtime/executor.h — the seam between production code and whatever
// runs its fibers.
//
// Production code is straight-line code on cooperative fibers, one thread.
// A blocking call parks the calling fiber; somebody else resumes it. Two
// implementations decide who and when:
//   * sim::Scheduler (sim/scheduler): virtual time, seeded choice of the next
//     runnable fiber, crashes of whole nodes;
//   * the POSIX event loop (core/posix): FIFO run queue, real timers, epoll.
// Everything else in core/runtime (Event, Future, Channel, Mutex, WaitAny,
// Spawn/Join) is written once, on Park/Unpark below, and behaves the same in
// both worlds.
//
// CRASH UNWINDING: when the node that owns a fiber crashes, the executor
// resumes the fiber and Park()/Yield() throw FiberKilled. Production code
// lets it propagate: `catch (...)` must rethrow (the determinism lint checks
// this), and destructors must not park. FiberKilled is not a std::exception,
// so `catch (const std::exception&)` does not swallow it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "core/io/clock.h"

namespace faultline::runtime {

// A deadline that never passes.
inline constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

// Thrown into a fiber whose node crashed (or whose executor is shutting
// down). Only the executor's fiber entry catches it.
struct FiberKilled final {};

enum class WakeReason : uint8_t {
  kUnparked,  // somebody called Unpark (possibly spuriously: re-check the condition)
  kTimedOut,  // the deadline passed
  kKilled,    // the fiber is being unwound; returned instead of thrown only
              // while an exception is already in flight (destructors)
};

// The executor's record of one fiber. Primitives only store pointers to it and
// pass them back to Unpark; its identity and name are for diagnostics.
class Fiber {
 public:
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }

 protected:
  Fiber(uint64_t id, std::string name) : id_(id), name_(std::move(name)) {}
  ~Fiber() = default;

 private:
  uint64_t id_;
  std::string name_;
};

class Executor : public io::Clock {
 public:
  // Starts `body` as a new fiber. In simulation it belongs to the calling
  // fiber's node. `body` may only throw FiberKilled; any other exception is a
  // failure of the whole run (simulation) or of the process (production).
  // Prefer runtime::Spawn (spawn.h), which also gives a JoinHandle.
  virtual void StartFiber(std::string name, absl::AnyInvocable<void() &&> body) = 0;

  // The running fiber, or nullptr when called from outside any fiber.
  virtual Fiber* CurrentFiber() = 0;

  // Suspends the current fiber until Unpark(it) or until NowNs() >=
  // deadline_ns. `waiting_on` names what it waits for (shown in deadlock
  // reports); it must stay valid while parked. Wake-ups may be spurious:
  // callers re-check their condition. Throws FiberKilled if the fiber's node
  // crashed (returns kKilled instead while an exception is in flight).
  // Must be called from a fiber.
  virtual WakeReason Park(int64_t deadline_ns, std::string_view waiting_on) = 0;

  // Makes a parked fiber runnable. A no-op if it is not parked (there are no
  // stored permits). May be called from outside fibers.
  virtual void Unpark(Fiber* fiber) = 0;

  // Lets other runnable fibers run; returns soon. Throws FiberKilled like Park.
  virtual void Yield() = 0;

  // Parks until NowNs() >= deadline_ns.
  void SleepUntil(int64_t deadline_ns);
  // Parks for `duration_ns` (>= 0) of this executor's time.
  void SleepFor(int64_t duration_ns);
};

// `now_ns + timeout_ns`, saturating at kNoDeadline (timeouts may be huge).
inline int64_t DeadlineAfter(int64_t now_ns, int64_t timeout_ns) {
  if (timeout_ns >= kNoDeadline - now_ns) return kNoDeadline;
  return now_ns + (timeout_ns < 0 ? 0 : timeout_ns);
}

}  // namespace faultline::runtime
