// core/posix/event_loop.h — the production runtime::Executor.
//
// One thread runs every fiber of the process cooperatively, exactly like
// sim::Scheduler does in simulation, but with real time and real I/O:
//   * a FIFO run queue of fibers (boost::context::fiber, on stacks with a
//     guard gap, whose overflow is reported naming the fiber:
//     core/runtime/internal/stack_guard.h);
//   * fiber deadlines and callback timers on CLOCK_MONOTONIC, fired through a
//     timerfd so their resolution is not limited to epoll's milliseconds;
//   * epoll for sockets (FdWatcher: callbacks, or "park this fiber until the
//     fd is readable/writable");
//   * a small, fixed pool of I/O threads for blocking syscalls (pread,
//     fdatasync, rename ...). RunBlocking() parks the calling fiber while a
//     pool thread runs the call and posts the completion back through an
//     eventfd, so the loop keeps running other fibers — a group commit fills
//     its next batch while the previous fdatasync is in flight. A loop
//     dedicated to disk work may instead run a call itself when nothing else
//     could use the loop (EventLoopOptions::inline_when_idle_horizon_ns),
//     saving the two cross-thread wake-ups.
//
// Threading: every method except Stop() must be called on the loop's thread.
// The pool threads only ever run the work items given to RunBlocking.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "core/runtime/executor.h"
#include "core/runtime/internal/fiber_core.h"
#include "core/runtime/internal/wait_queue.h"

namespace faultline::posix {

struct EventLoopOptions {
  // Usable stack per fiber (a guard gap is added below it).
  size_t stack_size_bytes = 256 * 1024;
  // Threads that run blocking syscalls. Bounded: disk queues gain little from
  // more, and each thread costs a stack.
  size_t io_threads = 4;
  // The most RunBlocking calls in flight at once; further callers park until
  // one completes (back-pressure instead of an unbounded queue).
  size_t max_inflight_io = 1024;
  // The most fibers that may exist at once (a bound, not a reservation).
  size_t max_fibers = 1 << 20;
  // Optional short, bounded busy-waits (polling with sched_yield) that save
  // a cross-thread wake-up on each hop of a blocking call — about 25 us per
  // round trip on a 2-core VM without them, 5-10 us with them
  // (bench/posix BM_RunBlockingRoundTrip):
  //  * an I/O thread that finished a job polls this long for the next one
  //    before sleeping (one thread at a time), so "write, then sync" reaches
  //    a thread that is already awake;
  //  * the loop, with nothing to run but I/O in flight, polls this long for
  //    the completion before sleeping in epoll_wait.
  // Off by default: they burn CPU that, on a small shared machine, the
  // kernel's journal thread or other processes need, and end-to-end synced
  // writes did not get reliably faster there. Enable (e.g. 50'000) on
  // machines with spare cores.
  int64_t io_thread_spin_ns = 0;
  int64_t loop_completion_spin_ns = 0;
  // A loop dedicated to disk work may run a blocking call on its own thread
  // when nothing else could use the loop meanwhile: no other fiber runnable,
  // no other blocking call in flight, no FdWatcher registered (so no socket
  // waits behind it) and no timer due within this many nanoseconds. It then
  // behaves like a dedicated flush thread — the syscall starts at once and
  // its caller resumes at once, without the two cross-thread wake-ups of the
  // I/O pool (20-50 us per call on a small VM; docs/results/wal_benchmark.md).
  // The price: a call that takes longer than the horizon (a slow or stuck
  // disk) delays the timers behind it, and Stop() from another thread waits
  // for it. 0 (the default): every blocking call goes to the I/O pool.
  int64_t inline_when_idle_horizon_ns = 0;
};

// How Run() ended.
enum class RunOutcome : uint8_t {
  kCompleted,  // every fiber finished
  kStopped,    // Stop() was called
};

class FdWatcher;

class EventLoop final : public runtime::Executor,
                        private runtime::internal::FiberFailureHandler {
 public:
  explicit EventLoop(const EventLoopOptions& options = {});
  // Waits for in-flight blocking calls, then unwinds every fiber still alive
  // (Park/Yield throw runtime::FiberKilled in them), newest first, as the
  // simulator does (core/runtime/internal/unwind_policy.h): a child before
  // the parent that keeps its Event or channel. Fibers started meanwhile
  // never run. Must not be called from a fiber. FdWatchers and timers must
  // be gone or cancelled by then.
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // --- runtime::Executor -------------------------------------------------
  // CLOCK_MONOTONIC in nanoseconds.
  int64_t NowNs() override;
  // Fibers start in FIFO order; one started by a fiber being unwound, or
  // during shutdown, never runs. An exception other than FiberKilled escaping
  // `body` aborts the process (it is a bug; see Executor::StartFiber).
  void StartFiber(std::string name, absl::AnyInvocable<void() &&> body) override;
  runtime::Fiber* CurrentFiber() override;
  // Same contract as sim::Scheduler: a deadline at or before NowNs() returns
  // kTimedOut at once; Unpark of a fiber that is not parked is a no-op.
  runtime::WakeReason Park(int64_t deadline_ns, std::string_view waiting_on) override;
  void Unpark(runtime::Fiber* fiber) override;
  void Yield() override;

  // --- running -----------------------------------------------------------
  // Runs fibers, timers and I/O until every fiber has finished or Stop() is
  // called. Callback timers and FdWatchers alone do not keep Run() going.
  // Not reentrant; may be called again after it returned.
  RunOutcome Run();
  // Makes Run() return once the running fiber (if any) parks or yields; if
  // Run() is not running, the next Run() returns at once. Thread-safe: may be
  // called from another thread (not from a signal handler).
  void Stop();

  // --- blocking work off the loop ------------------------------------------
  // Runs `work` on an I/O thread and parks the calling fiber until it
  // returned; other fibers keep running meanwhile. `work` must not touch
  // loop state (it may run on another thread); it may write into the
  // caller's stack, which stays alive until RunBlocking returns. Called
  // outside a fiber (or while the fiber is being unwound), or when the loop
  // is idle and EventLoopOptions::inline_when_idle_horizon_ns allows it, it
  // runs `work` inline.
  void RunBlocking(absl::FunctionRef<void()> work);

  // --- callback timers (run on the loop, outside fibers; must not park) ----
  using TimerId = uint64_t;
  TimerId AddTimer(int64_t deadline_ns, absl::AnyInvocable<void() &&> callback);
  // Returns whether the timer was still pending.
  bool CancelTimer(TimerId id);

  // --- introspection -----------------------------------------------------
  size_t live_fibers() const { return fibers_.size(); }
  size_t inflight_io() const { return inflight_io_; }
  // Blocking calls run on the loop thread under inline_when_idle_horizon_ns.
  uint64_t inline_blocking_calls() const { return inline_blocking_calls_; }

 private:
  friend class FdWatcher;
  struct LoopFiber;
  struct IoJob;
  using TimerKey = std::pair<int64_t, uint64_t>;  // (deadline_ns, sequence)
  struct TimerTarget {
    LoopFiber* fiber = nullptr;              // a parked fiber's deadline, or
    absl::AnyInvocable<void() &&> callback;  // a callback timer
  };

  void SwitchTo(LoopFiber* fiber);
  // Whether RunBlocking may run its work on the loop thread now (see
  // EventLoopOptions::inline_when_idle_horizon_ns).
  bool IdleEnoughToRunInline();
  // An exception escaped a production fiber: a bug; abort with its message.
  void OnFiberFailed(runtime::internal::FiberCore& fiber, std::string_view what) override;
  void MakeRunnable(LoopFiber* fiber);
  void ArmFiberTimer(LoopFiber* fiber, int64_t deadline_ns);
  void DisarmFiberTimer(LoopFiber* fiber);
  // Waits for (block=true) or polls epoll once and dispatches what is ready.
  void PollOnce(bool block);
  void FireDueTimers();
  void DrainCompletions();
  // Busy-waits up to loop_completion_spin_ns (and not past `limit_ns`) for
  // an I/O completion; returns whether one is ready.
  bool SpinForCompletion(int64_t limit_ns);
  void IoThreadMain();
  // Pops the next job, spinning briefly, then sleeping; nullptr to exit.
  IoJob* NextJob();
  void ArmTimerFd(int64_t deadline_ns);
  void RegisterWatcher(FdWatcher* watcher);
  void UnregisterWatcher(FdWatcher* watcher);
  void UpdateWatcherInterest(FdWatcher* watcher);
  void KillAllFibers();

  const EventLoopOptions options_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: I/O completions and Stop()
  int64_t armed_timer_deadline_ns_ = runtime::kNoDeadline;

  uint64_t next_fiber_id_ = 1;
  std::map<uint64_t, std::unique_ptr<LoopFiber>> fibers_;  // by id
  std::deque<LoopFiber*> runnable_;
  std::deque<LoopFiber*> unwinding_;  // killed fibers, in unwind order (shutdown)
  bool shutting_down_ = false;        // in the destructor: new fibers are born killed
  LoopFiber* current_ = nullptr;
  bool running_ = false;
  std::atomic<bool> stop_requested_{false};

  uint64_t next_timer_seq_ = 1;
  std::map<TimerKey, TimerTarget> timers_;
  std::unordered_map<TimerId, TimerKey> callback_timer_keys_;

  uint64_t next_watcher_id_ = 1;
  std::unordered_map<uint64_t, FdWatcher*> watchers_;  // epoll data → watcher

  // I/O pool. `pending_jobs_` and `completed_jobs_` are shared with the pool
  // threads under `pool_mutex_`; everything else is loop-only.
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::deque<IoJob*> pending_jobs_;     // at most max_inflight_io
  std::vector<IoJob*> completed_jobs_;  // at most max_inflight_io
  bool pool_stopping_ = false;
  // Lock-free hints for the spinning paths; the mutex-protected containers
  // stay the truth.
  std::atomic<size_t> pending_count_{0};
  std::atomic<bool> completions_ready_{false};
  std::atomic<bool> pool_stopping_hint_{false};
  std::atomic<int> spinning_threads_{0};
  // Set while the loop may be (about to be) blocked in epoll_wait: only then
  // must a completion write the eventfd (Dekker-style with
  // completions_ready_, both sequentially consistent).
  std::atomic<bool> loop_may_block_{false};
  std::vector<std::thread> pool_threads_;
  size_t inflight_io_ = 0;
  uint64_t inline_blocking_calls_ = 0;
  runtime::internal::WaitQueue io_slot_waiters_;
};

// Watches one file descriptor (which it does not own) on an EventLoop. Two
// ways to use it, combinable:
//  * callback: SetCallback + SetInterest — the callback runs on the loop,
//    outside fibers, whenever the fd is ready for an interesting direction
//    (level-triggered) or has an error/hang-up. It must not park.
//  * fiber: WaitReadable/WaitWritable park the calling fiber until the fd is
//    ready in that direction, has an error/hang-up, or the deadline passes.
//    Typical use: try the non-blocking syscall; on EAGAIN, wait, then retry.
// Destroy the watcher before closing the fd; no fiber may be waiting then.
class FdWatcher {
 public:
  FdWatcher(EventLoop& loop, int fd);
  ~FdWatcher();
  FdWatcher(const FdWatcher&) = delete;
  FdWatcher& operator=(const FdWatcher&) = delete;

  int fd() const { return fd_; }

  // `events` are EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits as reported.
  void SetCallback(absl::AnyInvocable<void(uint32_t events)> callback);
  void SetInterest(bool readable, bool writable);

  // OK when the fd may be ready (re-try the syscall: wake-ups can be
  // spurious), DeadlineExceeded when the deadline passed first. One fiber at
  // a time per direction. Throws FiberKilled on unwind.
  absl::Status WaitReadable(int64_t deadline_ns);
  absl::Status WaitWritable(int64_t deadline_ns);

 private:
  friend class EventLoop;
  absl::Status WaitFor(bool readable, int64_t deadline_ns);
  uint32_t WantedEvents() const;
  void Dispatch(uint32_t events);

  EventLoop& loop_;
  const int fd_;
  const uint64_t id_;
  absl::AnyInvocable<void(uint32_t)> callback_;
  bool callback_readable_ = false;
  bool callback_writable_ = false;
  runtime::Fiber* reader_ = nullptr;
  runtime::Fiber* writer_ = nullptr;
  bool registered_ = false;  // whether the fd is in the epoll set
  uint32_t registered_events_ = 0;
};

}  // namespace faultline::posix
