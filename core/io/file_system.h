// core/io/file_system.h — the storage seam: files and directories.
//
// Production code (the WAL, the journal) sees storage only through these two
// interfaces. core/posix implements them on a real directory tree with
// pread/pwrite/fdatasync; sim/disk implements them on a simulated disk that
// loses, tears and corrupts un-synced data exactly as far as this contract
// allows — so code that is correct against the contract survives both.
//
// Paths are relative, '/'-separated, and never contain "." or ".." components
// or a leading '/': a FileSystem is rooted, and a path cannot escape the root
// — not even through a symbolic link inside the tree: an implementation
// resolves links beneath the root or refuses them, and a call on a path that
// would lead outside fails without touching anything there. A malformed path
// is InvalidArgument.
//
// Blocking: every call may suspend the calling fiber (never the thread) until
// the operation completes. Calls are made from fibers of one executor.
//
// Errors (see core/io/errors.h for the codes): EIO → IsIoError, ENOSPC →
// IsNoSpace, missing file → NotFound, exclusive create of an existing file →
// AlreadyExists, any call on a handle of a crashed node → IsNodeDead (but
// Close, which returns OK: see File::Close).
// IsNoSpace means "refused, nothing written before was lost": it comes from
// WriteAt, Append, Truncate, Open and CreateDir, never from a sync (below).
//
// DURABILITY CONTRACT — what survives a crash (power loss, kernel panic):
//  * Nothing written by WriteAt/Append/Truncate is durable until File::Sync()
//    on that file returns OK. Un-synced writes may survive whole, partly (a
//    write is torn at sector granularity, and a torn sector may hold garbage),
//    or not at all, independently of each other and in any order. A file's
//    size may become durable without the data written into the new range
//    (which then reads as zeros or garbage).
//  * File::Sync() (fdatasync) makes the file's data and size durable. It does
//    NOT make the file's directory entry durable.
//  * Creating, renaming or removing a file is durable only after
//    SyncDir() of its parent directory returns OK (of both parents for a
//    rename across directories). Until then the operation may be undone by a
//    crash: a new file may vanish, a removed file may reappear.
//  * A Sync() that fails may have lost the dirty data it covered: the kernel
//    may have marked those pages clean. That holds whatever the cause — EIO,
//    or ENOSPC / EDQUOT that a thin-provisioned, loop or network device
//    reports only at writeback — so every failed Sync(), WriteAtAndSync()
//    sync stage and SyncDir() is reported as IsIoError (the original errno
//    in the message), never as IsNoSpace. A later Sync() that succeeds says
//    nothing about the data the failed one covered (the kernel reports a
//    writeback error once); an implementation may keep failing later syncs
//    of the same handle instead (core/posix does, counting a sync issued
//    while the failed one was in flight as later). That memory is per
//    handle: a Sync() through another or a new handle of the same file, and
//    a later SyncDir(), may succeed although the lost data never reached
//    the disk, and reads may still return it (from the OS's cache) until
//    it is evicted or the machine restarts. The only safe reaction is to
//    stop, and recover from what is durable on disk — reopening the file in
//    the same process is not recovery.
//  * A process crash (the process dies, the machine does not) loses nothing
//    the kernel accepted: after a restart, un-synced data and names are
//    still readable — and still not durable: a later power loss may lose
//    them as above. Readable after a restart does not mean durable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace faultline::io {

// A handle to one open file. Not shareable between nodes. Destroying a File
// closes it (without syncing). Closing or destroying it while another
// fiber's call on it is in flight is allowed: that call completes on this
// file or fails with FailedPrecondition, and never reaches another file.
class File {
 public:
  virtual ~File() = default;

  // Reads up to out.size() bytes starting at `offset`. Returns the number of
  // bytes read, which is less than out.size() only at end of file (0 at or
  // past the end). EIO when a sector in the range cannot be read.
  virtual absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) = 0;

  // Writes all of `data` at `offset`, extending the file if needed (a gap
  // reads as zeros). Writing zero bytes changes nothing, not even the size.
  // Not durable until Sync(). EIO, ENOSPC possible; after an error the
  // range's content is unspecified: a prefix of `data` may be in the file
  // (and the file longer), as after a short write(2) — core/posix says in
  // the status how many bytes landed; the simulated disk's kernel profile
  // leaves such prefixes too.
  virtual absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) = 0;

  // Writes `data` at the current end of file. Same guarantees as WriteAt.
  virtual absl::Status Append(absl::Span<const char> data) = 0;

  // Makes this file's data and size durable (fdatasync). See the durability
  // contract above: a failed Sync is not retryable, and is IsIoError
  // whatever the device said.
  virtual absl::Status Sync() = 0;

  // WriteAt(offset, data), then — if the write succeeded — Sync(): the same
  // guarantees and errors as the two calls, in one, so that an implementation
  // can do both in a single trip (core/posix: one hand-off to an I/O thread
  // instead of two). On an error, which stage failed is unspecified, and the
  // range's content is as after a failed WriteAt. The default calls the two.
  virtual absl::Status WriteAtAndSync(uint64_t offset, absl::Span<const char> data);

  // Sets the file's size, discarding bytes past `size_bytes` or extending
  // with zeros. Not durable until Sync().
  virtual absl::Status Truncate(uint64_t size_bytes) = 0;

  // The current (not necessarily durable) size.
  virtual absl::StatusOr<uint64_t> Size() = 0;

  // Releases the handle. Further calls fail with FailedPrecondition. Close
  // does not sync. Idempotent. On a handle of a crashed node it returns OK
  // (the crash released everything already), so code unwinding after a
  // crash need not tell the two cases apart.
  virtual absl::Status Close() = 0;
};

// An advisory, exclusive lock taken with FileSystem::LockFile. Destroying it
// releases the lock, also after the FileSystem that gave it is gone. It
// guards nothing by itself: code that owns a path (a WAL its directory)
// takes it so that a second owner is refused.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

enum class OpenMode {
  kReadWrite,          // the file must exist (NotFound otherwise)
  kCreate,             // create if missing; keep contents if present
  kCreateExclusive,    // create; AlreadyExists if present
  kCreateTruncate,     // create if missing; truncate to 0 if present
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens or creates a regular file. Creation is durable only after
  // SyncDir(parent).
  virtual absl::StatusOr<std::unique_ptr<File>> Open(std::string_view path, OpenMode mode) = 0;

  // Atomically replaces `to` with `from` (rename(2)). Readers see either the
  // old or the new file, never neither. Durable only after SyncDir of the
  // parent(s). `from` may be a directory: it moves with everything in it, and
  // `to` must then be missing or an empty directory (which it replaces), not
  // a file, and not inside `from` (InvalidArgument).
  virtual absl::Status Rename(std::string_view from, std::string_view to) = 0;

  // Removes a file (unlink). NotFound if missing. Durable after SyncDir.
  virtual absl::Status Remove(std::string_view path) = 0;

  // Creates a directory; OK if it already exists. Durable after SyncDir of
  // its parent ("" is the root).
  virtual absl::Status CreateDir(std::string_view path) = 0;

  // Names (not paths) of the entries of a directory, sorted bytewise, so
  // that iteration order never depends on the implementation. "" is the root.
  virtual absl::StatusOr<std::vector<std::string>> List(std::string_view dir) = 0;

  // Makes creates, renames and removes of entries in `dir` durable (fsync
  // of the directory). "" is the root.
  virtual absl::Status SyncDir(std::string_view dir) = 0;

  // Whether a file or directory exists at `path` (as currently visible, not
  // necessarily durable).
  virtual absl::StatusOr<bool> Exists(std::string_view path) = 0;

  // Takes the advisory exclusive lock on `path`, an existing file or
  // directory; never waits. While the returned FileLock lives, every other
  // LockFile of `path` on this file system fails with FailedPrecondition
  // (core/posix: in any process of the machine; sim/disk: on the node). The
  // lock is released when the FileLock is destroyed or its holder dies (the
  // process exits; the simulated node crashes). Locks are not durable and
  // create nothing on disk. NotFound if `path` does not exist.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> LockFile(std::string_view path) = 0;
};

// Checks the path rules above: relative, '/'-separated, no empty, "." or
// ".." components, no NUL. "" (the root) is valid only where `allow_root`.
absl::Status ValidatePath(std::string_view path, bool allow_root = false);

// The parent directory of a valid path ("" for a top-level name).
std::string_view ParentDir(std::string_view path);

// `dir` + "/" + `name`, or `name` alone when dir is the root.
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace faultline::io
