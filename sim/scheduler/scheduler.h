// sim/scheduler/scheduler.h — the deterministic fiber scheduler.
//
// One thread, one seed, virtual time. The Scheduler is the simulation's
// runtime::Executor: production code parks on it exactly as it would on the
// POSIX event loop, and the scheduler decides — from the seeded PRNG — which
// runnable fiber runs next, so different seeds explore different
// interleavings while one seed always replays the same one. When nothing is
// runnable, virtual time jumps to the next timer; no real time passes.
//
// Nodes are named groups of fibers (node 0, "sim", holds the harness's own
// fibers). Crash(node) kills the node's incarnation at once: its fibers are
// unwound (Park/Yield throw runtime::FiberKilled), newest first, before any
// other fiber runs again (the policy both executors share:
// core/runtime/internal/unwind_policy.h), and sim/disk and sim/network refuse
// every operation of the dead incarnation. Restart(node, ...) begins a new
// incarnation; fibers the dead one starts while unwinding never run.
//
// A run ends when every fiber has finished (kCompleted), when a fiber calls
// Stop() (kStopped), or with a failure: deadlock (fibers blocked, nothing
// runnable, no timer pending — the report names each blocked fiber and what
// it waits on), the step or virtual-time budget, an exception escaping a
// fiber, or a checker's Fail().
//
// Every scheduling decision goes into the Trace, whose hash fingerprints the
// run.
//
// Time: now_ns_ is virtual time, which the trace stamps. A node may have its
// own clock (SetNodeClock, node_clock.h): its fibers' NowNs() reads that
// clock, and their Park deadlines are in it — a timer on a fast node fires
// earlier in virtual time. Fibers of nodes without one, and the simulator's
// own, see virtual time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/runtime/executor.h"
#include "core/runtime/internal/fiber_core.h"
#include "sim/scheduler/node_clock.h"
#include "sim/scheduler/prng.h"
#include "sim/scheduler/run_queue.h"
#include "sim/scheduler/stack_pool.h"
#include "sim/scheduler/trace.h"

namespace faultline::sim {

using NodeId = uint32_t;
inline constexpr NodeId kSimNode = 0;  // the simulator's own fibers

struct SchedulerOptions {
  uint64_t seed = 0;
  // Run fibers in the order they became runnable instead of a seeded choice
  // (for debugging: interleavings then depend on the program alone).
  bool fifo = false;
  // Per fiber; a guard gap lies below each. A fiber that overflows its stack
  // aborts the run naming itself (core/runtime/internal/stack_guard.h).
  size_t stack_size_bytes = 64 * 1024;
  uint64_t max_steps = 50'000'000;                               // fiber resumptions
  // Live fibers at once; starting one more fails the run (a fiber leak
  // would otherwise grow the run queue and the stacks until memory runs
  // out, long before the step budget). The refused fiber's body is
  // destroyed at once, so a JoinHandle on it completes.
  size_t max_fibers = size_t{1} << 20;
  int64_t max_virtual_time_ns = int64_t{3600} * 1'000'000'000;  // one virtual hour
  bool record_trace = false;  // keep events (for dumps), not just the hash
};

struct RunResult {
  enum class Outcome {
    kCompleted,     // every fiber finished
    kStopped,       // Stop() was called
    kDeadlock,      // fibers blocked forever
    kStepBudget,    // max_steps exhausted
    kTimeBudget,    // max_virtual_time_ns exhausted
    kFailed,        // an exception escaped a fiber, or Fail() was called
  };
  Outcome outcome = Outcome::kCompleted;
  std::string detail;  // what went wrong, for every outcome but kCompleted
  uint64_t trace_hash = 0;
  uint64_t steps = 0;
  int64_t end_time_ns = 0;

  bool ok() const { return outcome == Outcome::kCompleted || outcome == Outcome::kStopped; }
};

std::string_view OutcomeName(RunResult::Outcome outcome);

class Scheduler final : public runtime::Executor, private runtime::internal::FiberFailureHandler {
 public:
  explicit Scheduler(const SchedulerOptions& options);
  // Calls Shutdown().
  ~Scheduler() override;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // --- runtime::Executor -------------------------------------------------
  // The calling fiber's node clock (virtual time outside fibers).
  int64_t NowNs() override {
    if (current_ == nullptr || !clocks_set_) return now_ns_;
    return NodeNowNs(CurrentNode());
  }
  // Starts a fiber on the calling fiber's node (kSimNode outside fibers).
  void StartFiber(std::string name, absl::AnyInvocable<void() &&> body) override;
  runtime::Fiber* CurrentFiber() override;
  runtime::WakeReason Park(int64_t deadline_ns, std::string_view waiting_on) override;
  void Unpark(runtime::Fiber* fiber) override;
  void Yield() override;

  // --- nodes ---------------------------------------------------------------
  NodeId AddNode(std::string name);
  size_t node_count() const { return nodes_.size(); }
  const std::string& NodeName(NodeId node) const;
  bool IsAlive(NodeId node) const;
  // Starts at 1; Restart() increments it. I/O handles remember the
  // incarnation they were opened in and fail once it is dead.
  uint64_t Incarnation(NodeId node) const;
  // The node of the running fiber, kSimNode outside fibers.
  NodeId CurrentNode() const;
  // Gives `node` its own clock from now on (not kSimNode; `clock` valid();
  // local time must not go back: set it before the node's fibers read it,
  // or to a clock at least as far ahead now). Recorded in the trace.
  void SetNodeClock(NodeId node, const NodeClock& clock);
  const NodeClock& node_clock(NodeId node) const;
  // What `node`'s clock reads now.
  int64_t NodeNowNs(NodeId node) const;
  // Virtual time, whatever fiber asks.
  int64_t VirtualNowNs() const { return now_ns_; }
  // Starts a fiber on `node`. It is born killed — its body never runs, but
  // is destroyed, so a JoinHandle on it completes — when `node` is dead, the
  // calling fiber is being unwound, or Shutdown() is in progress.
  void StartFiberOn(NodeId node, std::string name, absl::AnyInvocable<void() &&> body);
  // Kills `node`'s incarnation and unwinds its fibers; if the caller is one
  // of them, throws runtime::FiberKilled (returns instead while an exception
  // is already unwinding the caller, as Park does). No-op on a dead node.
  void Crash(NodeId node, std::string_view reason);
  // Begins a new incarnation of a crashed node and starts `main` on it.
  void Restart(NodeId node, std::string name, absl::AnyInvocable<void() &&> main);

  // --- running -----------------------------------------------------------
  // Runs until an outcome (see the file comment). May be called again after
  // kStopped to continue.
  RunResult Run();
  // Ends Run() once the calling fiber parks or yields.
  void Stop(std::string_view reason);
  // Fails the run (a checker found a violation).
  void Fail(std::string_view detail);
  // Unwinds every fiber still alive (as if every node crashed), so that
  // their destructors run while the objects they use still exist. Call it
  // before destroying primitives (Event, Channel, ...) that fibers may still
  // be waiting on; the destructor calls it too. Idempotent. Fibers started
  // meanwhile are born killed; more of them than max_steps is a checked
  // failure (destructors that keep starting fibers), not an endless loop.
  void Shutdown();

  // --- determinism --------------------------------------------------------
  uint64_t seed() const { return seed_; }
  // The generator of one subsystem's stream. The reference stays valid for
  // the scheduler's lifetime. Stream::kScheduler is refused (a checked
  // error): that stream picks the next fiber, and neither a copy (which
  // predicts the run order) nor the stream itself (whose every extra draw
  // would reshuffle the interleaving) belongs to a scenario.
  Prng& prng(Stream stream);
  Trace& trace() { return trace_; }
  // Appends an event stamped with the current time and node.
  void Record(TraceKind kind, TraceField a, TraceField b, std::string_view text);
  // The same, for an event about `node` (e.g. a fault injected on its disk).
  void RecordAt(NodeId node, TraceKind kind, TraceField a, TraceField b, std::string_view text);
  // A frequent event whose text is built only when the trace is kept; see
  // Trace::RecordLazy for what `text_key` must cover.
  template <typename Describe>
  void RecordLazyAt(NodeId node, TraceKind kind, TraceField a, TraceField b, uint64_t text_key,
                    Describe&& describe) {
    trace_.RecordLazy(now_ns_, node, kind, a, b, text_key, describe);
  }

  // --- introspection -----------------------------------------------------
  size_t live_fibers() const { return fibers_.size(); }
  uint64_t steps() const { return steps_; }
  // One line per fiber that is not finished: id, name, node, state, and what
  // a parked fiber waits on.
  std::string DescribeFibers() const;

  // The scheduler whose Run() is executing on this thread, for log stamps.
  static Scheduler* Active();

 private:
  struct SimFiber;
  // A pending timer. The keys live in the heap itself so that sifting
  // compares without chasing fiber pointers.
  struct TimerEntry {
    int64_t deadline_ns;
    uint64_t seq;  // arming order: ties fire first armed first
    SimFiber* fiber;
  };

  void SwitchTo(SimFiber* fiber);
  void OnFiberFailed(runtime::internal::FiberCore& fiber, std::string_view what) override;
  void MakeRunnable(SimFiber* fiber);
  void RemoveRunnable(SimFiber* fiber);
  SimFiber* PickRunnable();
  void TimerPush(SimFiber* fiber);
  void TimerRemove(SimFiber* fiber);
  SimFiber* TimerPop();
  void TimerSiftUp(size_t index);
  void TimerSiftDown(size_t index);
  void TimerPlace(size_t index, const TimerEntry& entry);
  static bool TimerLess(const TimerEntry& a, const TimerEntry& b) {
    return a.deadline_ns != b.deadline_ns ? a.deadline_ns < b.deadline_ns : a.seq < b.seq;
  }
  void KillFibers(NodeId node, bool all_nodes);

  struct Node {
    std::string name;
    uint64_t incarnation = 1;
    bool alive = true;
    NodeClock clock;
  };

  const SchedulerOptions options_;
  const uint64_t seed_;
  StackPool stacks_;
  Trace trace_;
  Prng scheduler_prng_;
  std::vector<Prng> stream_prngs_;  // indexed by Stream; all created up front, never resized

  int64_t now_ns_ = 0;
  bool clocks_set_ = false;  // some node has a clock of its own
  uint64_t steps_ = 0;
  uint64_t next_fiber_id_ = 1;
  uint64_t next_timer_seq_ = 0;

  std::vector<Node> nodes_;
  std::map<uint64_t, std::unique_ptr<SimFiber>> fibers_;  // by id: deterministic order
  internal::RunQueue<SimFiber*> runnable_;
  std::deque<SimFiber*> unwinding_;   // killed fibers, unwound before anything else runs
  std::vector<TimerEntry> timers_;    // binary min-heap on (deadline, seq)
  SimFiber* current_ = nullptr;

  bool running_ = false;
  bool shutting_down_ = false;  // inside Shutdown(): new fibers are born killed
  bool stop_requested_ = false;
  std::string stop_reason_;
  bool failed_ = false;
  std::string failure_detail_;
};

}  // namespace faultline::sim
