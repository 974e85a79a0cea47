// core/posix/internal/fiber_stack.h — fiber stacks mapped in the layout every
// executor shares (core/runtime/internal/stack_guard.h), and the SIGSEGV
// handler that names a fiber which ran into the guard gap below its stack.
//
// Both executors map their stacks here: the event loop one mapping per
// fiber, the simulator through its recycling pool (sim/scheduler/stack_pool.h).
// Mapping is the only part that needs the OS, which is why it lives in
// core/posix and not beside the checks in core/runtime.
//
// Not API.
#pragma once

#include <cstddef>

#include <boost/context/stack_context.hpp>

namespace faultline::posix::internal {

// Maps `usable_bytes` (rounded up to whole pages) of read-write stack with
// runtime::internal::kStackGuardBytes of PROT_NONE below it, in one mapping,
// so no other mapping can sit right under the stack. Pages cost memory only
// once touched. Aborts with a message if the address space is exhausted.
boost::context::stack_context MapFiberStack(size_t usable_bytes);
// Unmaps a stack from MapFiberStack, guard included.
void UnmapFiberStack(const boost::context::stack_context& stack);

// The Boost.Context StackAllocator concept: one fresh mapping per fiber.
class GuardedStackAllocator {
 public:
  explicit GuardedStackAllocator(size_t usable_bytes) : usable_bytes_(usable_bytes) {}
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& stack);

 private:
  size_t usable_bytes_;
};

// Installs, once per process, a SIGSEGV handler that reports a fault in the
// guard gap below the running fiber's stack as "fiber 'X' (#N) overflowed
// its S-byte stack" and aborts; any other fault, and a SIGSEGV sent by
// kill() or raise(), goes on to the handler that was installed before (or
// the default action: the process dies of SIGSEGV). Also gives the calling
// thread an alternate signal stack if it has none (the overflowed stack has
// no room left for the handler). Call on every thread that runs fibers,
// before it runs them; cheap after the first call on a thread.
void InstallStackOverflowReporter();

}  // namespace faultline::posix::internal
