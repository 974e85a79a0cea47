// sim/scheduler/stack_pool.cc — see stack_pool.h.
#include "sim/scheduler/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "core/base/check.h"

#if defined(FAULTLINE_VALGRIND)
#include <valgrind/valgrind.h>
#endif
#if defined(FAULTLINE_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace faultline::sim {

StackPool::StackPool(size_t stack_size_bytes, size_t max_cached_stacks)
    : page_size_bytes_(static_cast<size_t>(sysconf(_SC_PAGESIZE))),
      max_cached_stacks_(max_cached_stacks) {
  FAULTLINE_CHECK(stack_size_bytes >= 16 * 1024);
  stack_size_bytes_ = (stack_size_bytes + page_size_bytes_ - 1) / page_size_bytes_ * page_size_bytes_;
}

StackPool::~StackPool() {
  FAULTLINE_CHECK_MSG(live_ == 0, "a StackPool was destroyed while fibers still use it");
  for (void* base : free_) munmap(base, stack_size_bytes_ + page_size_bytes_);
}

boost::context::stack_context StackPool::Allocate() {
  void* base = nullptr;
  if (!free_.empty()) {
    base = free_.back();
    free_.pop_back();
  } else {
    const size_t mapping_bytes = stack_size_bytes_ + page_size_bytes_;
    base = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
      std::fprintf(stderr, "faultline: cannot map a %zu-byte fiber stack\n", mapping_bytes);
      std::abort();
    }
    // The lowest page catches stack overflow (stacks grow down).
    FAULTLINE_CHECK(mprotect(base, page_size_bytes_, PROT_NONE) == 0);
  }
  ++live_;
#if defined(FAULTLINE_ASAN)
  // A fiber that ended by switching away never returned from its frames, so
  // ASan may still hold their redzones as poisoned: a reused stack must
  // start clean, or the next fiber trips over a stale redzone.
  ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(base) + page_size_bytes_, stack_size_bytes_);
#endif
  boost::context::stack_context stack;
  stack.size = stack_size_bytes_;
  stack.sp = static_cast<char*>(base) + page_size_bytes_ + stack_size_bytes_;
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
  void* base = static_cast<char*>(stack.sp) - stack_size_bytes_ - page_size_bytes_;
  if (free_.size() < max_cached_stacks_) {
    free_.push_back(base);
  } else {
    munmap(base, stack_size_bytes_ + page_size_bytes_);
  }
}

}  // namespace faultline::sim
