// core/runtime/internal/unwind_policy.h — the one unwind policy of every
// executor (sim::Scheduler and posix::EventLoop).
//
// When fibers are killed together — a simulated node crashes, an executor
// shuts down — they are all marked killed at once and then unwound newest
// first: a fiber is unwound before the fiber that spawned it, so objects a
// parent keeps on its stack for its children (a channel, an event, a mutex,
// an endpoint) outlive those children. Fiber ids grow with every start, so
// newest first is highest id first — a deterministic order, which in
// simulation is part of the trace.
//
// A killed fiber runs only to unwind: Park returns or throws at once and
// Yield returns at once, so unwinding one fiber is one switch and no other
// fiber runs in between. A fiber started while its starter is being unwound,
// or while its executor shuts down, is born killed: it never runs its body
// (the body is still destroyed on its own stack, so a JoinHandle on it
// completes), and a dead incarnation cannot start fibers in a live one.
//
// Not API: executors call these; each keeps its own queues.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "core/runtime/internal/fiber_core.h"

namespace faultline::runtime::internal {

// Marks every fiber of `fibers` (keyed by id) that `selected(record)`
// accepts and that is not yet killed as killed, newest first, and hands each
// one that is suspended (runnable or parked) to `unwind_later(record)`, in
// that order. The executor then takes it off its run queue and timers and
// resumes it, in that order, before any other fiber runs. A running fiber
// (the caller) is only marked: it throws FiberKilled when it next parks.
template <typename Record, typename Selected, typename UnwindLater>
void KillNewestFirst(const std::map<uint64_t, std::unique_ptr<Record>>& fibers, Selected selected,
                     UnwindLater unwind_later) {
  for (auto it = fibers.rbegin(); it != fibers.rend(); ++it) {
    Record* fiber = it->second.get();
    if (fiber->killed || !selected(*fiber)) continue;
    fiber->killed = true;
    if (fiber->state == FiberCore::State::kRunnable || fiber->state == FiberCore::State::kParked) {
      unwind_later(fiber);
    }
  }
}

// Whether a fiber started now by `starter` (nullptr outside fibers) must be
// born killed: its starter is being unwound or its executor is shutting down
// (see the file comment).
inline bool StartsKilled(const FiberCore* starter, bool shutting_down) {
  return shutting_down || (starter != nullptr && starter->killed);
}

}  // namespace faultline::runtime::internal
