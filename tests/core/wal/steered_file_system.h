// tests/core/wal/steered_file_system.h — a test-only io::FileSystem decorator
// that steers the directory syncs of the code under test: it can park the
// next SyncDir until the test lets it go (a slow directory fsync), or fail
// it as if the process died right there (io::NodeDeadError, so that the WAL
// touches nothing more — the page cache keeps everything done so far).
//
// Contract: the inner file system outlives this decorator and its files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/io/errors.h"
#include "core/runtime/event.h"
#include "core/runtime/executor.h"
#include "scenarios/io/forwarding_file_system.h"

namespace faultline::wal::testing {

class SteeredFileSystem final : public scenarios::ForwardingFileSystem {
 public:
  SteeredFileSystem(io::FileSystem& inner, runtime::Executor& executor)
      : ForwardingFileSystem(inner), released_(executor) {}

  // The next SyncDir of `dir` parks until Release(), then forwards.
  void ParkNextSyncDir(std::string_view dir) { park_dir_ = std::string(dir); }
  // The next SyncDir of `dir` fails with NodeDeadError and does nothing: the
  // process "died" between the call and its completion.
  void KillNextSyncDir(std::string_view dir) { kill_dir_ = std::string(dir); }
  void Release() { released_.Set(); }
  // Whether a SyncDir is parked now.
  bool parked() const { return parked_; }
  uint64_t dir_syncs() const { return dir_syncs_; }

  absl::Status SyncDir(std::string_view dir) override {
    ++dir_syncs_;
    if (kill_dir_ == dir) {
      kill_dir_.reset();
      return io::NodeDeadError("the test killed the process in SyncDir");
    }
    if (park_dir_ == dir) {
      park_dir_.reset();
      parked_ = true;
      released_.Wait();
      parked_ = false;
    }
    return ForwardingFileSystem::SyncDir(dir);
  }

 private:
  runtime::Event released_;
  std::optional<std::string> park_dir_;
  std::optional<std::string> kill_dir_;
  bool parked_ = false;
  uint64_t dir_syncs_ = 0;
};

}  // namespace faultline::wal::testing
