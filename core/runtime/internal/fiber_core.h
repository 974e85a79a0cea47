// core/runtime/internal/fiber_core.h — one fiber's machine context and life
// cycle, shared by every Executor (sim::Scheduler and posix::EventLoop).
//
// What both executors must do identically lives here, once: the
// Boost.Context continuation and its stack, the switch into the fiber and
// back (with AddressSanitizer's fiber-switch annotations in FAULTLINE_ASAN
// builds and ThreadSanitizer's in FAULTLINE_TSAN builds, without which TSan
// would take each fiber's stack for its thread's and report nonsense), the fiber's entry function — which lets FiberKilled end the fiber,
// lets Boost's forced_unwind pass, and reports any other exception instead of
// letting it escape (Boost.Context's rule) — and what Park/Yield do in a
// killed fiber, the stack-overflow checks (stack_guard.h), and each fiber's
// own C++ exception state (ExceptionState below). Each executor
// keeps only its own policy: which fiber runs next, timers, nodes — and its
// stacks, which follow stack_guard.h's layout.
//
// Not API: executors derive their fiber records from FiberCore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <boost/context/fiber.hpp>
#include <cxxabi.h>

#if defined(FAULTLINE_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(FAULTLINE_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

#include "absl/functional/any_invocable.h"
#include "core/base/check.h"
#include "core/runtime/executor.h"
#include "core/runtime/internal/stack_guard.h"

namespace faultline::runtime::internal {

class FiberCore;

// The C++ runtime's per-thread exception state: the stack of exceptions
// being handled (what `throw;` and std::current_exception() see) and the
// count of exceptions in flight (std::uncaught_exceptions()). Every fiber of
// an executor shares one thread, so each fiber keeps its own copy and
// Resume() swaps it in and out: otherwise a catch block that parks would
// come back to another fiber's exception, end it (freeing it under that
// fiber's handler), and a fiber would see another's exception in flight —
// which Park() reads to decide between throwing FiberKilled and returning
// kKilled. The layout is the Itanium C++ ABI's __cxa_eh_globals (libstdc++
// and libc++abi alike); only these two leading fields are touched.
struct ExceptionState {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;
};

// The runtime's call reaches a thread-local of the shared C++ library
// (several nanoseconds: a third of a scheduler step); the address it
// returns is fixed per thread, so it is asked once per thread.
inline constinit thread_local ExceptionState* thread_exception_state = nullptr;
inline ExceptionState* ThreadExceptionState() {
  ExceptionState* state = thread_exception_state;
  if (state == nullptr) [[unlikely]] {
    state = reinterpret_cast<ExceptionState*>(abi::__cxa_get_globals());
    thread_exception_state = state;
  }
  return state;
}

// Told when an exception other than FiberKilled escapes a fiber's body.
// Called on the failing fiber's own stack, before it finishes.
class FiberFailureHandler {
 public:
  virtual void OnFiberFailed(FiberCore& fiber, std::string_view what) = 0;

 protected:
  ~FiberFailureHandler() = default;
};

class FiberCore : public Fiber {
 public:
  enum class State : uint8_t { kRunnable, kRunning, kParked, kDone };

  // A fiber suspended before its first instruction, on a stack from
  // `stack_allocator` (a Boost.Context StackAllocator). `failure_handler`
  // must outlive the fiber.
  template <typename StackAllocator>
  FiberCore(uint64_t id, std::string name, absl::AnyInvocable<void() &&> body,
            StackAllocator stack_allocator, FiberFailureHandler* failure_handler)
      : Fiber(id, std::move(name)), body_(std::move(body)), failure_handler_(failure_handler) {
    context_ = boost::context::fiber(
        std::allocator_arg,
        RecordingStackAllocator<StackAllocator>(std::move(stack_allocator), &stack_),
        [this](boost::context::fiber&& caller) { return Main(std::move(caller)); });
#if defined(FAULTLINE_TSAN)
    tsan_fiber_ = __tsan_create_fiber(0);
#endif
  }
  ~FiberCore();

  // Executor side: runs the fiber (state kRunnable) until it suspends or
  // finishes; `state` then says which. A fiber that is `killed` before its
  // first run never runs its body, but the body is still destroyed. Aborts
  // naming the fiber if it overflowed its stack (stack_guard.h).
  // (Inline, with Suspend: they are on every scheduling step.)
  void Resume() {
    FAULTLINE_CHECK(state == State::kRunnable);
    state = State::kRunning;
#if defined(FAULTLINE_ASAN)
    void* fake_stack = nullptr;
    __sanitizer_start_switch_fiber(&fake_stack, static_cast<char*>(stack_.sp) - stack_.size,
                                   stack_.size);
#endif
#if defined(FAULTLINE_TSAN)
    tsan_caller_ = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(tsan_fiber_, 0);
#endif
    const FiberCore* resumer = running_fiber;
    running_fiber = this;
    ExceptionState* thread_state = ThreadExceptionState();
    const ExceptionState resumer_state = *thread_state;
    *thread_state = exception_state_;
    context_ = std::move(context_).resume();
    exception_state_ = *thread_state;
    *thread_state = resumer_state;
    running_fiber = resumer;
#if defined(FAULTLINE_ASAN)
    __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
#if defined(FAULTLINE_TSAN)
    // A suspending fiber switched back itself (Suspend); a finished one
    // cannot: its last frames returned after its last line of code.
    if (state == State::kDone) __tsan_switch_to_fiber(tsan_caller_, 0);
#endif
    // A finished fiber hands back an empty continuation: Boost freed its stack.
    FAULTLINE_CHECK((state == State::kDone) == !context_);
    if (state != State::kDone && !StackCanaryIntact(stack_)) [[unlikely]] {
      ReportStackOverflow(*this);
    }
  }

  // Fiber side: returns control to the caller of Resume(). Set `state`
  // first (kParked or kRunnable).
  void Suspend() {
#if defined(FAULTLINE_ASAN)
    void* fake_stack = nullptr;
    __sanitizer_start_switch_fiber(&fake_stack, caller_stack_bottom_, caller_stack_size_);
#endif
#if defined(FAULTLINE_TSAN)
    __tsan_switch_to_fiber(tsan_caller_, 0);
#endif
    return_context_ = std::move(return_context_).resume();
#if defined(FAULTLINE_ASAN)
    __sanitizer_finish_switch_fiber(fake_stack, &caller_stack_bottom_, &caller_stack_size_);
#endif
  }

  // What Park() and Yield() do in a killed fiber: throw FiberKilled, or —
  // while another exception is already unwinding the stack, when throwing
  // would terminate the process — return kKilled. No other fiber runs until
  // a killed one has unwound, so a destructor that keeps parking or yielding
  // until another fiber acts would spin forever: after kMaxKilledWaits such
  // returns the process aborts naming the fiber.
  WakeReason KilledOrThrow();
  static constexpr uint32_t kMaxKilledWaits = uint32_t{1} << 20;

  // Where the fiber's stack lies: [sp - size, sp) usable, a guard gap below
  // (stack_guard.h). Meaningless once the fiber finished.
  const boost::context::stack_context& stack() const { return stack_; }

  State state = State::kRunnable;
  bool killed = false;
  std::string_view waiting_on;  // while kParked
  WakeReason wake_reason = WakeReason::kUnparked;

 private:
  // Records where Boost put the stack, for the sanitizer annotations and
  // the overflow checks.
  template <typename Inner>
  class RecordingStackAllocator {
   public:
    RecordingStackAllocator(Inner inner, boost::context::stack_context* record)
        : inner_(std::move(inner)), record_(record) {}
    boost::context::stack_context allocate() {
      *record_ = inner_.allocate();
      return *record_;
    }
    void deallocate(boost::context::stack_context& stack) { inner_.deallocate(stack); }

   private:
    Inner inner_;
    boost::context::stack_context* record_;
  };

  boost::context::fiber Main(boost::context::fiber&& caller);

  absl::AnyInvocable<void() &&> body_;
  FiberFailureHandler* failure_handler_;
  boost::context::fiber context_;         // this fiber, while suspended
  boost::context::fiber return_context_;  // the executor, while this fiber runs
  boost::context::stack_context stack_{};
  ExceptionState exception_state_;  // this fiber's, while it is suspended
  uint32_t killed_waits_ = 0;       // kKilled returns of KilledOrThrow
  // The executor's stack, as AddressSanitizer reports it on each switch.
  const void* caller_stack_bottom_ = nullptr;
  size_t caller_stack_size_ = 0;
#if defined(FAULTLINE_TSAN)
  void* tsan_fiber_ = nullptr;   // ThreadSanitizer's context for this fiber
  void* tsan_caller_ = nullptr;  // the executor's, while this fiber runs
#endif
};

}  // namespace faultline::runtime::internal
