// core/posix/internal/posix_file.cc — see posix_file.h.
#include "core/posix/internal/posix_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/runtime/mutex.h"

namespace faultline::posix::internal {
namespace {

std::string Context(std::string_view operation, std::string_view path) {
  return absl::StrCat(AsAbsl(operation), " ", AsAbsl(path));
}

// Files larger than this cannot be addressed with off_t arithmetic safely.
constexpr uint64_t kMaxOffset = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// Interrupted syscalls are retried, but not forever.
constexpr int kMaxEintrRetries = 64;

// Whether this process runs under a file size limit (RLIMIT_FSIZE).
bool FileSizeLimited() {
  rlimit limit{};
  return getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY;
}

// Held around a syscall that may grow a file (pwrite, ftruncate), on the
// thread that makes it. Past RLIMIT_FSIZE the kernel fails such a call with
// EFBIG *and* sends the thread SIGXFSZ, whose default action kills the
// process; blocked here, the signal stays pending and is discarded before
// the mask is restored, so the caller gets a status instead. Active only
// under a limit (two pthread_sigmask calls, about 1 us, per job).
class FileSizeSignalBlocked {
 public:
  explicit FileSizeSignalBlocked(bool active) : active_(active) {
    if (!active_) return;
    sigemptyset(&xfsz_);
    sigaddset(&xfsz_, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &xfsz_, &saved_);
  }
  ~FileSizeSignalBlocked() {
    if (!active_) return;
    if (sigismember(&saved_, SIGXFSZ) == 1) return;  // blocked before: not ours to drop
    if (saw_efbig_) {
      const timespec no_wait{};
      // At most one SIGXFSZ is pending per thread and one per process.
      for (int i = 0; i < 2 && sigtimedwait(&xfsz_, nullptr, &no_wait) == SIGXFSZ; ++i) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }
  FileSizeSignalBlocked(const FileSizeSignalBlocked&) = delete;
  FileSizeSignalBlocked& operator=(const FileSizeSignalBlocked&) = delete;

  void Note(int error) { saw_efbig_ = saw_efbig_ || error == EFBIG; }

 private:
  const bool active_;
  sigset_t xfsz_{};
  sigset_t saved_{};
  bool saw_efbig_ = false;
};

// What a handle and its operations in flight share. Loop thread only: pool
// jobs get the fd and buffers, never this.
struct FileState {
  FileState(EventLoop& loop_in, std::string path_in, int fd_in, size_t inline_read_max_bytes_in)
      : loop(loop_in),
        path(std::move(path_in)),
        fd(fd_in),
        inline_read_max_bytes(inline_read_max_bytes_in),
        file_size_limited(FileSizeLimited()),
        append_mutex(loop_in),
        sync_mutex(loop_in) {}
  ~FileState() {
    if (fd >= 0) close(fd);
  }
  FileState(const FileState&) = delete;
  FileState& operator=(const FileState&) = delete;

  // Closes the fd now; the errno of close(2), or 0. The fd is released even
  // when close reports an error (Linux semantics).
  int ReleaseFd() {
    FAULTLINE_CHECK(fd >= 0 && ops_in_flight == 0);
    const int released = fd;
    fd = -1;
    return close(released) != 0 && errno != EINTR ? errno : 0;
  }

  EventLoop& loop;
  const std::string path;
  int fd;  // -1 once released
  const size_t inline_read_max_bytes;
  // RLIMIT_FSIZE was finite when the file was opened (FileSizeSignalBlocked).
  const bool file_size_limited;
  bool inline_reads_supported = true;  // until the kernel says otherwise
  bool closed = false;                 // Close() was called: new operations fail
  bool sync_failed = false;            // an fdatasync failed: later syncs fail too
  size_t ops_in_flight = 0;            // Operations alive; the fd stays open while > 0
  runtime::Mutex append_mutex;         // serializes Append and Truncate
  // Serializes the calls that fdatasync (Sync, WriteAtAndSync). The kernel
  // reports a writeback error to one fdatasync of a file description only: a
  // second one issued while the first was in flight returns 0 about the same
  // lost pages. One at a time, each sees sync_failed set by the one before.
  runtime::Mutex sync_mutex;
};

// One call on the file, from its start to its return. It keeps the state
// alive (another fiber may destroy the handle meanwhile) and counts itself
// in flight, so that a Close() during the call leaves the fd open until the
// last call that may use it has finished; that call then releases it.
class Operation {
 public:
  explicit Operation(const std::shared_ptr<FileState>& state) : state_(state) {
    ++state_->ops_in_flight;
  }
  ~Operation() {
    FAULTLINE_CHECK(state_->ops_in_flight > 0);
    if (--state_->ops_in_flight == 0 && state_->closed && state_->fd >= 0) {
      (void)state_->ReleaseFd();  // nobody is left to report a close error to
    }
  }
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  FileState& operator*() const { return *state_; }
  FileState* operator->() const { return state_.get(); }

 private:
  const std::shared_ptr<FileState> state_;
};

absl::Status Closed(const FileState& file, std::string_view operation) {
  return absl::FailedPreconditionError(
      absl::StrCat(AsAbsl(operation), " on closed file ", file.path));
}

// Any failed fdatasync is reported as EIO, whatever errno said (ENOSPC from
// a thin-provisioned or loop device, EDQUOT, ...): the kernel may have
// dropped the dirty pages it covered, and IsNoSpace would read as "nothing
// happened, try later". The handle remembers, so that a later sync — which
// the kernel may let pass — cannot report the lost data as durable.
absl::Status SyncFailed(FileState& file, int error) {
  file.sync_failed = true;
  const std::string context = Context("fdatasync", file.path);
  if (error == EIO) return io::IoError(context, io::IoFailure::kDataAtRisk);
  return io::IoError(absl::StrCat(io::ErrnoToStatus(error, context).message(),
                                  "; the data it covered may be lost, so reported as"),
                     io::IoFailure::kDataAtRisk);
}

absl::Status EarlierSyncFailed(const FileState& file) {
  return io::IoError(absl::StrCat(
      "fdatasync ", file.path, ": an earlier sync of this handle failed, its data may be lost"),
      io::IoFailure::kDataAtRisk);
}

enum class InlineRead { kDone, kNotCached };

// Reads what the page cache holds, on the loop thread, advancing
// `done_bytes`. kDone when the read is complete (or hit end of file);
// kNotCached when the disk would be needed (EAGAIN), the kernel does not
// support RWF_NOWAIT here, or anything else went wrong — the pool then
// retries and reports errors. Bounded: each call makes progress or stops.
InlineRead ReadCachedInline(FileState& file, uint64_t offset, absl::Span<char> out,
                            size_t& done_bytes) {
  if (!file.inline_reads_supported) return InlineRead::kNotCached;
  for (int attempt = 0; attempt < kMaxEintrRetries && done_bytes < out.size(); ++attempt) {
    iovec vector{.iov_base = out.data() + done_bytes, .iov_len = out.size() - done_bytes};
    const ssize_t got =
        preadv2(file.fd, &vector, 1, static_cast<off_t>(offset + done_bytes), RWF_NOWAIT);
    if (got == 0) return InlineRead::kDone;  // end of file
    if (got < 0) {
      if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) {
        file.inline_reads_supported = false;
      }
      return InlineRead::kNotCached;
    }
    done_bytes += static_cast<size_t>(got);
  }
  return done_bytes == out.size() ? InlineRead::kDone : InlineRead::kNotCached;
}

absl::StatusOr<size_t> ReadAll(FileState& file, uint64_t offset, absl::Span<char> out) {
  if (offset > kMaxOffset || out.size() > kMaxOffset - offset) {
    return absl::InvalidArgumentError(Context("read past the largest offset", file.path));
  }
  size_t done_bytes = 0;
  if (out.size() <= file.inline_read_max_bytes &&
      ReadCachedInline(file, offset, out, done_bytes) == InlineRead::kDone) {
    return done_bytes;
  }
  int error = 0;
  const int fd = file.fd;
  file.loop.RunBlocking([&] {
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
  if (error == EIO) return io::IoError(Context("pread", file.path), io::IoFailure::kDataAtRisk);
  if (error != 0) return io::ErrnoToStatus(error, Context("pread", file.path));
  return done_bytes;
}

// Writes all of `data` at `offset`, or at the end of file when `at_end`
// (fstat and pwrite in one trip); then, if `then_sync` and the write
// succeeded, fdatasyncs — all in one hand-off to the I/O pool. A pwrite
// may write less than asked (a full disk, the file size limit, a signal);
// the loop goes on from there until one fails. A failure therefore leaves
// the prefix written so far in the file (not durable), and its status
// ends with "after N of M bytes written".
absl::Status WriteAll(FileState& file, uint64_t offset, bool at_end, absl::Span<const char> data,
                      bool then_sync) {
  if (offset > kMaxOffset || data.size() > kMaxOffset - offset) {
    return absl::InvalidArgumentError(Context("write past the largest offset", file.path));
  }
  size_t done_bytes = 0;
  int error = 0;
  int sync_error = 0;
  bool too_far = false;
  const int fd = file.fd;
  const bool size_limited = file.file_size_limited;
  file.loop.RunBlocking([&] {
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
    FileSizeSignalBlocked no_sigxfsz(size_limited);
    int eintr_retries = 0;
    while (done_bytes < data.size()) {
      const ssize_t put = pwrite(fd, data.data() + done_bytes, data.size() - done_bytes,
                                 static_cast<off_t>(offset + done_bytes));
      if (put < 0) {
        if (errno == EINTR && ++eintr_retries < kMaxEintrRetries) continue;
        error = errno;
        no_sigxfsz.Note(error);
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
  if (too_far) {
    return absl::InvalidArgumentError(Context("append past the largest offset", file.path));
  }
  if (error != 0) {
    // The loop stops at the first failed pwrite: the bytes before it stay
    // in the file (a short prefix), and the status says how many.
    return io::ErrnoToStatus(error, absl::StrCat(Context("pwrite", file.path), " after ",
                                                 done_bytes, " of ", data.size(),
                                                 " bytes written"));
  }
  if (sync_error != 0) return SyncFailed(file, sync_error);
  return absl::OkStatus();
}

// Each method starts an Operation and, from then on, uses only it: the
// handle itself may be destroyed by another fiber while the call waits.
class PosixFile final : public io::File {
 public:
  PosixFile(EventLoop& loop, std::string path, int fd, size_t inline_read_max_bytes)
      : state_(std::make_shared<FileState>(loop, std::move(path), fd, inline_read_max_bytes)) {}
  ~PosixFile() override { (void)Close(); }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    Operation op(state_);
    if (op->closed) return Closed(*op, "read");
    return ReadAll(*op, offset, out);
  }

  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    Operation op(state_);
    if (op->closed) return Closed(*op, "write");
    return WriteAll(*op, offset, /*at_end=*/false, data, /*then_sync=*/false);
  }

  absl::Status Append(absl::Span<const char> data) override {
    Operation op(state_);
    if (op->closed) return Closed(*op, "append");
    // Appends of one handle are serialized, so that two fibers appending
    // concurrently never read the same end of file.
    runtime::MutexLock lock(op->append_mutex);
    if (op->closed) return Closed(*op, "append");
    return WriteAll(*op, 0, /*at_end=*/true, data, /*then_sync=*/false);
  }

  absl::Status WriteAtAndSync(uint64_t offset, absl::Span<const char> data) override {
    Operation op(state_);
    if (op->closed) return Closed(*op, "write");
    runtime::MutexLock lock(op->sync_mutex);
    if (op->closed) return Closed(*op, "write");
    if (op->sync_failed) return EarlierSyncFailed(*op);
    return WriteAll(*op, offset, /*at_end=*/false, data, /*then_sync=*/true);
  }

  absl::Status Sync() override {
    Operation op(state_);
    if (op->closed) return Closed(*op, "sync");
    runtime::MutexLock lock(op->sync_mutex);
    if (op->closed) return Closed(*op, "sync");
    if (op->sync_failed) return EarlierSyncFailed(*op);
    int error = 0;
    const int fd = op->fd;
    op->loop.RunBlocking([&] {
      if (fdatasync(fd) != 0) error = errno;  // not retried on EINTR: see File::Sync
    });
    if (error != 0) return SyncFailed(*op, error);
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size_bytes) override {
    Operation op(state_);
    if (op->closed) return Closed(*op, "truncate");
    if (size_bytes > kMaxOffset) return absl::InvalidArgumentError(Context("truncate", op->path));
    runtime::MutexLock lock(op->append_mutex);
    if (op->closed) return Closed(*op, "truncate");
    int error = 0;
    const int fd = op->fd;
    const bool size_limited = op->file_size_limited;
    op->loop.RunBlocking([&] {
      // EINTR is retried a bounded number of times.
      FileSizeSignalBlocked no_sigxfsz(size_limited);
      for (int attempt = 0; attempt < kMaxEintrRetries; ++attempt) {
        error = ftruncate(fd, static_cast<off_t>(size_bytes)) == 0 ? 0 : errno;
        no_sigxfsz.Note(error);
        if (error != EINTR) return;
      }
    });
    if (error != 0) return io::ErrnoToStatus(error, Context("ftruncate", op->path));
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Size() override {
    Operation op(state_);
    if (op->closed) return Closed(*op, "size");
    struct stat info {};
    int error = 0;
    const int fd = op->fd;
    op->loop.RunBlocking([&] {
      if (fstat(fd, &info) != 0) error = errno;
    });
    if (error != 0) return io::ErrnoToStatus(error, Context("fstat", op->path));
    return static_cast<uint64_t>(info.st_size);
  }

  // close(2) of a regular file is quick and does not sync; done inline so
  // that Close also works from destructors during an unwind.
  absl::Status Close() override {
    FileState& file = *state_;
    if (file.closed) return absl::OkStatus();
    file.closed = true;
    if (file.ops_in_flight > 0) return absl::OkStatus();  // the last one releases the fd
    if (const int error = file.ReleaseFd(); error != 0) {
      return io::ErrnoToStatus(error, Context("close", file.path));
    }
    return absl::OkStatus();
  }

 private:
  const std::shared_ptr<FileState> state_;
};

}  // namespace

std::unique_ptr<io::File> MakePosixFile(EventLoop& loop, std::string path, int fd,
                                        size_t inline_read_max_bytes) {
  return std::make_unique<PosixFile>(loop, std::move(path), fd, inline_read_max_bytes);
}

}  // namespace faultline::posix::internal
