// core/posix/posix_file_system.h — io::FileSystem on a real directory tree.
//
// Every path is validated with io::ValidatePath and resolved beneath a
// directory fd opened once, so that no path reaches outside the root: "..",
// absolute paths and empty components are refused, and symlinks are resolved
// by the kernel under RESOLVE_BENEATH (openat2), or — where openat2 is
// missing — not followed at all (core/posix/internal/beneath.h). A path that
// would leave the root fails with EXDEV or ELOOP in its errno. Every syscall
// that can touch the disk runs through EventLoop::RunBlocking: the calling
// fiber parks, the loop keeps running.
//
// Durability is exactly the OS's: File::Sync is fdatasync(2), SyncDir is
// fsync(2) of the directory. Any failed sync is reported as io::IsIoError,
// whatever its errno (see File::Sync); the errno is in the message.
//
// Lifetime: the EventLoop must outlive the file system and every File. The
// file system itself may be destroyed at any time, even while calls are in
// flight on the I/O pool (e.g. after Run() returned kStopped, before the
// loop is destroyed): the root fd is shared with those calls and closed when
// the last one finished. Files opened from it stay usable after it is gone.
// A FileLock holds only its descriptor: it may outlive both the file system
// and the loop. A call unwound by the loop's shutdown closes whatever its
// pool job opened (and so drops a flock it took).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/file_system.h"
#include "core/posix/event_loop.h"

namespace faultline::posix {

namespace internal {
struct FsRoot;  // the root fd and what every call needs (posix_file_system.cc)
}  // namespace internal

struct PosixFileSystemOptions {
  // ReadAt first tries preadv2(RWF_NOWAIT) on the loop thread: the kernel
  // serves it only from the page cache and returns EAGAIN instead of waiting
  // for the disk, so a cached read costs no hop to the I/O pool and the loop
  // still never blocks on I/O. Reads larger than this go to the pool anyway
  // (the copy itself would hold up the loop). 0 disables the fast path.
  size_t inline_cached_read_max_bytes = 64 * 1024;
  // Permissions of created files and directories (before the umask). Private
  // by default: a WAL's records are nobody else's business.
  mode_t file_mode = 0600;
  mode_t dir_mode = 0700;
  // Resolve paths with openat2(RESOLVE_BENEATH) when the kernel has it (5.6+;
  // symlinks that stay inside the root are followed). false: always the
  // portable walk that refuses every symlink — for sandboxes whose seccomp
  // filter kills, rather than refuses, unknown syscalls.
  bool use_openat2 = true;
};

class PosixFileSystem final : public io::FileSystem {
 public:
  // Opens `root_dir` (which must exist and be a directory). NotFound or
  // FailedPrecondition otherwise; InvalidArgument if it contains NUL. A
  // symlink naming the root is followed once, here: the file system stays
  // on that directory whatever happens to the link later. Blocks the thread briefly (an open): call
  // before Run(), or accept a short stall. `root_dir` should be on a local
  // file system: fstat and RWF_NOWAIT reads are assumed not to wait for a
  // server.
  static absl::StatusOr<std::unique_ptr<PosixFileSystem>> Open(
      EventLoop& loop, std::string root_dir, const PosixFileSystemOptions& options = {});
  ~PosixFileSystem() override = default;
  PosixFileSystem(const PosixFileSystem&) = delete;
  PosixFileSystem& operator=(const PosixFileSystem&) = delete;

  const std::string& root_dir() const { return root_dir_; }

  // Only regular files: a FIFO, socket or device node at `path` is
  // FailedPrecondition (like a directory).
  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path, io::OpenMode mode) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::Status Remove(std::string_view path) override;
  absl::Status CreateDir(std::string_view path) override;
  // At most kMaxListEntries names (ResourceExhausted beyond).
  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override;
  absl::Status SyncDir(std::string_view dir) override;
  absl::StatusOr<bool> Exists(std::string_view path) override;
  // flock(2) on the file or directory, so the lock also excludes other
  // processes and dies with the process. Anything else at `path` (a FIFO, a
  // device node) is InvalidArgument, and never waited on.
  absl::StatusOr<std::unique_ptr<io::FileLock>> LockFile(std::string_view path) override;

  static constexpr size_t kMaxListEntries = 1 << 20;

 private:
  PosixFileSystem(std::string root_dir, std::shared_ptr<const internal::FsRoot> root)
      : root_dir_(std::move(root_dir)), root_(std::move(root)) {}

  const std::string root_dir_;
  // Shared with every call in flight, so that destroying *this while a call
  // waits for the I/O pool neither frees what the pool job reads nor closes
  // the fd it uses. Each method copies it first and uses only the copy.
  const std::shared_ptr<const internal::FsRoot> root_;
};

}  // namespace faultline::posix
