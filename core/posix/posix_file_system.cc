// core/posix/posix_file_system.cc — see posix_file_system.h.
#include "core/posix/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/runtime/mutex.h"

namespace faultline::posix {
namespace {

absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

std::string Context(std::string_view operation, std::string_view path) {
  return absl::StrCat(AsAbsl(operation), " ", AsAbsl(path));
}

// A path for the *at() calls: the root itself is ".".
std::string AtPath(std::string_view path) {
  return path.empty() ? std::string(".") : std::string(path);
}

// Files larger than this cannot be addressed with off_t arithmetic safely.
constexpr uint64_t kMaxOffset = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// Interrupted syscalls are retried, but not forever.
constexpr int kMaxEintrRetries = 64;

class PosixFile final : public io::File {
 public:
  PosixFile(EventLoop& loop, std::string path, int fd, size_t inline_read_max_bytes)
      : loop_(loop),
        path_(std::move(path)),
        fd_(fd),
        inline_read_max_bytes_(inline_read_max_bytes),
        append_mutex_(loop) {}
  ~PosixFile() override {
    if (fd_ >= 0) close(fd_);
  }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    if (fd_ < 0) return Closed("read");
    if (offset > kMaxOffset || out.size() > kMaxOffset - offset) {
      return absl::InvalidArgumentError(Context("read past the largest offset", path_));
    }
    size_t done_bytes = 0;
    if (out.size() <= inline_read_max_bytes_) {
      switch (ReadCachedInline(offset, out, done_bytes)) {
        case InlineRead::kDone:
          return done_bytes;
        case InlineRead::kNotCached:
          break;  // the rest goes to the pool
      }
    }
    int error = 0;
    const int fd = fd_;
    loop_.RunBlocking([&] {
      // Each pread makes progress or ends the loop (0 at EOF, or an error),
      // so it runs at most out.size() + 1 times.
      int eintr_retries = 0;
      while (done_bytes < out.size()) {
        const ssize_t got = pread(fd, out.data() + done_bytes, out.size() - done_bytes,
                                  static_cast<off_t>(offset + done_bytes));
        if (got < 0) {
          if (errno == EINTR && ++eintr_retries < kMaxEintrRetries) continue;
          error = errno;
          return;
        }
        if (got == 0) return;  // end of file: a short read
        done_bytes += static_cast<size_t>(got);
      }
    });
    if (error != 0) return io::ErrnoToStatus(error, Context("pread", path_));
    return done_bytes;
  }

  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    if (fd_ < 0) return Closed("write");
    return WriteAll(offset, /*at_end=*/false, data);
  }

  absl::Status Append(absl::Span<const char> data) override {
    if (fd_ < 0) return Closed("append");
    // Appends of one handle are serialized, so that two fibers appending
    // concurrently never read the same end of file.
    runtime::MutexLock lock(append_mutex_);
    if (fd_ < 0) return Closed("append");
    return WriteAll(0, /*at_end=*/true, data);
  }

  // pwrite and fdatasync in one hand-off to the I/O threads.
  absl::Status WriteAtAndSync(uint64_t offset, absl::Span<const char> data) override {
    if (fd_ < 0) return Closed("write");
    return WriteAll(offset, /*at_end=*/false, data, /*then_sync=*/true);
  }

  absl::Status Sync() override {
    if (fd_ < 0) return Closed("sync");
    int result = 0;
    int error = 0;
    const int fd = fd_;
    loop_.RunBlocking([&] {
      result = fdatasync(fd);
      if (result != 0) error = errno;  // not retried on EINTR: see File::Sync
    });
    if (result != 0) return io::ErrnoToStatus(error, Context("fdatasync", path_));
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size_bytes) override {
    if (fd_ < 0) return Closed("truncate");
    if (size_bytes > kMaxOffset) return absl::InvalidArgumentError(Context("truncate", path_));
    runtime::MutexLock lock(append_mutex_);
    if (fd_ < 0) return Closed("truncate");
    int error = 0;
    const int fd = fd_;
    loop_.RunBlocking([&] {
      // EINTR is retried a bounded number of times.
      for (int attempt = 0; attempt < kMaxEintrRetries; ++attempt) {
        error = ftruncate(fd, static_cast<off_t>(size_bytes)) == 0 ? 0 : errno;
        if (error != EINTR) return;
      }
    });
    if (error != 0) return io::ErrnoToStatus(error, Context("ftruncate", path_));
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Size() override {
    if (fd_ < 0) return Closed("size");
    struct stat info {};
    int result = 0;
    int error = 0;
    const int fd = fd_;
    loop_.RunBlocking([&] {
      result = fstat(fd, &info);
      if (result != 0) error = errno;
    });
    if (result != 0) return io::ErrnoToStatus(error, Context("fstat", path_));
    return static_cast<uint64_t>(info.st_size);
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    // close(2) of a regular file is quick and does not sync; done inline so
    // that Close also works from destructors during an unwind. The fd is
    // released even when close reports an error (Linux semantics).
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0 && errno != EINTR) return io::ErrnoToStatus(errno, Context("close", path_));
    return absl::OkStatus();
  }

 private:
  enum class InlineRead { kDone, kNotCached };

  // Reads what the page cache holds, on the loop thread, advancing
  // `done_bytes`. kDone when the read is complete (or hit end of file);
  // kNotCached when the disk would be needed (EAGAIN), the kernel does not
  // support RWF_NOWAIT here, or anything else went wrong — the pool then
  // retries and reports errors. Bounded: each call makes progress or stops.
  InlineRead ReadCachedInline(uint64_t offset, absl::Span<char> out, size_t& done_bytes) {
    if (!inline_reads_supported_) return InlineRead::kNotCached;
    for (int attempt = 0; attempt < kMaxEintrRetries && done_bytes < out.size(); ++attempt) {
      iovec vector{.iov_base = out.data() + done_bytes, .iov_len = out.size() - done_bytes};
      const ssize_t got =
          preadv2(fd_, &vector, 1, static_cast<off_t>(offset + done_bytes), RWF_NOWAIT);
      if (got == 0) return InlineRead::kDone;  // end of file
      if (got < 0) {
        if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) {
          inline_reads_supported_ = false;
        }
        return InlineRead::kNotCached;
      }
      done_bytes += static_cast<size_t>(got);
    }
    return done_bytes == out.size() ? InlineRead::kDone : InlineRead::kNotCached;
  }

  absl::Status Closed(std::string_view operation) const {
    return absl::FailedPreconditionError(
        absl::StrCat(AsAbsl(operation), " on closed file ", path_));
  }

  // Writes all of `data` at `offset`, or at the end of file when `at_end`
  // (fstat and pwrite in one trip to the I/O pool).
  // Writes all of `data` (at the end of file if `at_end`), then, if
  // `then_sync` and the write succeeded, fdatasyncs — all on one I/O thread
  // trip.
  absl::Status WriteAll(uint64_t offset, bool at_end, absl::Span<const char> data,
                        bool then_sync = false) {
    if (offset > kMaxOffset || data.size() > kMaxOffset - offset) {
      return absl::InvalidArgumentError(Context("write past the largest offset", path_));
    }
    size_t done_bytes = 0;
    int error = 0;
    int sync_error = 0;
    bool too_far = false;
    const int fd = fd_;
    loop_.RunBlocking([&] {
      if (at_end) {
        struct stat info {};
        if (fstat(fd, &info) != 0) {
          error = errno;
          return;
        }
        offset = static_cast<uint64_t>(info.st_size);
        if (data.size() > kMaxOffset - offset) {
          too_far = true;
          return;
        }
      }
      // Each pwrite writes >= 1 byte or fails, so this runs at most
      // data.size() times (plus EINTR retries).
      int eintr_retries = 0;
      while (done_bytes < data.size()) {
        const ssize_t put = pwrite(fd, data.data() + done_bytes, data.size() - done_bytes,
                                   static_cast<off_t>(offset + done_bytes));
        if (put < 0) {
          if (errno == EINTR && ++eintr_retries < kMaxEintrRetries) continue;
          error = errno;
          return;
        }
        if (put == 0) {  // should not happen for regular files; do not spin
          error = EIO;
          return;
        }
        done_bytes += static_cast<size_t>(put);
      }
      // Not retried on EINTR: see File::Sync.
      if (then_sync && fdatasync(fd) != 0) sync_error = errno;
    });
    if (too_far)
      return absl::InvalidArgumentError(Context("append past the largest offset", path_));
    if (error != 0) return io::ErrnoToStatus(error, Context("pwrite", path_));
    if (sync_error != 0) return io::ErrnoToStatus(sync_error, Context("fdatasync", path_));
    return absl::OkStatus();
  }

  EventLoop& loop_;
  const std::string path_;
  int fd_;  // -1 once closed
  const size_t inline_read_max_bytes_;
  bool inline_reads_supported_ = true;  // until the kernel says otherwise
  runtime::Mutex append_mutex_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PosixFileSystem>> PosixFileSystem::Open(
    EventLoop& loop, std::string root_dir, const PosixFileSystemOptions& options) {
  const int fd = open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io::ErrnoToStatus(errno, Context("open root", root_dir));
  return std::unique_ptr<PosixFileSystem>(
      new PosixFileSystem(loop, std::move(root_dir), fd, options));
}

PosixFileSystem::~PosixFileSystem() { close(root_fd_); }

absl::StatusOr<std::unique_ptr<io::File>> PosixFileSystem::Open(std::string_view path,
                                                                io::OpenMode mode) {
  if (absl::Status valid = io::ValidatePath(path); !valid.ok()) return valid;
  int flags = O_RDWR | O_CLOEXEC;
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
  const std::string at_path(path);
  int fd = -1;
  int error = 0;
  loop_.RunBlocking([&] {
    fd = openat(root_fd_, at_path.c_str(), flags, 0644);
    if (fd < 0) error = errno;
  });
  if (fd < 0) return io::ErrnoToStatus(error, Context("open", path));
  return std::unique_ptr<io::File>(
      std::make_unique<PosixFile>(loop_, at_path, fd, options_.inline_cached_read_max_bytes));
}

absl::Status PosixFileSystem::Rename(std::string_view from, std::string_view to) {
  if (absl::Status valid = io::ValidatePath(from); !valid.ok()) return valid;
  if (absl::Status valid = io::ValidatePath(to); !valid.ok()) return valid;
  const std::string from_path(from);
  const std::string to_path(to);
  int error = 0;
  loop_.RunBlocking([&] {
    if (renameat(root_fd_, from_path.c_str(), root_fd_, to_path.c_str()) != 0) error = errno;
  });
  if (error != 0)
    return io::ErrnoToStatus(error, absl::StrCat("rename ", from_path, " -> ", to_path));
  return absl::OkStatus();
}

absl::Status PosixFileSystem::Remove(std::string_view path) {
  if (absl::Status valid = io::ValidatePath(path); !valid.ok()) return valid;
  const std::string at_path(path);
  int error = 0;
  loop_.RunBlocking([&] {
    if (unlinkat(root_fd_, at_path.c_str(), 0) != 0) error = errno;
  });
  if (error != 0) return io::ErrnoToStatus(error, Context("unlink", path));
  return absl::OkStatus();
}

absl::Status PosixFileSystem::CreateDir(std::string_view path) {
  if (absl::Status valid = io::ValidatePath(path); !valid.ok()) return valid;
  const std::string at_path(path);
  int error = 0;
  loop_.RunBlocking([&] {
    if (mkdirat(root_fd_, at_path.c_str(), 0755) == 0) return;
    error = errno;
    if (error == EEXIST) {
      // OK only if what exists is a directory.
      struct stat info {};
      if (fstatat(root_fd_, at_path.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISDIR(info.st_mode)) {
        error = 0;
      }
    }
  });
  if (error != 0) return io::ErrnoToStatus(error, Context("mkdir", path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> PosixFileSystem::List(std::string_view dir) {
  if (absl::Status valid = io::ValidatePath(dir, /*allow_root=*/true); !valid.ok()) return valid;
  const std::string at_path = AtPath(dir);
  std::vector<std::string> names;
  int error = 0;
  bool too_many = false;
  loop_.RunBlocking([&] {
    const int fd = openat(root_fd_, at_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
    while (true) {
      errno = 0;
      const dirent* entry = readdir(stream);
      if (entry == nullptr) {
        error = errno;  // 0 at the end of the directory
        break;
      }
      const std::string_view name(entry->d_name);
      if (name == "." || name == "..") continue;
      if (names.size() >= kMaxListEntries) {
        too_many = true;
        break;
      }
      names.emplace_back(name);
    }
    closedir(stream);
  });
  if (too_many) return absl::ResourceExhaustedError(Context("too many entries in", dir));
  if (error != 0) return io::ErrnoToStatus(error, Context("list", dir));
  // std::string orders by unsigned bytes (char_traits<char>::compare is
  // memcmp): the bytewise order the contract asks for.
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status PosixFileSystem::SyncDir(std::string_view dir) {
  if (absl::Status valid = io::ValidatePath(dir, /*allow_root=*/true); !valid.ok()) return valid;
  const std::string at_path = AtPath(dir);
  int error = 0;
  loop_.RunBlocking([&] {
    const int fd = openat(root_fd_, at_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      error = errno;
      return;
    }
    if (fsync(fd) != 0) error = errno;
    close(fd);
  });
  if (error != 0) return io::ErrnoToStatus(error, Context("fsync dir", dir));
  return absl::OkStatus();
}

absl::StatusOr<bool> PosixFileSystem::Exists(std::string_view path) {
  if (absl::Status valid = io::ValidatePath(path); !valid.ok()) return valid;
  const std::string at_path(path);
  int error = 0;
  loop_.RunBlocking([&] {
    struct stat info {};
    if (fstatat(root_fd_, at_path.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) error = errno;
  });
  if (error == 0) return true;
  if (error == ENOENT || error == ENOTDIR) return false;
  return io::ErrnoToStatus(error, Context("stat", path));
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
  if (absl::Status valid = io::ValidatePath(path); !valid.ok()) return valid;
  const std::string at_path(path);
  // Each call opens its own description, so two locks in one process
  // exclude each other too. LOCK_NB: the flock itself never waits.
  int fd = -1;
  int error = 0;
  loop_.RunBlocking([&] {
    fd = openat(root_fd_, at_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = errno;
      return;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      error = errno;
      close(fd);
      fd = -1;
    }
  });
  if (error == EWOULDBLOCK) {
    return absl::FailedPreconditionError(
        absl::StrCat("lock ", AsAbsl(path), ": held by another owner"));
  }
  if (error != 0) return io::ErrnoToStatus(error, Context("lock", path));
  return std::unique_ptr<io::FileLock>(new PosixFileLock(fd));
}

}  // namespace faultline::posix
