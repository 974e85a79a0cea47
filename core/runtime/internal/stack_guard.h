// core/runtime/internal/stack_guard.h — how a fiber that overflows its stack
// is caught and named, shared by every executor's stacks.
//
// A frame that runs past the bottom of a fiber stack must fail at once and
// name the fiber, never step into memory below — another fiber's stack in a
// simulation with thousands of them side by side. Three layers:
//   1. The layout every executor's stack allocator follows: a
//      stack_context's [sp - size, sp) is all usable, and at least
//      kStackGuardBytes below it are mapped PROT_NONE (a gap no other
//      mapping can take). Code that runs on fibers is compiled with
//      -fstack-clash-protection (the project's `faultline_flags`), which
//      probes every page of a large frame in order, so even a frame far
//      larger than the gap faults in the gap; the gap's size is the margin
//      for code compiled without it.
//   2. A fault in the gap below the running fiber's stack is reported by the
//      executor's SIGSEGV handler (core/posix/internal/fiber_stack.h) with
//      the words FormatGuardFault writes: "fiber 'X' (#N) overflowed its
//      S-byte stack".
//   3. A canary in the lowest kStackCanaryBytes of the usable stack, written
//      when the stack is handed to a fiber and checked each time the fiber
//      switches back to its executor, reports the same for a frame that
//      reached the very bottom without touching the gap.
//
// Not API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <boost/context/stack_context.hpp>

namespace faultline::runtime::internal {

class FiberCore;

// The PROT_NONE gap below every fiber stack.
inline constexpr size_t kStackGuardBytes = 64 * 1024;
inline constexpr size_t kStackCanaryBytes = 2 * sizeof(uint64_t);

// The canary's words depend on the stack's address, so that a stale canary
// of another stack (a recycled one) or a copied frame does not pass.
inline uint64_t StackCanaryWord(const void* bottom, size_t index) {
  return (0xFA0171E5C0FFEE5Dull ^ reinterpret_cast<uintptr_t>(bottom)) + index;
}

inline char* StackBottom(const boost::context::stack_context& stack) {
  return static_cast<char*>(stack.sp) - stack.size;
}

inline void WriteStackCanary(const boost::context::stack_context& stack) {
  char* bottom = StackBottom(stack);
  for (size_t i = 0; i < kStackCanaryBytes / sizeof(uint64_t); ++i) {
    const uint64_t word = StackCanaryWord(bottom, i);
    std::memcpy(bottom + i * sizeof(uint64_t), &word, sizeof(word));
  }
}

// On every switch: two loads and compares.
inline bool StackCanaryIntact(const boost::context::stack_context& stack) {
  const char* bottom = StackBottom(stack);
  for (size_t i = 0; i < kStackCanaryBytes / sizeof(uint64_t); ++i) {
    uint64_t word;
    std::memcpy(&word, bottom + i * sizeof(uint64_t), sizeof(word));
    if (word != StackCanaryWord(bottom, i)) return false;
  }
  return true;
}

// The fiber running on this thread (FiberCore::Resume sets it), or nullptr:
// what the SIGSEGV handler names. Constant-initialized, so reading it is a
// plain thread-local load.
inline thread_local const FiberCore* running_fiber = nullptr;

// Prints "fiber 'X' (#N) overflowed its S-byte stack" and aborts.
[[noreturn]] void ReportStackOverflow(const FiberCore& fiber);

// If `fault_address` lies in the guard gap below the running fiber's stack,
// writes the overflow message (newline-terminated, truncated to `capacity`)
// into `out` and returns its length; otherwise returns 0. Async-signal-safe:
// for SIGSEGV handlers.
size_t FormatGuardFault(const void* fault_address, char* out, size_t capacity);

}  // namespace faultline::runtime::internal
