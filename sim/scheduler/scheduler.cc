// sim/scheduler/scheduler.cc — see scheduler.h.
#include "sim/scheduler/scheduler.h"

#include <exception>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/posix/internal/fiber_stack.h"
#include "core/runtime/internal/unwind_policy.h"

namespace faultline::sim {
namespace {

thread_local Scheduler* active_scheduler = nullptr;
constexpr size_t kNotInHeap = static_cast<size_t>(-1);

}  // namespace

// The scheduler's record of a fiber: the shared machine context plus what
// only the simulation needs (its node, its timer).
struct Scheduler::SimFiber final : runtime::internal::FiberCore {
  SimFiber(Scheduler* scheduler_in, uint64_t id, std::string name, NodeId node_in,
           absl::AnyInvocable<void() &&> body)
      : FiberCore(id, std::move(name), std::move(body), PooledStackAllocator(scheduler_in->stacks_),
                  scheduler_in),
        scheduler(scheduler_in), node(node_in) {}

  Scheduler* scheduler;
  NodeId node;
  int64_t deadline_ns = runtime::kNoDeadline;
  size_t heap_index = kNotInHeap;  // in timers_, while a timed park is pending
};

std::string_view OutcomeName(RunResult::Outcome outcome) {
  switch (outcome) {
    case RunResult::Outcome::kCompleted: return "completed";
    case RunResult::Outcome::kStopped: return "stopped";
    case RunResult::Outcome::kDeadlock: return "deadlock";
    case RunResult::Outcome::kStepBudget: return "step budget exhausted";
    case RunResult::Outcome::kTimeBudget: return "virtual-time budget exhausted";
    case RunResult::Outcome::kFailed: return "failed";
  }
  return "?";
}

Scheduler::Scheduler(const SchedulerOptions& options)
    : options_(options),
      seed_(options.seed),
      stacks_(options.stack_size_bytes),
      scheduler_prng_(Prng::ForStream(options.seed, Stream::kScheduler)) {
  trace_.set_recording(options.record_trace);
  // All streams exist from the start: prng() hands out references, and a
  // vector that grew later would leave them dangling. (Slot kScheduler is
  // never handed out: scheduler_prng_ is that stream.)
  for (size_t i = 0; i < kStreamCount; ++i) {
    stream_prngs_.push_back(Prng::ForStream(seed_, static_cast<Stream>(i)));
  }
  nodes_.push_back(Node{.name = "sim"});
}

Scheduler::~Scheduler() { Shutdown(); }

void Scheduler::Shutdown() {
  FAULTLINE_CHECK_MSG(current_ == nullptr && !running_, "Shutdown from inside the run");
  // Unwind everything still alive so its destructors run on its own stack.
  // Fibers those destructors start are born killed.
  posix::internal::InstallStackOverflowReporter();
  shutting_down_ = true;
  KillFibers(kSimNode, /*all_nodes=*/true);
  Scheduler* previous = active_scheduler;
  active_scheduler = this;
  // Fibers started meanwhile are unwound too; destructors that keep
  // starting them get as many as the step budget, then a checked failure.
  const uint64_t max_unwound = fibers_.size() + options_.max_steps;
  for (uint64_t unwound = 0; !unwinding_.empty(); ++unwound) {
    FAULTLINE_CHECK_MSG(unwound < max_unwound, "fibers kept starting fibers during shutdown");
    SimFiber* fiber = unwinding_.front();
    unwinding_.pop_front();
    SwitchTo(fiber);
    if (fiber->state == SimFiber::State::kDone) fibers_.erase(fiber->id());
  }
  active_scheduler = previous;
  shutting_down_ = false;
  FAULTLINE_CHECK_MSG(fibers_.empty(), "a fiber survived the scheduler's shutdown");
}

Scheduler* Scheduler::Active() { return active_scheduler; }

Prng& Scheduler::prng(Stream stream) {
  FAULTLINE_CHECK_MSG(stream != Stream::kScheduler,
                      "prng(Stream::kScheduler): the scheduler's own stream decides the run "
                      "order and is not handed out; draw from another stream");
  const auto index = static_cast<size_t>(stream);
  FAULTLINE_CHECK(index < stream_prngs_.size());
  return stream_prngs_[index];
}

// --- nodes -------------------------------------------------------------------

NodeId Scheduler::AddNode(std::string name) {
  FAULTLINE_CHECK(nodes_.size() < (1u << 20));
  nodes_.push_back(Node{.name = std::move(name)});
  return static_cast<NodeId>(nodes_.size() - 1);
}

const std::string& Scheduler::NodeName(NodeId node) const {
  FAULTLINE_CHECK(node < nodes_.size());
  return nodes_[node].name;
}

bool Scheduler::IsAlive(NodeId node) const {
  FAULTLINE_CHECK(node < nodes_.size());
  return nodes_[node].alive;
}

uint64_t Scheduler::Incarnation(NodeId node) const {
  FAULTLINE_CHECK(node < nodes_.size());
  return nodes_[node].incarnation;
}

NodeId Scheduler::CurrentNode() const { return current_ != nullptr ? current_->node : kSimNode; }

void Scheduler::SetNodeClock(NodeId node, const NodeClock& clock) {
  FAULTLINE_CHECK_MSG(node != kSimNode && node < nodes_.size(), "no clock for that node");
  FAULTLINE_CHECK_MSG(clock.valid(), "a node clock needs offset >= 0 and a bounded drift");
  FAULTLINE_CHECK_MSG(clock.LocalAt(now_ns_) >= NodeNowNs(node), "a node clock may not go back");
  nodes_[node].clock = clock;
  clocks_set_ = clocks_set_ || !clock.identity();
  RecordAt(node, TraceKind::kApp, {"offset_ns", static_cast<uint64_t>(clock.offset_ns)},
           {"drift_ppm", static_cast<uint64_t>(clock.drift_ppm), nullptr, /*is_signed=*/true},
           "node clock");
}

const NodeClock& Scheduler::node_clock(NodeId node) const {
  FAULTLINE_CHECK(node < nodes_.size());
  return nodes_[node].clock;
}

int64_t Scheduler::NodeNowNs(NodeId node) const {
  FAULTLINE_CHECK(node < nodes_.size());
  const NodeClock& clock = nodes_[node].clock;
  return clock.identity() ? now_ns_ : clock.LocalAt(now_ns_);
}

void Scheduler::Crash(NodeId node, std::string_view reason) {
  FAULTLINE_CHECK_MSG(node != kSimNode && node < nodes_.size(), "cannot crash that node");
  if (!nodes_[node].alive) return;
  nodes_[node].alive = false;
  RecordAt(node, TraceKind::kCrash, {"incarnation", nodes_[node].incarnation}, {}, reason);
  KillFibers(node, /*all_nodes=*/false);
  // Like Park in a killed fiber: throwing from a destructor that runs while
  // an exception unwinds the caller (a crash, a shutdown) would terminate
  // the process, so the caller then returns and unwinds on.
  if (current_ != nullptr && current_->node == node) current_->KilledOrThrow();
}

void Scheduler::Restart(NodeId node, std::string name, absl::AnyInvocable<void() &&> main) {
  FAULTLINE_CHECK_MSG(node != kSimNode && node < nodes_.size(), "cannot restart that node");
  FAULTLINE_CHECK_MSG(!nodes_[node].alive, "restart of a node that is running");
  nodes_[node].alive = true;
  ++nodes_[node].incarnation;
  RecordAt(node, TraceKind::kRestart, {"incarnation", nodes_[node].incarnation}, {}, {});
  StartFiberOn(node, std::move(name), std::move(main));
}

void Scheduler::KillFibers(NodeId node, bool all_nodes) {
  // The shared policy: newest first (core/runtime/internal/unwind_policy.h).
  runtime::internal::KillNewestFirst(
      fibers_, [&](const SimFiber& fiber) { return all_nodes || fiber.node == node; },
      [&](SimFiber* fiber) {
        if (fiber->state == SimFiber::State::kParked) {
          if (fiber->heap_index != kNotInHeap) TimerRemove(fiber);
          fiber->state = SimFiber::State::kRunnable;
        } else {
          RemoveRunnable(fiber);
        }
        unwinding_.push_back(fiber);
      });
}

// --- fibers ------------------------------------------------------------------

void Scheduler::StartFiber(std::string name, absl::AnyInvocable<void() &&> body) {
  StartFiberOn(CurrentNode(), std::move(name), std::move(body));
}

void Scheduler::StartFiberOn(NodeId node, std::string name, absl::AnyInvocable<void() &&> body) {
  FAULTLINE_CHECK(node < nodes_.size());
  FAULTLINE_CHECK(body != nullptr);
  if (fibers_.size() >= options_.max_fibers) {
    Fail(absl::StrFormat("starting fiber '%s' would pass max_fibers (%d live fibers)", name,
                         options_.max_fibers));
    return;  // `body` goes out of scope here: a JoinHandle on it completes
  }
  const uint64_t id = next_fiber_id_++;
  auto owned = std::make_unique<SimFiber>(this, id, std::move(name), node, std::move(body));
  SimFiber* fiber = owned.get();
  fibers_.emplace(id, std::move(owned));
  RecordAt(node, TraceKind::kSpawn, {"fiber", id}, {}, fiber->name());

  if (!nodes_[node].alive || runtime::internal::StartsKilled(current_, shutting_down_)) {
    // Refused: its node is dead, its starter is being unwound (even if the
    // node was restarted meanwhile: a dead incarnation must not start fibers
    // in the live one), or the scheduler is shutting down. It never runs.
    fiber->killed = true;
    unwinding_.push_back(fiber);
  } else {
    runnable_.PushBack(fiber);
  }
}

runtime::Fiber* Scheduler::CurrentFiber() { return current_; }

// Inlined into Run(): it is on every step.
[[gnu::always_inline]] inline void Scheduler::SwitchTo(SimFiber* fiber) {
  FAULTLINE_CHECK(current_ == nullptr);
  current_ = fiber;
  fiber->Resume();
  current_ = nullptr;
  if (fiber->state == SimFiber::State::kDone) {
    RecordAt(fiber->node, TraceKind::kFiberExit, {"fiber", fiber->id()},
             {"killed", fiber->killed ? 1u : 0u}, {});
  }
}

runtime::WakeReason Scheduler::Park(int64_t deadline_ns, std::string_view waiting_on) {
  SimFiber* self = current_;
  FAULTLINE_CHECK_MSG(self != nullptr, "Park outside a fiber");
  if (self->killed) return self->KilledOrThrow();
  // A deadline on the node's clock, as a virtual time.
  if (clocks_set_ && deadline_ns != runtime::kNoDeadline) {
    deadline_ns = nodes_[self->node].clock.VirtualAt(deadline_ns);
  }
  if (deadline_ns <= now_ns_) return runtime::WakeReason::kTimedOut;
  self->state = SimFiber::State::kParked;
  self->waiting_on = waiting_on;
  self->deadline_ns = deadline_ns;
  if (deadline_ns != runtime::kNoDeadline) TimerPush(self);
  self->Suspend();
  if (self->killed) return self->KilledOrThrow();
  return self->wake_reason;
}

void Scheduler::Unpark(runtime::Fiber* fiber) {
  auto* sim_fiber = static_cast<SimFiber*>(fiber);
  FAULTLINE_CHECK_MSG(sim_fiber->scheduler == this, "Unpark of another executor's fiber");
  if (sim_fiber->state != SimFiber::State::kParked) return;
  if (sim_fiber->heap_index != kNotInHeap) TimerRemove(sim_fiber);
  sim_fiber->wake_reason = runtime::WakeReason::kUnparked;
  MakeRunnable(sim_fiber);
}

void Scheduler::Yield() {
  SimFiber* self = current_;
  FAULTLINE_CHECK_MSG(self != nullptr, "Yield outside a fiber");
  // A killed fiber (here only while an exception is in flight, or it would
  // have thrown) returns at once: it must finish unwinding before any other
  // fiber runs.
  if (self->killed) {
    self->KilledOrThrow();
    return;
  }
  MakeRunnable(self);
  self->Suspend();
  if (self->killed) self->KilledOrThrow();
}

void Scheduler::MakeRunnable(SimFiber* fiber) {
  fiber->state = SimFiber::State::kRunnable;
  fiber->waiting_on = {};
  runnable_.PushBack(fiber);
}

void Scheduler::RemoveRunnable(SimFiber* fiber) {
  FAULTLINE_CHECK_MSG(runnable_.Erase(fiber), "a runnable fiber was not in the run queue");
}

// Inlined into Run(): it is on every step.
[[gnu::always_inline]] inline Scheduler::SimFiber* Scheduler::PickRunnable() {
  if (options_.fifo || runnable_.size() == 1) return runnable_.PopFront();
  return runnable_.TakeAt(static_cast<size_t>(scheduler_prng_.Below(runnable_.size())));
}

// --- timers: an indexed binary heap, so an early Unpark removes its entry ---

void Scheduler::TimerPlace(size_t index, const TimerEntry& entry) {
  timers_[index] = entry;
  entry.fiber->heap_index = index;
}

void Scheduler::TimerSiftUp(size_t index) {
  const TimerEntry moving = timers_[index];
  while (index > 0) {
    const size_t parent = (index - 1) / 2;
    if (!TimerLess(moving, timers_[parent])) break;
    TimerPlace(index, timers_[parent]);
    index = parent;
  }
  TimerPlace(index, moving);
}

void Scheduler::TimerSiftDown(size_t index) {
  const TimerEntry moving = timers_[index];
  const size_t count = timers_.size();
  while (true) {
    const size_t left = 2 * index + 1;
    if (left >= count) break;
    size_t smallest = left;
    if (left + 1 < count && TimerLess(timers_[left + 1], timers_[left])) smallest = left + 1;
    if (!TimerLess(timers_[smallest], moving)) break;
    TimerPlace(index, timers_[smallest]);
    index = smallest;
  }
  TimerPlace(index, moving);
}

void Scheduler::TimerPush(SimFiber* fiber) {
  FAULTLINE_CHECK(fiber->heap_index == kNotInHeap);
  timers_.push_back(TimerEntry{fiber->deadline_ns, next_timer_seq_++, fiber});
  TimerSiftUp(timers_.size() - 1);
}

void Scheduler::TimerRemove(SimFiber* fiber) {
  const size_t index = fiber->heap_index;
  FAULTLINE_CHECK(index < timers_.size() && timers_[index].fiber == fiber);
  fiber->heap_index = kNotInHeap;
  const TimerEntry last = timers_.back();
  timers_.pop_back();
  if (last.fiber == fiber) return;
  TimerPlace(index, last);
  TimerSiftDown(index);
  TimerSiftUp(last.fiber->heap_index);
}

Scheduler::SimFiber* Scheduler::TimerPop() {
  SimFiber* top = timers_.front().fiber;
  TimerRemove(top);
  return top;
}

// --- running -----------------------------------------------------------------

void Scheduler::Stop(std::string_view reason) {
  if (!stop_requested_) stop_reason_ = std::string(reason);
  stop_requested_ = true;
}

void Scheduler::Fail(std::string_view detail) {
  if (!failed_) {
    failed_ = true;
    failure_detail_ = std::string(detail);
    Record(TraceKind::kFailure, {}, {}, detail);
  }
}

void Scheduler::OnFiberFailed(runtime::internal::FiberCore& fiber, std::string_view what) {
  const auto& sim_fiber = static_cast<const SimFiber&>(fiber);
  Fail(absl::StrFormat("fiber '%s' (#%d) on node '%s' threw: %s", fiber.name(), fiber.id(),
                       nodes_[sim_fiber.node].name, AsAbsl(what)));
}

void Scheduler::Record(TraceKind kind, TraceField a, TraceField b, std::string_view text) {
  RecordAt(CurrentNode(), kind, a, b, text);
}

void Scheduler::RecordAt(NodeId node, TraceKind kind, TraceField a, TraceField b,
                         std::string_view text) {
  trace_.Record(now_ns_, node, kind, a, b, text);
}

RunResult Scheduler::Run() {
  FAULTLINE_CHECK_MSG(!running_ && current_ == nullptr, "Scheduler::Run is not reentrant");
  posix::internal::InstallStackOverflowReporter();
  running_ = true;
  stop_requested_ = false;
  Scheduler* previous = active_scheduler;
  active_scheduler = this;

  RunResult result;
  while (true) {
    if (failed_) {
      result.outcome = RunResult::Outcome::kFailed;
      result.detail = failure_detail_;
      break;
    }
    if (stop_requested_ && unwinding_.empty()) {
      result.outcome = RunResult::Outcome::kStopped;
      result.detail = stop_reason_;
      break;
    }
    SimFiber* next = nullptr;
    if (!unwinding_.empty()) {
      next = unwinding_.front();
      unwinding_.pop_front();
    } else if (!runnable_.empty()) {
      next = PickRunnable();
    } else if (!timers_.empty()) {
      const int64_t deadline_ns = timers_.front().deadline_ns;
      if (deadline_ns > options_.max_virtual_time_ns) {
        result.outcome = RunResult::Outcome::kTimeBudget;
        result.detail = absl::StrFormat("virtual time would pass %dns; fibers:\n%s",
                                        options_.max_virtual_time_ns, DescribeFibers());
        break;
      }
      if (deadline_ns > now_ns_) {
        now_ns_ = deadline_ns;
        trace_.RecordTimer(now_ns_);
      }
      // Every timer due now, first armed first.
      while (!timers_.empty() && timers_.front().deadline_ns <= now_ns_) {
        SimFiber* fiber = TimerPop();
        fiber->wake_reason = runtime::WakeReason::kTimedOut;
        MakeRunnable(fiber);
      }
      continue;
    } else if (fibers_.empty()) {
      result.outcome = RunResult::Outcome::kCompleted;
      break;
    } else {
      result.outcome = RunResult::Outcome::kDeadlock;
      result.detail = absl::StrCat("deadlock: no fiber can run and no timer is pending\n",
                                   DescribeFibers());
      break;
    }

    if (steps_ >= options_.max_steps) {
      // Put it back so that a later Run() or the destructor still sees it.
      if (next->killed) unwinding_.push_front(next); else runnable_.PushFront(next);
      result.outcome = RunResult::Outcome::kStepBudget;
      result.detail = absl::StrFormat("%d steps without finishing; fibers:\n%s",
                                      options_.max_steps, DescribeFibers());
      break;
    }
    ++steps_;
    trace_.RecordStep(now_ns_, next->node, next->id());
    SwitchTo(next);
    if (next->state == SimFiber::State::kDone) fibers_.erase(next->id());
  }

  if (!result.ok()) {
    RecordAt(kSimNode, TraceKind::kFailure, {"outcome", static_cast<uint64_t>(result.outcome)}, {},
             OutcomeName(result.outcome));
  }
  result.trace_hash = trace_.hash();
  result.steps = steps_;
  result.end_time_ns = now_ns_;
  active_scheduler = previous;
  running_ = false;
  return result;
}

std::string Scheduler::DescribeFibers() const {
  std::string text;
  size_t listed = 0;
  for (const auto& [id, fiber] : fibers_) {
    if (++listed > 64) {
      absl::StrAppend(&text, "  ... and ", fibers_.size() - 64, " more\n");
      break;
    }
    std::string_view state;
    switch (fiber->state) {
      case SimFiber::State::kRunnable: state = "runnable"; break;
      case SimFiber::State::kRunning: state = "running"; break;
      case SimFiber::State::kParked: state = "blocked"; break;
      case SimFiber::State::kDone: state = "done"; break;
    }
    absl::StrAppendFormat(&text, "  fiber #%d '%s' on node '%s': %s", id, fiber->name(),
                          nodes_[fiber->node].name, AsAbsl(state));
    if (fiber->state == SimFiber::State::kParked) {
      absl::StrAppend(&text, " on ", AsAbsl(fiber->waiting_on));
      if (fiber->deadline_ns != runtime::kNoDeadline) {
        absl::StrAppendFormat(&text, " until %dns", fiber->deadline_ns);
      }
    }
    text.push_back('\n');
  }
  return text;
}

}  // namespace faultline::sim
