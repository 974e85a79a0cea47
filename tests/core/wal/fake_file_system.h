// tests/core/wal/fake_file_system.h — a minimal in-memory io::FileSystem for
// the WAL's unit tests (test-only; sim/disk is the real simulated disk).
//
// Each file keeps its current bytes and the bytes its last successful Sync
// made durable. Crash() replaces every file by its durable bytes plus,
// optionally, a prefix of what was appended after them (a torn tail), and
// kills every handle opened before it. Directory durability is not modelled:
// creates and removes are durable at once. Hooks fail chosen Sync or WriteAt
// calls with EIO and make Sync take virtual time so that appenders pile up.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/file_system.h"
#include "core/io/lock_table.h"
#include "core/runtime/executor.h"

namespace faultline::wal::testing {

class FakeFileSystem final : public io::FileSystem {
 public:
  struct FileData {
    std::string bytes;
    std::string durable;
  };

  FakeFileSystem() = default;

  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path, io::OpenMode mode) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::Status Remove(std::string_view path) override;
  absl::Status CreateDir(std::string_view path) override;
  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override;
  absl::Status SyncDir(std::string_view dir) override;
  absl::StatusOr<bool> Exists(std::string_view path) override;
  // In memory; Crash() releases every lock.
  absl::StatusOr<std::unique_ptr<io::FileLock>> LockFile(std::string_view path) override;

  // --- hooks ---------------------------------------------------------------
  // The n-th File::Sync from now on (1 = the next one) fails with EIO.
  void FailSyncAfter(uint64_t n) { fail_sync_at_ = sync_calls_ + n; }
  // The n-th File::WriteAt/Append from now on fails with EIO.
  void FailWriteAfter(uint64_t n) { fail_write_at_ = write_calls_ + n; }
  // Each File::Sync parks this long on `executor`.
  void set_sync_latency_ns(runtime::Executor& executor, int64_t latency_ns) {
    executor_ = &executor;
    sync_latency_ns_ = latency_ns;
  }

  // Loses everything not synced, except the first `keep_unsynced_bytes` of
  // what each file gained past its durable bytes; kills all open handles.
  void Crash(uint64_t keep_unsynced_bytes = 0);

  // --- inspection and surgery ---------------------------------------------
  uint64_t sync_calls() const { return sync_calls_; }
  uint64_t dir_sync_calls() const { return dir_sync_calls_; }
  bool HasFile(const std::string& path) const { return files_.count(path) > 0; }
  // Current bytes of a file (which must exist), editable in place (for
  // corruption); SetBytes replaces current and durable bytes at once.
  std::string& Bytes(const std::string& path);
  void SetBytes(const std::string& path, std::string bytes);
  // Paths of all files, sorted.
  std::vector<std::string> Files() const;

 private:
  friend class FakeFile;
  runtime::Executor* executor_ = nullptr;
  std::map<std::string, std::shared_ptr<FileData>> files_;
  std::set<std::string> dirs_{""};
  io::LockTable locks_;
  uint64_t generation_ = 0;  // bumped by Crash; older handles are dead
  uint64_t sync_calls_ = 0;
  uint64_t dir_sync_calls_ = 0;
  uint64_t write_calls_ = 0;
  uint64_t fail_sync_at_ = 0;
  uint64_t fail_write_at_ = 0;
  int64_t sync_latency_ns_ = 0;
};

}  // namespace faultline::wal::testing
