// sim/scheduler/stack_pool.h — fiber stacks, recycled.
//
// Spawning a fiber must be cheap (scenarios spawn thousands per seed), so
// stacks are mapped once and reused. Each is mapped in the layout both
// executors share (core/runtime/internal/stack_guard.h): a PROT_NONE gap of
// runtime::internal::kStackGuardBytes below every stack, so a fiber that
// overflows faults in its own gap instead of writing into a neighbour's
// stack. Only the pages a fiber actually touches cost memory, which is what
// lets 10,000 idle fibers fit in a few tens of MiB.
#pragma once

#include <cstddef>
#include <vector>

#include <boost/context/stack_context.hpp>

namespace faultline::sim {

class StackPool {
 public:
  // `stack_size_bytes` is rounded up to whole pages; at most
  // `max_cached_stacks` free stacks are kept for reuse.
  explicit StackPool(size_t stack_size_bytes, size_t max_cached_stacks = 4096);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  boost::context::stack_context Allocate();
  void Deallocate(boost::context::stack_context& stack);

  size_t stack_size_bytes() const { return stack_size_bytes_; }
  size_t cached_stacks() const { return free_.size(); }
  size_t live_stacks() const { return live_; }
  // The stack most recently handed out (for sanitizer annotations).
  const boost::context::stack_context& last_allocated() const { return last_allocated_; }

 private:
  size_t stack_size_bytes_;  // usable bytes, excluding the guard gap
  size_t max_cached_stacks_;
  size_t live_ = 0;
  std::vector<boost::context::stack_context> free_;  // cached mappings
  boost::context::stack_context last_allocated_;
};

// The Boost.Context StackAllocator concept, over a StackPool.
class PooledStackAllocator {
 public:
  explicit PooledStackAllocator(StackPool& pool) : pool_(&pool) {}
  boost::context::stack_context allocate() { return pool_->Allocate(); }
  void deallocate(boost::context::stack_context& stack) { pool_->Deallocate(stack); }

 private:
  StackPool* pool_;
};

}  // namespace faultline::sim
