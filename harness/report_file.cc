// harness/report_file.cc — see report_file.h.
#include "harness/report_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace faultline::harness {

namespace {

// Whether `path` is a regular file that stdout or stderr writes to: the
// report would truncate, and be mixed with, the console text.
bool IsStandardStream(const std::string& path) {
  struct stat file {};
  if (stat(path.c_str(), &file) != 0 || !S_ISREG(file.st_mode)) return false;
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat stream {};
    if (fstat(fd, &stream) == 0 && stream.st_dev == file.st_dev && stream.st_ino == file.st_ino) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<ReportFile> ReportFile::Open(const std::string& path) {
  if (IsStandardStream(path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot write '", path, "': it is where this command's output or errors go"));
  }
  // O_NONBLOCK: opening a FIFO no process reads would otherwise wait for a
  // reader forever; it fails with ENXIO instead. Writes then block again.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd < 0) {
    const int error = errno;
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot write '", path, "': ",
        error == ENXIO ? "a FIFO that no process reads" : std::strerror(error)));
  }
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    const int error = errno;
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write '", path, "': ", std::strerror(error)));
  }
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    const int error = errno;
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write '", path, "': ", std::strerror(error)));
  }
  return ReportFile(path, fd, info.st_dev, info.st_ino);
}

ReportFile::ReportFile(ReportFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(other.fd_),
      device_(other.device_),
      inode_(other.inode_) {
  other.fd_ = -1;
}

ReportFile::~ReportFile() {
  if (fd_ >= 0) close(fd_);
}

bool ReportFile::SameFileAs(const ReportFile& other) const {
  return device_ == other.device_ && inode_ == other.inode_;
}

absl::Status ReportFile::WriteAndClose(std::string_view contents) {
  int error = 0;
  size_t written = 0;
  while (written < contents.size() && error == 0) {
    const ssize_t n = write(fd_, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n == 0) error = EIO;  // no progress: do not spin
    if (n > 0) written += static_cast<size_t>(n);
  }
  // close(2) can report a write-back error (NFS, quotas); the descriptor is
  // released whatever it returns, so it is never retried.
  if (close(fd_) != 0 && error == 0) error = errno;
  fd_ = -1;
  if (error != 0) {
    return absl::DataLossError(
        absl::StrCat("writing the report '", path_, "' failed: ", std::strerror(error)));
  }
  return absl::OkStatus();
}

bool SameReportPath(const std::string& a, const std::string& b) {
  std::error_code ignored;
  return std::filesystem::absolute(a, ignored).lexically_normal() ==
         std::filesystem::absolute(b, ignored).lexically_normal();
}

}  // namespace faultline::harness
