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
//   3. A canary: the lowest kStackCanaryBytes of the usable stack, zero as
//      mapped, must still be zero each time the fiber switches back to its
//      executor and when it finishes; a frame that reached the very bottom
//      without touching the gap is reported the same way. Zero, not a
//      pattern, because writing a pattern would commit the bottom page of
//      every stack (4 KiB more per idle fiber, twice the simulator's idle
//      footprint), while reading an untouched page maps the kernel's shared
//      zero page: no memory.
//      (A frame that writes only zeros there escapes it; the gap does not.)
//      Pooled stacks stay zero there: a fiber that dirtied its canary was
//      reported before its stack could be reused.
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

inline constexpr size_t kStackCanaryBytes = 16;

inline char* StackBottom(const boost::context::stack_context& stack) {
  return static_cast<char*>(stack.sp) - stack.size;
}

// On every switch: two loads.
inline bool StackCanaryIntact(const boost::context::stack_context& stack) {
  const char* bottom = StackBottom(stack);
  uint64_t bits = 0;
  for (size_t i = 0; i < kStackCanaryBytes / sizeof(uint64_t); ++i) {
    uint64_t word;
    std::memcpy(&word, bottom + i * sizeof(uint64_t), sizeof(word));
    bits |= word;
  }
  return bits == 0;
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
