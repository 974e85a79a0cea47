// core/posix/posix_file_system.cc — see posix_file_system.h.
#include "core/posix/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"
#include "core/posix/internal/beneath.h"
#include "core/posix/internal/posix_file.h"

namespace faultline::posix {
namespace internal {

// Closed when the file system and every call in flight are done with it.
struct FsRoot {
  FsRoot(EventLoop& loop_in, int fd_in, Resolution resolution_in,
         const PosixFileSystemOptions& options_in)
      : loop(loop_in), fd(fd_in), resolution(resolution_in), options(options_in) {}
  ~FsRoot() { close(fd); }
  FsRoot(const FsRoot&) = delete;
  FsRoot& operator=(const FsRoot&) = delete;

  EventLoop& loop;
  const int fd;  // O_DIRECTORY, owned
  const Resolution resolution;
  const PosixFileSystemOptions options;
};

}  // namespace internal

namespace {

using internal::FsRoot;
using internal::OpenBeneath;
using internal::ParentDir;
// Each call below takes the root by value: the copy keeps the fd open (and
// FsRoot alive) until the call returns, however long the I/O pool takes and
// whatever happens to the PosixFileSystem meanwhile.
using RootRef = std::shared_ptr<const FsRoot>;

// The status for a failed call on `path`; says why when the path was
// refused for leaving the root.
absl::Status PathError(int error, std::string_view operation, std::string_view path) {
  std::string context = absl::StrCat(AsAbsl(operation), " ", AsAbsl(path));
  if (error == EXDEV || error == ELOOP) {
    absl::StrAppend(&context, " (would leave the root, or crosses a symbolic link)");
  }
  return io::ErrnoToStatus(error, context);
}

// A descriptor opened by a pool job for the calling fiber, owned on that
// fiber's stack. If the loop is destroyed while the fiber waits, the loop
// runs the job and then unwinds the fiber (FiberKilled thrown out of
// RunBlocking): the unwind closes what the job opened — and so drops a flock
// — instead of leaking it to the process.
class CallerFd {
 public:
  CallerFd() = default;
  ~CallerFd() {
    if (fd >= 0) close(fd);
  }
  CallerFd(const CallerFd&) = delete;
  CallerFd& operator=(const CallerFd&) = delete;

  // Hands the descriptor over; -1 if there is none.
  int Release() { return std::exchange(fd, -1); }

  int fd = -1;  // written by the pool job
};

// What an open that reached something of the wrong type reports instead of
// an errno (positive errnos are the kernel's).
constexpr int kWrongType = -1;

// Keeps `fd` if fstat says it is a regular file (or, with `allow_dir`, a
// directory); otherwise closes it and returns -1, with `error` set to
// fstat's errno or kWrongType. Pool side.
int KeepIfType(int fd, bool allow_dir, int& error) {
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    error = errno;
  } else if (S_ISREG(info.st_mode) || (allow_dir && S_ISDIR(info.st_mode))) {
    return fd;
  } else {
    error = kWrongType;
  }
  close(fd);
  return -1;
}

absl::StatusOr<std::unique_ptr<io::File>> OpenFile(RootRef root, std::string_view path,
                                                   io::OpenMode mode) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(path));
  int flags = O_RDWR;
  switch (mode) {
    case io::OpenMode::kReadWrite:
      break;
    case io::OpenMode::kCreate:
      flags |= O_CREAT;
      break;
    case io::OpenMode::kCreateExclusive:
      flags |= O_CREAT | O_EXCL;
      break;
    case io::OpenMode::kCreateTruncate:
      flags |= O_CREAT | O_TRUNC;
      break;
  }
  CallerFd fd;
  int error = 0;
  const FsRoot& r = *root;
  r.loop.RunBlocking([&] {
    // O_RDWR never waits for a FIFO's other end; a FIFO or device node is
    // refused once open, before anyone writes to it (a device may swallow
    // writes and "sync" them).
    fd.fd = OpenBeneath(r.fd, path, flags, r.options.file_mode, r.resolution);
    if (fd.fd < 0) {
      error = errno;
    } else {
      fd.fd = KeepIfType(fd.fd, /*allow_dir=*/false, error);
    }
  });
  if (error == kWrongType) {
    return absl::FailedPreconditionError(
        absl::StrCat("open ", AsAbsl(path), ": not a regular file"));
  }
  if (fd.fd < 0) return PathError(error, "open", path);
  return internal::MakePosixFile(r.loop, std::string(path), fd.Release(),
                                 r.options.inline_cached_read_max_bytes);
}

absl::Status RenameFile(RootRef root, std::string_view from, std::string_view to) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(from));
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(to));
  int error = 0;
  const FsRoot& r = *root;
  r.loop.RunBlocking([&] {
    // renameat never follows the last components: only the parents need
    // resolving beneath the root.
    const ParentDir from_dir(r.fd, from, r.resolution);
    const ParentDir to_dir(r.fd, to, r.resolution);
    if (from_dir.fd() < 0 || to_dir.fd() < 0) {
      error = from_dir.fd() < 0 ? from_dir.error() : to_dir.error();
    } else if (renameat(from_dir.fd(), from_dir.leaf(), to_dir.fd(), to_dir.leaf()) != 0) {
      error = errno;
    }
  });
  if (error != 0) {
    return PathError(error, "rename", absl::StrCat(AsAbsl(from), " -> ", AsAbsl(to)));
  }
  return absl::OkStatus();
}

absl::Status RemoveFile(RootRef root, std::string_view path) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(path));
  int error = 0;
  const FsRoot& r = *root;
  r.loop.RunBlocking([&] {
    const ParentDir dir(r.fd, path, r.resolution);
    if (dir.fd() < 0) {
      error = dir.error();
    } else if (unlinkat(dir.fd(), dir.leaf(), 0) != 0) {
      error = errno;
    }
  });
  if (error != 0) return PathError(error, "unlink", path);
  return absl::OkStatus();
}

absl::Status MakeDir(RootRef root, std::string_view path) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(path));
  int error = 0;
  const FsRoot& r = *root;
  r.loop.RunBlocking([&] {
    const ParentDir dir(r.fd, path, r.resolution);
    if (dir.fd() < 0) {
      error = dir.error();
      return;
    }
    if (mkdirat(dir.fd(), dir.leaf(), r.options.dir_mode) == 0) return;
    error = errno;
    if (error == EEXIST) {
      // OK only if what exists is a directory (not a symlink to one).
      struct stat info {};
      if (fstatat(dir.fd(), dir.leaf(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISDIR(info.st_mode)) {
        error = 0;
      }
    }
  });
  if (error != 0) return PathError(error, "mkdir", path);
  return absl::OkStatus();
}

// Reads the names of an open directory stream (closing it), bounded by
// kMaxListEntries. Returns the errno, or -1 when there were too many.
int ReadNames(DIR* stream, std::vector<std::string>& names) {
  int error = 0;
  while (true) {
    errno = 0;
    const dirent* entry = readdir(stream);
    if (entry == nullptr) {
      error = errno;  // 0 at the end of the directory
      break;
    }
    const std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    if (names.size() >= PosixFileSystem::kMaxListEntries) {
      error = -1;
      break;
    }
    names.emplace_back(name);
  }
  closedir(stream);
  return error;
}

absl::StatusOr<std::vector<std::string>> ListDir(RootRef root, std::string_view dir) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(dir, /*allow_root=*/true));
  std::vector<std::string> names;
  int error = 0;
  const FsRoot& r = *root;
  r.loop.RunBlocking([&] {
    const int fd = OpenBeneath(r.fd, dir, O_RDONLY | O_DIRECTORY, 0, r.resolution);
    if (fd < 0) {
      error = errno;
      return;
    }
    DIR* stream = fdopendir(fd);  // takes ownership of fd
    if (stream == nullptr) {
      error = errno;
      close(fd);
      return;
    }
    error = ReadNames(stream, names);
  });
  if (error < 0) {
    return absl::ResourceExhaustedError(absl::StrCat("too many entries in ", AsAbsl(dir)));
  }
  if (error != 0) return PathError(error, "list", dir);
  // std::string orders by unsigned bytes (char_traits<char>::compare is
  // memcmp): the bytewise order the contract asks for.
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status SyncDirectory(RootRef root, std::string_view dir) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(dir, /*allow_root=*/true));
  int open_error = 0;
  int sync_error = 0;
  const FsRoot& r = *root;
  r.loop.RunBlocking([&] {
    const int fd = OpenBeneath(r.fd, dir, O_RDONLY | O_DIRECTORY, 0, r.resolution);
    if (fd < 0) {
      open_error = errno;
      return;
    }
    if (fsync(fd) != 0) sync_error = errno;
    close(fd);
  });
  if (open_error != 0) return PathError(open_error, "fsync dir", dir);
  // Like a failed File::Sync: whatever errno said, the entries it covered
  // may be lost.
  if (sync_error != 0) {
    return io::IoError(
        absl::StrCat(io::ErrnoToStatus(sync_error, absl::StrCat("fsync dir ", AsAbsl(dir)))
                         .message(),
                     "; what it covered may be lost, so reported as"),
        io::IoFailure::kDataAtRisk);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> PathExists(RootRef root, std::string_view path) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(path));
  int error = 0;
  const FsRoot& r = *root;
  r.loop.RunBlocking([&] {
    const ParentDir dir(r.fd, path, r.resolution);
    struct stat info {};
    if (dir.fd() < 0) {
      error = dir.error();
    } else if (fstatat(dir.fd(), dir.leaf(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      error = errno;
    }
  });
  if (error == 0) return true;
  if (error == ENOENT || error == ENOTDIR) return false;
  return PathError(error, "stat", path);
}

}  // namespace

absl::StatusOr<std::unique_ptr<PosixFileSystem>> PosixFileSystem::Open(
    EventLoop& loop, std::string root_dir, const PosixFileSystemOptions& options) {
  // open(2) would stop at a NUL and root the file system at the prefix.
  if (root_dir.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("root directory name contains NUL");
  }
  const int fd = open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return io::ErrnoToStatus(errno, absl::StrCat("open root ", root_dir));
  }
  const internal::Resolution resolution = options.use_openat2
                                              ? internal::ProbeResolution(fd)
                                              : internal::Resolution::kNoSymlinks;
  auto root = std::make_shared<const FsRoot>(loop, fd, resolution, options);
  return std::unique_ptr<PosixFileSystem>(
      new PosixFileSystem(std::move(root_dir), std::move(root)));
}

absl::StatusOr<std::unique_ptr<io::File>> PosixFileSystem::Open(std::string_view path,
                                                                io::OpenMode mode) {
  return OpenFile(root_, path, mode);
}

absl::Status PosixFileSystem::Rename(std::string_view from, std::string_view to) {
  return RenameFile(root_, from, to);
}

absl::Status PosixFileSystem::Remove(std::string_view path) { return RemoveFile(root_, path); }

absl::Status PosixFileSystem::CreateDir(std::string_view path) { return MakeDir(root_, path); }

absl::StatusOr<std::vector<std::string>> PosixFileSystem::List(std::string_view dir) {
  return ListDir(root_, dir);
}

absl::Status PosixFileSystem::SyncDir(std::string_view dir) { return SyncDirectory(root_, dir); }

absl::StatusOr<bool> PosixFileSystem::Exists(std::string_view path) {
  return PathExists(root_, path);
}

namespace {

class PosixFileLock final : public io::FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { close(fd_); }  // closing the description drops the flock
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  const int fd_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<io::FileLock>> PosixFileSystem::LockFile(std::string_view path) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(path));
  // Each call opens its own description, so two locks in one process
  // exclude each other too. LOCK_NB: the flock itself never waits. The path
  // resolves beneath the root like every other call.
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
  // writer, holding an I/O thread (and the loop's shutdown) forever; what
  // is neither a file nor a directory is then refused.
  CallerFd fd;
  int open_error = 0;
  int lock_error = 0;
  const RootRef root = root_;
  root->loop.RunBlocking([&] {
    fd.fd = OpenBeneath(root->fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, root->resolution);
    if (fd.fd < 0) {
      open_error = errno;
      return;
    }
    fd.fd = KeepIfType(fd.fd, /*allow_dir=*/true, open_error);
    if (fd.fd >= 0 && flock(fd.fd, LOCK_EX | LOCK_NB) != 0) lock_error = errno;
  });
  if (open_error == kWrongType) {
    return absl::InvalidArgumentError(
        absl::StrCat("lock ", AsAbsl(path), ": neither a regular file nor a directory"));
  }
  if (open_error != 0) return PathError(open_error, "lock", path);
  if (lock_error == EWOULDBLOCK) {
    return absl::FailedPreconditionError(
        absl::StrCat("lock ", AsAbsl(path), ": held by another owner"));
  }
  if (lock_error != 0) return PathError(lock_error, "lock", path);
  return std::unique_ptr<io::FileLock>(new PosixFileLock(fd.Release()));
}

}  // namespace faultline::posix
