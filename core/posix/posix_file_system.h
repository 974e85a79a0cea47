// core/posix/posix_file_system.h — io::FileSystem on a real directory tree.
//
// Every path is validated with io::ValidatePath and resolved relative to a
// directory fd opened once (openat, renameat, unlinkat, mkdirat, fstatat), so
// a path cannot name anything outside the root ("..", absolute paths and
// empty components are refused; symlinks inside the root are the operator's
// business). Every syscall that can touch the disk runs through
// EventLoop::RunBlocking: the calling fiber parks, the loop keeps running.
//
// Durability is exactly the OS's: File::Sync is fdatasync(2), SyncDir is
// fsync(2) of the directory, and both report EIO as io::IsIoError.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/file_system.h"
#include "core/posix/event_loop.h"

namespace faultline::posix {

struct PosixFileSystemOptions {
  // ReadAt first tries preadv2(RWF_NOWAIT) on the loop thread: the kernel
  // serves it only from the page cache and returns EAGAIN instead of waiting
  // for the disk, so a cached read costs no hop to the I/O pool and the loop
  // still never blocks on I/O. Reads larger than this go to the pool anyway
  // (the copy itself would hold up the loop). 0 disables the fast path.
  size_t inline_cached_read_max_bytes = 64 * 1024;
};

class PosixFileSystem final : public io::FileSystem {
 public:
  // Opens `root_dir` (which must exist and be a directory). NotFound or
  // FailedPrecondition otherwise. Blocks the thread briefly (an open): call
  // before Run(), or accept a short stall. `root_dir` should be on a local
  // file system: fstat and RWF_NOWAIT reads are assumed not to wait for a
  // server.
  static absl::StatusOr<std::unique_ptr<PosixFileSystem>> Open(
      EventLoop& loop, std::string root_dir, const PosixFileSystemOptions& options = {});
  ~PosixFileSystem() override;
  PosixFileSystem(const PosixFileSystem&) = delete;
  PosixFileSystem& operator=(const PosixFileSystem&) = delete;

  const std::string& root_dir() const { return root_dir_; }

  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path, io::OpenMode mode) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::Status Remove(std::string_view path) override;
  absl::Status CreateDir(std::string_view path) override;
  // At most kMaxListEntries names (ResourceExhausted beyond).
  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override;
  absl::Status SyncDir(std::string_view dir) override;
  absl::StatusOr<bool> Exists(std::string_view path) override;
  // flock(2) on the file or directory, so the lock also excludes other
  // processes and dies with the process.
  absl::StatusOr<std::unique_ptr<io::FileLock>> LockFile(std::string_view path) override;

  static constexpr size_t kMaxListEntries = 1 << 20;

 private:
  PosixFileSystem(EventLoop& loop, std::string root_dir, int root_fd,
                  const PosixFileSystemOptions& options)
      : loop_(loop), root_dir_(std::move(root_dir)), root_fd_(root_fd), options_(options) {}

  EventLoop& loop_;
  const std::string root_dir_;
  const int root_fd_;  // O_DIRECTORY, owned
  const PosixFileSystemOptions options_;
};

}  // namespace faultline::posix
