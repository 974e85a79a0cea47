// sim/scheduler/stack_pool.cc — see stack_pool.h.
#include "sim/scheduler/stack_pool.h"

#include <unistd.h>

#include "core/base/check.h"
#include "core/posix/internal/fiber_stack.h"

#if defined(FAULTLINE_VALGRIND)
#include <valgrind/valgrind.h>
#endif
#if defined(FAULTLINE_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace faultline::sim {

StackPool::StackPool(size_t stack_size_bytes, size_t max_cached_stacks)
    : max_cached_stacks_(max_cached_stacks) {
  FAULTLINE_CHECK(stack_size_bytes >= 16 * 1024);
  const auto page_size_bytes = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  stack_size_bytes_ = (stack_size_bytes + page_size_bytes - 1) / page_size_bytes * page_size_bytes;
}

StackPool::~StackPool() {
  FAULTLINE_CHECK_MSG(live_ == 0, "a StackPool was destroyed while fibers still use it");
  for (const boost::context::stack_context& stack : free_) posix::internal::UnmapFiberStack(stack);
}

boost::context::stack_context StackPool::Allocate() {
  boost::context::stack_context stack;
  if (!free_.empty()) {
    stack = free_.back();
    free_.pop_back();
  } else {
    stack = posix::internal::MapFiberStack(stack_size_bytes_);
  }
  ++live_;
#if defined(FAULTLINE_ASAN)
  // A fiber that ended by switching away never returned from its frames, so
  // ASan may still hold their redzones as poisoned: a reused stack must
  // start clean, or the next fiber trips over a stale redzone.
  ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(stack.sp) - stack.size, stack.size);
#endif
#if defined(FAULTLINE_VALGRIND)
  stack.valgrind_stack_id = VALGRIND_STACK_REGISTER(stack.sp, static_cast<char*>(stack.sp) - stack.size);
#endif
  last_allocated_ = stack;
  return stack;
}

void StackPool::Deallocate(boost::context::stack_context& stack) {
  FAULTLINE_CHECK(live_ > 0 && stack.size == stack_size_bytes_);
#if defined(FAULTLINE_VALGRIND)
  VALGRIND_STACK_DEREGISTER(stack.valgrind_stack_id);
#endif
  --live_;
  if (free_.size() < max_cached_stacks_) {
    free_.push_back(stack);
  } else {
    posix::internal::UnmapFiberStack(stack);
  }
}

}  // namespace faultline::sim
