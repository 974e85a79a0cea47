// core/io/lock_table.h — FileSystem::LockFile for file systems that live in
// memory (the simulated disk, test fakes): at most one FileLock per path,
// released when the FileLock is destroyed or, all at once, when the table's
// owner dies (ReleaseAll on a crash).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/io/file_system.h"

namespace faultline::io {

class LockTable {
 public:
  // The lock on `path` (existence is the caller's business), or
  // FailedPrecondition while another FileLock of this table holds it.
  absl::StatusOr<std::unique_ptr<FileLock>> Lock(std::string_view path);

  // Forgets every lock (their holder died). Destroying a forgotten FileLock
  // later releases nothing: it cannot free a newer holder's lock.
  void ReleaseAll() { state_->held.clear(); }

  bool IsHeld(std::string_view path) const { return state_->held.count(std::string(path)) > 0; }

 private:
  struct State {
    std::map<std::string, uint64_t> held;  // path -> token of the holding FileLock
    uint64_t next_token = 1;
  };
  class TableLock;

  // Shared with the FileLocks, which may outlive the table.
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace faultline::io
