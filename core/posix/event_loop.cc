// core/posix/event_loop.cc — see event_loop.h.
#include "core/posix/event_loop.h"

#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <utility>

#include "core/base/check.h"
#include "core/posix/internal/fiber_stack.h"
#include "core/runtime/internal/unwind_policy.h"

namespace faultline::posix {
namespace {

// epoll data values that are not watcher ids.
constexpr uint64_t kTimerFdTag = 0;
constexpr uint64_t kWakeFdTag = ~uint64_t{0};
// The most epoll events dispatched per poll; the rest come next poll.
constexpr int kMaxEventsPerPoll = 256;

// One poll of a busy-wait. sched_yield rather than a pause instruction: on a
// machine with few cores the thread we wait for (or the kernel's journal
// thread behind an fdatasync) may need this very CPU.
inline void SpinPause() { sched_yield(); }

int64_t MonotonicNowNs() {
  timespec now{};
  FAULTLINE_CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
  return int64_t{now.tv_sec} * io::kNanosPerSecond + now.tv_nsec;
}

}  // namespace

// The loop's record of a fiber: the shared machine context plus its timer.
struct EventLoop::LoopFiber final : runtime::internal::FiberCore {
  LoopFiber(EventLoop* loop_in, uint64_t id, std::string name,
            absl::AnyInvocable<void() &&> body, size_t stack_size_bytes)
      : FiberCore(id, std::move(name), std::move(body),
                  internal::GuardedStackAllocator(stack_size_bytes), loop_in),
        loop(loop_in) {}

  EventLoop* loop;
  bool timer_armed = false;
  TimerKey timer_key{};
};

// One RunBlocking call. Lives on the calling fiber's stack until `done`.
struct EventLoop::IoJob {
  absl::FunctionRef<void()> work;
  runtime::Fiber* waiter;
  bool done = false;  // written by the loop thread only (after completion)
};

EventLoop::EventLoop(const EventLoopOptions& options) : options_(options) {
  FAULTLINE_CHECK(options_.io_threads >= 1 && options_.io_threads <= 256);
  FAULTLINE_CHECK(options_.max_inflight_io >= 1);
  FAULTLINE_CHECK(options_.stack_size_bytes >= 16 * 1024);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  FAULTLINE_CHECK_MSG(epoll_fd_ >= 0, "epoll_create1 failed");
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  FAULTLINE_CHECK_MSG(timer_fd_ >= 0, "timerfd_create failed");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  FAULTLINE_CHECK_MSG(wake_fd_ >= 0, "eventfd failed");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kTimerFdTag;
  FAULTLINE_CHECK(epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &event) == 0);
  event.data.u64 = kWakeFdTag;
  FAULTLINE_CHECK(epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) == 0);
  pool_threads_.reserve(options_.io_threads);
  for (size_t i = 0; i < options_.io_threads; ++i) {
    pool_threads_.emplace_back([this] { IoThreadMain(); });
  }
}

EventLoop::~EventLoop() {
  FAULTLINE_CHECK_MSG(current_ == nullptr, "an EventLoop was destroyed from inside a fiber");
  // Let in-flight blocking calls finish first: they write into the stacks of
  // fibers that are about to be unwound.
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    pool_stopping_ = true;
    pool_stopping_hint_.store(true);
  }
  pool_cv_.notify_all();
  for (std::thread& thread : pool_threads_) thread.join();
  DrainCompletions();
  FAULTLINE_CHECK(inflight_io_ == 0);
  KillAllFibers();
  FAULTLINE_CHECK_MSG(fibers_.empty(), "a fiber survived the event loop's shutdown");
  FAULTLINE_CHECK_MSG(watchers_.empty(), "an FdWatcher outlived its EventLoop");
  close(wake_fd_);
  close(timer_fd_);
  close(epoll_fd_);
}

int64_t EventLoop::NowNs() { return MonotonicNowNs(); }

// --- fibers ------------------------------------------------------------------

void EventLoop::StartFiber(std::string name, absl::AnyInvocable<void() &&> body) {
  FAULTLINE_CHECK(body != nullptr);
  FAULTLINE_CHECK_MSG(fibers_.size() < options_.max_fibers, "too many fibers");
  const uint64_t id = next_fiber_id_++;
  auto owned = std::make_unique<LoopFiber>(this, id, std::move(name), std::move(body),
                                           options_.stack_size_bytes);
  LoopFiber* fiber = owned.get();
  fibers_.emplace(id, std::move(owned));
  if (runtime::internal::StartsKilled(current_, shutting_down_)) {
    // Started by a fiber being unwound, or during shutdown: it never runs.
    fiber->killed = true;
    unwinding_.push_back(fiber);
  } else {
    runnable_.push_back(fiber);
  }
}

runtime::Fiber* EventLoop::CurrentFiber() { return current_; }

void EventLoop::SwitchTo(LoopFiber* fiber) {
  FAULTLINE_CHECK(current_ == nullptr);
  current_ = fiber;
  fiber->Resume();
  current_ = nullptr;
  if (fiber->state == LoopFiber::State::kDone) fibers_.erase(fiber->id());
}

void EventLoop::OnFiberFailed(runtime::internal::FiberCore& fiber, std::string_view what) {
  std::fprintf(stderr, "fiber '%s' (#%llu) threw: %.*s\n", fiber.name().c_str(),
               static_cast<unsigned long long>(fiber.id()), static_cast<int>(what.size()),
               what.data());
  FAULTLINE_CHECK_MSG(false, "an exception escaped a fiber");
}

runtime::WakeReason EventLoop::Park(int64_t deadline_ns, std::string_view waiting_on) {
  LoopFiber* self = current_;
  FAULTLINE_CHECK_MSG(self != nullptr, "Park outside a fiber");
  if (self->killed) return self->KilledOrThrow();
  if (deadline_ns != runtime::kNoDeadline && deadline_ns <= NowNs()) {
    return runtime::WakeReason::kTimedOut;
  }
  self->state = LoopFiber::State::kParked;
  self->waiting_on = waiting_on;
  if (deadline_ns != runtime::kNoDeadline) ArmFiberTimer(self, deadline_ns);
  self->Suspend();
  if (self->killed) return self->KilledOrThrow();
  return self->wake_reason;
}

void EventLoop::Unpark(runtime::Fiber* fiber) {
  auto* loop_fiber = static_cast<LoopFiber*>(fiber);
  FAULTLINE_CHECK_MSG(loop_fiber->loop == this, "Unpark of another executor's fiber");
  if (loop_fiber->state != LoopFiber::State::kParked) return;
  DisarmFiberTimer(loop_fiber);
  loop_fiber->wake_reason = runtime::WakeReason::kUnparked;
  MakeRunnable(loop_fiber);
}

void EventLoop::Yield() {
  LoopFiber* self = current_;
  FAULTLINE_CHECK_MSG(self != nullptr, "Yield outside a fiber");
  // A killed fiber returns at once (see unwind_policy.h).
  if (self->killed) {
    self->KilledOrThrow();
    return;
  }
  MakeRunnable(self);
  self->Suspend();
  if (self->killed) self->KilledOrThrow();
}

void EventLoop::MakeRunnable(LoopFiber* fiber) {
  fiber->state = LoopFiber::State::kRunnable;
  fiber->waiting_on = {};
  runnable_.push_back(fiber);
}

void EventLoop::KillAllFibers() {
  internal::InstallStackOverflowReporter();  // unwinding runs fiber code too
  // The policy both executors share (core/runtime/internal/unwind_policy.h):
  // every fiber is marked killed at once, then unwound newest first, so a
  // parent's Event or endpoint outlives the children waiting on it. Each
  // unwinding is one switch (a killed fiber does not suspend again); fibers
  // started meanwhile are born killed and unwound after the rest; at most
  // max_fibers of those, so that destructors that keep starting fibers
  // cannot keep the shutdown going forever.
  shutting_down_ = true;
  const size_t max_unwound = fibers_.size() + options_.max_fibers;
  runtime::internal::KillNewestFirst(
      fibers_, [](const LoopFiber&) { return true; },
      [&](LoopFiber* fiber) {
        DisarmFiberTimer(fiber);
        fiber->state = LoopFiber::State::kRunnable;
        unwinding_.push_back(fiber);
      });
  runnable_.clear();  // every fiber in it was killed and queued above
  for (size_t unwound = 0; !unwinding_.empty(); ++unwound) {
    FAULTLINE_CHECK_MSG(unwound < max_unwound, "fibers kept starting fibers during shutdown");
    LoopFiber* fiber = unwinding_.front();
    unwinding_.pop_front();
    const uint64_t id = fiber->id();
    SwitchTo(fiber);  // erases it from fibers_ when done
    FAULTLINE_CHECK_MSG(fibers_.count(id) == 0, "a killed fiber suspended while being unwound");
  }
}

// --- timers ------------------------------------------------------------------

void EventLoop::ArmFiberTimer(LoopFiber* fiber, int64_t deadline_ns) {
  FAULTLINE_CHECK(!fiber->timer_armed);
  fiber->timer_key = TimerKey{deadline_ns, next_timer_seq_++};
  fiber->timer_armed = true;
  timers_.emplace(fiber->timer_key, TimerTarget{.fiber = fiber});
}

void EventLoop::DisarmFiberTimer(LoopFiber* fiber) {
  if (!fiber->timer_armed) return;
  timers_.erase(fiber->timer_key);
  fiber->timer_armed = false;
}

EventLoop::TimerId EventLoop::AddTimer(int64_t deadline_ns,
                                       absl::AnyInvocable<void() &&> callback) {
  FAULTLINE_CHECK(callback != nullptr);
  const TimerKey key{deadline_ns, next_timer_seq_++};
  timers_.emplace(key, TimerTarget{.callback = std::move(callback)});
  callback_timer_keys_.emplace(key.second, key);
  return key.second;
}

bool EventLoop::CancelTimer(TimerId id) {
  auto it = callback_timer_keys_.find(id);
  if (it == callback_timer_keys_.end()) return false;
  timers_.erase(it->second);
  callback_timer_keys_.erase(it);
  return true;
}

void EventLoop::FireDueTimers() {
  const int64_t now_ns = NowNs();
  // Bounded by the timers due now; callbacks that add timers due at once
  // are fired next round rather than looping here forever.
  size_t budget = timers_.size();
  while (budget-- > 0 && !timers_.empty() && timers_.begin()->first.first <= now_ns) {
    auto node = timers_.extract(timers_.begin());
    TimerTarget& target = node.mapped();
    if (target.fiber != nullptr) {
      LoopFiber* fiber = target.fiber;
      fiber->timer_armed = false;
      FAULTLINE_CHECK(fiber->state == LoopFiber::State::kParked);
      fiber->wake_reason = runtime::WakeReason::kTimedOut;
      MakeRunnable(fiber);
    } else {
      callback_timer_keys_.erase(node.key().second);
      std::move(target.callback)();
    }
  }
}

void EventLoop::ArmTimerFd(int64_t deadline_ns) {
  if (deadline_ns == armed_timer_deadline_ns_) return;
  itimerspec spec{};
  if (deadline_ns != runtime::kNoDeadline) {
    // An absolute time of 0 would disarm; the monotonic clock is never 0.
    const int64_t at_ns = deadline_ns < 1 ? 1 : deadline_ns;
    spec.it_value.tv_sec = at_ns / io::kNanosPerSecond;
    spec.it_value.tv_nsec = at_ns % io::kNanosPerSecond;
  }
  FAULTLINE_CHECK(timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) == 0);
  armed_timer_deadline_ns_ = deadline_ns;
}

// --- running -----------------------------------------------------------------

void EventLoop::Stop() {
  stop_requested_.store(true);
  const uint64_t one = 1;
  // Wakes a blocked epoll_wait; a full counter (EAGAIN) already wakes it.
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
}

RunOutcome EventLoop::Run() {
  FAULTLINE_CHECK_MSG(!running_ && current_ == nullptr, "EventLoop::Run is not reentrant");
  internal::InstallStackOverflowReporter();
  running_ = true;
  RunOutcome outcome = RunOutcome::kCompleted;
  while (true) {
    if (stop_requested_.exchange(false)) {
      outcome = RunOutcome::kStopped;
      break;
    }
    if (!runnable_.empty()) {
      // One round: the fibers runnable now, in FIFO order. Fibers they make
      // runnable wait for the next round, after timers and I/O are polled,
      // so a busy fiber cannot starve timers or sockets.
      size_t round = runnable_.size();
      while (round-- > 0 && !runnable_.empty() && !stop_requested_.load()) {
        LoopFiber* fiber = runnable_.front();
        runnable_.pop_front();
        SwitchTo(fiber);
      }
      PollOnce(/*block=*/false);
      continue;
    }
    if (fibers_.empty()) break;
    PollOnce(/*block=*/true);
  }
  running_ = false;
  return outcome;
}

void EventLoop::PollOnce(bool block) {
  FireDueTimers();
  if (!runnable_.empty()) block = false;
  const int64_t next_timer_ns =
      timers_.empty() ? runtime::kNoDeadline : timers_.begin()->first.first;
  if (block && inflight_io_ > 0 && SpinForCompletion(next_timer_ns)) block = false;
  int timeout_ms = 0;
  if (block) {
    timeout_ms = -1;
    ArmTimerFd(next_timer_ns);
    // Announce the sleep, then re-check: a completion posted after this
    // store sees the flag and writes the eventfd.
    loop_may_block_.store(true);
    if (completions_ready_.load()) timeout_ms = 0;
  }
  epoll_event events[kMaxEventsPerPoll];
  const int count = epoll_wait(epoll_fd_, events, kMaxEventsPerPoll, timeout_ms);
  loop_may_block_.store(false);
  if (completions_ready_.load()) DrainCompletions();
  if (count < 0) {
    FAULTLINE_CHECK_MSG(errno == EINTR, "epoll_wait failed");
    return;
  }
  for (int i = 0; i < count; ++i) {
    const uint64_t tag = events[i].data.u64;
    if (tag == kTimerFdTag) {
      uint64_t expirations = 0;
      [[maybe_unused]] ssize_t got = read(timer_fd_, &expirations, sizeof(expirations));
      armed_timer_deadline_ns_ = runtime::kNoDeadline;  // a fired timerfd is disarmed
    } else if (tag == kWakeFdTag) {
      uint64_t counter = 0;
      [[maybe_unused]] ssize_t got = read(wake_fd_, &counter, sizeof(counter));
      DrainCompletions();
    } else {
      // Looked up by id: a callback earlier in this batch may have destroyed
      // the watcher.
      auto it = watchers_.find(tag);
      if (it != watchers_.end()) it->second->Dispatch(events[i].events);
    }
  }
  FireDueTimers();
}

// --- the I/O pool ------------------------------------------------------------

void EventLoop::RunBlocking(absl::FunctionRef<void()> work) {
  LoopFiber* self = current_;
  if (self == nullptr || self->killed || pool_stopping_) {
    work();
    return;
  }
  if (IdleEnoughToRunInline()) {
    ++inline_blocking_calls_;
    work();
    return;
  }
  // Back-pressure: at most max_inflight_io jobs queued or running.
  while (inflight_io_ >= options_.max_inflight_io) {
    runtime::internal::WaitQueue* queue = &io_slot_waiters_;
    if (runtime::internal::WaitOn(*this, {&queue, 1}, runtime::kNoDeadline, "I/O slot") ==
        runtime::internal::kWaitKilled) {
      work();
      return;
    }
  }
  IoJob job{.work = work, .waiter = self};
  ++inflight_io_;
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    pending_jobs_.push_back(&job);
    pending_count_.fetch_add(1);
  }
  // A spinning thread will take the job without a wake-up. No wake-up is
  // lost: a spinner re-checks the queue under the mutex after it stops
  // counting itself, which is after this load saw it counted.
  if (spinning_threads_.load() == 0) pool_cv_.notify_one();
  // Parks until the completion is drained. If the fiber is killed meanwhile
  // (loop shutdown), the destructor drained the pool first, so `job` is done
  // before this frame unwinds.
  while (!job.done) {
    if (Park(runtime::kNoDeadline, "blocking I/O") == runtime::WakeReason::kKilled) {
      FAULTLINE_CHECK(job.done);
    }
  }
}

bool EventLoop::IdleEnoughToRunInline() {
  if (options_.inline_when_idle_horizon_ns <= 0) return false;
  if (!runnable_.empty() || inflight_io_ > 0 || !watchers_.empty()) return false;
  if (stop_requested_.load(std::memory_order_relaxed)) return false;
  return timers_.empty() ||
         timers_.begin()->first.first - NowNs() > options_.inline_when_idle_horizon_ns;
}

bool EventLoop::SpinForCompletion(int64_t limit_ns) {
  if (options_.loop_completion_spin_ns <= 0) return completions_ready_.load();
  const int64_t until_ns = std::min(limit_ns, NowNs() + options_.loop_completion_spin_ns);
  // Bounded by the clock: reads it every 8 polls.
  for (uint64_t polls = 0;; ++polls) {
    if (completions_ready_.load(std::memory_order_acquire)) return true;
    if (polls % 8 == 7 && NowNs() >= until_ns) return false;
    SpinPause();
  }
}

EventLoop::IoJob* EventLoop::NextJob() {
  // Spin first (one thread at a time), to catch the loop's next job without
  // the cost of a futex sleep and wake-up.
  if (options_.io_thread_spin_ns > 0) {
    if (spinning_threads_.fetch_add(1) == 0) {
      const int64_t until_ns = MonotonicNowNs() + options_.io_thread_spin_ns;
      for (uint64_t polls = 0;; ++polls) {
        if (pending_count_.load(std::memory_order_acquire) > 0 || pool_stopping_hint_.load()) break;
        if (polls % 8 == 7 && MonotonicNowNs() >= until_ns) break;
        SpinPause();
      }
    }
    spinning_threads_.fetch_sub(1);
  }
  std::unique_lock<std::mutex> lock(pool_mutex_);
  pool_cv_.wait(lock, [this] { return pool_stopping_ || !pending_jobs_.empty(); });
  if (pending_jobs_.empty()) return nullptr;  // stopping, and nothing left to run
  IoJob* job = pending_jobs_.front();
  pending_jobs_.pop_front();
  pending_count_.fetch_sub(1);
  return job;
}

void EventLoop::IoThreadMain() {
  // Runs until the destructor stops the pool; every job queued before that
  // still runs (fibers' stacks depend on it).
  while (IoJob* job = NextJob()) {
    job->work();
    {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      completed_jobs_.push_back(job);
      completions_ready_.store(true);
    }
    // Wake the loop only if it may be asleep; otherwise it finds the
    // completion when it next polls or spins.
    if (loop_may_block_.exchange(false)) {
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
    }
  }
}

void EventLoop::DrainCompletions() {
  std::vector<IoJob*> completed;
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    completions_ready_.store(false);
    completed.swap(completed_jobs_);
  }
  for (IoJob* job : completed) {
    FAULTLINE_CHECK(inflight_io_ > 0);
    --inflight_io_;
    job->done = true;
    Unpark(job->waiter);
    io_slot_waiters_.NotifyOne(*this);
  }
}

// --- fd watchers -------------------------------------------------------------

void EventLoop::RegisterWatcher(FdWatcher* watcher) { watchers_.emplace(watcher->id_, watcher); }

void EventLoop::UnregisterWatcher(FdWatcher* watcher) {
  if (watcher->registered_) {
    epoll_event unused{};
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, watcher->fd_, &unused);
    watcher->registered_ = false;
  }
  watchers_.erase(watcher->id_);
}

void EventLoop::UpdateWatcherInterest(FdWatcher* watcher) {
  const uint32_t wanted = watcher->WantedEvents();
  // Not registered while nothing is wanted: an idle fd that hangs up would
  // otherwise be reported (level-triggered) on every poll.
  if (wanted == 0) {
    if (watcher->registered_) {
      epoll_event unused{};
      FAULTLINE_CHECK(epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, watcher->fd_, &unused) == 0);
      watcher->registered_ = false;
    }
    return;
  }
  if (watcher->registered_ && watcher->registered_events_ == wanted) return;
  epoll_event event{};
  event.events = wanted;
  event.data.u64 = watcher->id_;
  const int op = watcher->registered_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  FAULTLINE_CHECK_MSG(epoll_ctl(epoll_fd_, op, watcher->fd_, &event) == 0, "epoll_ctl failed");
  watcher->registered_ = true;
  watcher->registered_events_ = wanted;
}

FdWatcher::FdWatcher(EventLoop& loop, int fd) : loop_(loop), fd_(fd), id_(loop.next_watcher_id_++) {
  FAULTLINE_CHECK(fd >= 0);
  FAULTLINE_CHECK(id_ != kTimerFdTag && id_ != kWakeFdTag);
  loop_.RegisterWatcher(this);
}

FdWatcher::~FdWatcher() {
  FAULTLINE_CHECK_MSG(reader_ == nullptr && writer_ == nullptr,
                      "an FdWatcher was destroyed while a fiber waits on it");
  loop_.UnregisterWatcher(this);
}

void FdWatcher::SetCallback(absl::AnyInvocable<void(uint32_t events)> callback) {
  callback_ = std::move(callback);
}

void FdWatcher::SetInterest(bool readable, bool writable) {
  callback_readable_ = readable;
  callback_writable_ = writable;
  loop_.UpdateWatcherInterest(this);
}

uint32_t FdWatcher::WantedEvents() const {
  uint32_t events = 0;
  if (callback_readable_ || reader_ != nullptr) events |= EPOLLIN | EPOLLRDHUP;
  if (callback_writable_ || writer_ != nullptr) events |= EPOLLOUT;
  return events;
}

absl::Status FdWatcher::WaitReadable(int64_t deadline_ns) { return WaitFor(true, deadline_ns); }
absl::Status FdWatcher::WaitWritable(int64_t deadline_ns) { return WaitFor(false, deadline_ns); }

absl::Status FdWatcher::WaitFor(bool readable, int64_t deadline_ns) {
  runtime::Fiber* self = loop_.CurrentFiber();
  FAULTLINE_CHECK_MSG(self != nullptr, "FdWatcher wait outside a fiber");
  runtime::Fiber*& slot = readable ? reader_ : writer_;
  FAULTLINE_CHECK_MSG(slot == nullptr, "two fibers wait on one fd direction");
  slot = self;
  // Clears the slot and the interest on every exit, including an unwind.
  struct Clear {
    FdWatcher* watcher;
    runtime::Fiber*& slot;
    ~Clear() {
      slot = nullptr;
      watcher->loop_.UpdateWatcherInterest(watcher);
    }
  } clear{this, slot};
  loop_.UpdateWatcherInterest(this);
  const runtime::WakeReason reason =
      loop_.Park(deadline_ns, readable ? "fd readable" : "fd writable");
  if (reason == runtime::WakeReason::kTimedOut) {
    return absl::DeadlineExceededError("fd not ready before the deadline");
  }
  if (reason == runtime::WakeReason::kKilled) return absl::CancelledError("fiber unwinding");
  return absl::OkStatus();
}

void FdWatcher::Dispatch(uint32_t events) {
  const bool error = (events & (EPOLLERR | EPOLLHUP)) != 0;
  if (reader_ != nullptr && (error || (events & (EPOLLIN | EPOLLRDHUP)) != 0)) {
    loop_.Unpark(reader_);
  }
  if (writer_ != nullptr && (error || (events & EPOLLOUT) != 0)) loop_.Unpark(writer_);
  if (callback_ != nullptr && (callback_readable_ || callback_writable_)) callback_(events);
}

}  // namespace faultline::posix
