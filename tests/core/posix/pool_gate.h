// tests/core/posix/pool_gate.h — holds an I/O pool thread until the test says
// so. With EventLoopOptions::io_threads = 1, a RunBlocking call that waits on
// the gate keeps every later pool job queued: the test can then act (close a
// file, destroy the file system) while a job is known to be queued and not
// yet run — an ordering, not a timing.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>

namespace faultline::posix::testing {

class PoolGate {
 public:
  // Blocks the calling thread (a pool thread) until Open().
  void Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    opened_cv_.wait(lock, [&] { return opened_; });
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      opened_ = true;
    }
    opened_cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_cv_;
  bool opened_ = false;
};

// Opens the gate when it goes out of scope, so that a failed assertion never
// leaves the pool blocked (an EventLoop joins its pool when destroyed).
class OpenGateOnExit {
 public:
  explicit OpenGateOnExit(std::shared_ptr<PoolGate> gate) : gate_(std::move(gate)) {}
  ~OpenGateOnExit() { gate_->Open(); }
  OpenGateOnExit(const OpenGateOnExit&) = delete;
  OpenGateOnExit& operator=(const OpenGateOnExit&) = delete;

 private:
  std::shared_ptr<PoolGate> gate_;
};

}  // namespace faultline::posix::testing
