// tests/core/wal/killable_file_system.h — a test-only io::FileSystem
// decorator that "kills the process" at a chosen step: it counts every call
// that changes the disk (open, remove, rename, mkdir, dir sync, lock, and on
// files write, append, sync, truncate; WriteAtAndSync counts as its write
// and its sync), and at step `kill_at` the call either does nothing (kBefore)
// or takes effect (kAfter), then fails with io::NodeDeadError, as does every
// call after it. The inner file system keeps its page cache, like a machine
// whose process died: a reopen on the inner file system sees what the dead
// process left, and the disk's pending operations are still pending.
//
// Contract: the inner file system outlives this decorator and its files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/io/errors.h"
#include "scenarios/io/forwarding_file_system.h"

namespace faultline::wal::testing {

class KillableFileSystem final : public scenarios::ForwardingFileSystem {
 public:
  enum class When { kBefore, kAfter };

  // kill_at == 0 never kills (it only counts steps).
  KillableFileSystem(io::FileSystem& inner, uint64_t kill_at, When when)
      : ForwardingFileSystem(inner), state_(std::make_shared<State>()) {
    state_->kill_at = kill_at;
    state_->when = when;
  }

  // Moves the kill to step `kill_at` (counted from the start).
  void KillAt(uint64_t kill_at, When when) {
    state_->kill_at = kill_at;
    state_->when = when;
  }
  bool dead() const { return state_->dead; }
  uint64_t steps() const { return state_->steps; }

  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path,
                                                 io::OpenMode mode) override {
    if (state_->dead) return Dead();
    // Opening an existing file changes nothing: only creations are steps.
    if (mode == io::OpenMode::kReadWrite) return ForwardingFileSystem::Open(path, mode);
    absl::StatusOr<std::unique_ptr<io::File>> file;
    absl::Status status = Step([&] {
      file = ForwardingFileSystem::Open(path, mode);
      return file.status();
    });
    if (!status.ok()) return status;
    return file;
  }
  absl::Status Rename(std::string_view from, std::string_view to) override {
    return Step([&] { return ForwardingFileSystem::Rename(from, to); });
  }
  absl::Status Remove(std::string_view path) override {
    return Step([&] { return ForwardingFileSystem::Remove(path); });
  }
  absl::Status CreateDir(std::string_view path) override {
    return Step([&] { return ForwardingFileSystem::CreateDir(path); });
  }
  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override {
    if (state_->dead) return Dead();
    return ForwardingFileSystem::List(dir);
  }
  absl::Status SyncDir(std::string_view dir) override {
    return Step([&] { return ForwardingFileSystem::SyncDir(dir); });
  }
  absl::StatusOr<bool> Exists(std::string_view path) override {
    if (state_->dead) return Dead();
    return ForwardingFileSystem::Exists(path);
  }

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view /*path*/,
                                     std::unique_ptr<io::File> file) override {
    return std::make_unique<KillableFile>(std::move(file), state_);
  }

 private:
  struct State {
    uint64_t kill_at = 0;
    When when = When::kBefore;
    uint64_t steps = 0;
    bool dead = false;
  };

  static absl::Status Dead() { return io::NodeDeadError("the test killed the process"); }

  template <typename Op>
  static absl::Status StepIn(State& state, Op&& op) {
    if (state.dead) return Dead();
    ++state.steps;
    if (state.steps != state.kill_at) return op();
    state.dead = true;
    if (state.when == When::kAfter) (void)op();
    return Dead();
  }
  template <typename Op>
  absl::Status Step(Op&& op) {
    return StepIn(*state_, std::forward<Op>(op));
  }

  class KillableFile final : public scenarios::ForwardingFile {
   public:
    KillableFile(std::unique_ptr<io::File> inner, std::shared_ptr<State> state)
        : ForwardingFile(std::move(inner)), state_(std::move(state)) {}
    absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
      if (state_->dead) return Dead();
      return ForwardingFile::ReadAt(offset, out);
    }
    absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
      return StepIn(*state_, [&] { return ForwardingFile::WriteAt(offset, data); });
    }
    absl::Status Append(absl::Span<const char> data) override {
      return StepIn(*state_, [&] { return ForwardingFile::Append(data); });
    }
    absl::Status Sync() override {
      return StepIn(*state_, [&] { return ForwardingFile::Sync(); });
    }
    absl::Status Truncate(uint64_t size_bytes) override {
      return StepIn(*state_, [&] { return ForwardingFile::Truncate(size_bytes); });
    }
    absl::StatusOr<uint64_t> Size() override {
      if (state_->dead) return Dead();
      return ForwardingFile::Size();
    }

   private:
    std::shared_ptr<State> state_;
  };

  std::shared_ptr<State> state_;
};

}  // namespace faultline::wal::testing
