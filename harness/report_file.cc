// harness/report_file.cc — see report_file.h.
#include "harness/report_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

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

absl::Status CannotWrite(const std::string& path, int error) {
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot write '", path, "': ",
      error == ENXIO ? "a FIFO that no process reads" : std::strerror(error)));
}

// Opens an existing file that is not a regular file (a FIFO, a device) to
// write it in place. O_NONBLOCK: opening a FIFO no process reads would
// otherwise wait for a reader forever; it fails with ENXIO instead. Writes
// then block again.
absl::StatusOr<int> OpenInPlace(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return CannotWrite(path, errno);
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    const int error = errno;
    close(fd);
    return CannotWrite(path, error);
  }
  return fd;
}

// `path` with symbolic links resolved, even a last one that dangles (a link
// to a report not written yet); `path` itself if that fails.
std::string ResolveLinks(const std::string& path) {
  std::error_code error;
  std::filesystem::path resolved = path;
  for (int hops = 0; hops < 40 && std::filesystem::is_symlink(resolved, error); ++hops) {
    const std::filesystem::path link = std::filesystem::read_symlink(resolved, error);
    if (error) return path;
    resolved = link.is_absolute() ? link : resolved.parent_path() / link;
  }
  resolved = std::filesystem::weakly_canonical(resolved, error);
  return error || resolved.empty() ? path : resolved.string();
}

// A new "<target>.partial-XXXXXX" beside `target`, readable as any file the
// user creates (0644 under the umask, as open(2) would give it; mkostemp
// makes it private): its descriptor and name.
absl::StatusOr<std::pair<int, std::string>> CreateTemporary(const std::string& path,
                                                            const std::string& target) {
  std::string temp_path = target + ".partial-XXXXXX";
  const int fd = mkostemp(temp_path.data(), O_CLOEXEC);
  if (fd < 0) return CannotWrite(path, errno);
  const mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0644 & ~mask);
  return std::pair{fd, std::move(temp_path)};
}

}  // namespace

absl::StatusOr<ReportFile> ReportFile::Open(const std::string& path) {
  if (IsStandardStream(path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot write '", path, "': it is where this command's output or errors go"));
  }
  struct stat existing {};
  const bool exists = stat(path.c_str(), &existing) == 0;
  if (exists && !S_ISREG(existing.st_mode)) {
    absl::StatusOr<int> fd = OpenInPlace(path);
    if (!fd.ok()) return fd.status();
    struct stat info {};
    if (fstat(*fd, &info) != 0) {
      const int error = errno;
      close(*fd);
      return CannotWrite(path, error);
    }
    return ReportFile(path, path, /*in_place=*/true, *fd,
                      Identity{.file_device = info.st_dev, .file_inode = info.st_ino});
  }
  // A regular file, or none yet: through a temporary file beside the one
  // the path names once symbolic links are resolved (a rename over a link
  // would replace the link, not the report it points to). The temporary
  // file is made here only to prove the directory writable, and removed at
  // once: made for the whole sweep, it would outlive a sweep killed mid-run.
  const std::string target = ResolveLinks(path);
  std::string dir = std::filesystem::path(target).parent_path().string();
  if (dir.empty()) dir = ".";
  absl::StatusOr<std::pair<int, std::string>> probe = CreateTemporary(path, target);
  if (!probe.ok()) return probe.status();
  close(probe->first);
  unlink(probe->second.c_str());
  struct stat dir_info {};
  if (stat(dir.c_str(), &dir_info) != 0 || (exists && unlink(target.c_str()) != 0 && errno != ENOENT)) {
    return CannotWrite(path, errno);
  }
  Identity identity{.dir_device = dir_info.st_dev, .dir_inode = dir_info.st_ino,
                    .name = std::filesystem::path(target).filename().string()};
  if (exists) {
    identity.file_device = existing.st_dev;
    identity.file_inode = existing.st_ino;
  }
  return ReportFile(path, target, /*in_place=*/false, -1, std::move(identity));
}

ReportFile::ReportFile(ReportFile&& other) noexcept
    : path_(std::move(other.path_)),
      target_(std::move(other.target_)),
      in_place_(other.in_place_),
      temp_path_(std::move(other.temp_path_)),
      fd_(other.fd_),
      identity_(std::move(other.identity_)) {
  other.fd_ = -1;
  other.temp_path_.clear();
}

ReportFile::~ReportFile() {
  if (fd_ >= 0) close(fd_);
  if (!temp_path_.empty()) unlink(temp_path_.c_str());
}

bool ReportFile::SameFileAs(const ReportFile& other) const {
  const Identity& a = identity_;
  const Identity& b = other.identity_;
  const bool same_name = !a.name.empty() && a.name == b.name && a.dir_device == b.dir_device &&
                         a.dir_inode == b.dir_inode;
  const bool same_file = a.file_inode != 0 && a.file_device == b.file_device &&
                         a.file_inode == b.file_inode;
  return same_name || same_file;
}

absl::Status ReportFile::WriteAndClose(std::string_view contents) {
  if (!in_place_) {
    absl::StatusOr<std::pair<int, std::string>> temporary = CreateTemporary(path_, target_);
    if (!temporary.ok()) {
      return absl::DataLossError(absl::StrCat("writing the report failed: ",
                                              temporary.status().message()));
    }
    fd_ = temporary->first;
    temp_path_ = std::move(temporary->second);
  }
  int error = 0;
  size_t written = 0;
  while (written < contents.size() && error == 0) {
    const ssize_t n = write(fd_, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n == 0) error = EIO;  // no progress: do not spin
    if (n > 0) written += static_cast<size_t>(n);
  }
  // A renamed file must hold its bytes first, or a power loss could leave
  // an empty file under the report's name.
  if (error == 0 && !temp_path_.empty() && fdatasync(fd_) != 0) error = errno;
  // close(2) can report a write-back error (NFS, quotas); the descriptor is
  // released whatever it returns, so it is never retried.
  if (close(fd_) != 0 && error == 0) error = errno;
  fd_ = -1;
  if (error == 0 && !temp_path_.empty()) {
    if (rename(temp_path_.c_str(), target_.c_str()) != 0) error = errno;
  }
  if (!temp_path_.empty()) {
    if (error != 0) unlink(temp_path_.c_str());
    temp_path_.clear();
  }
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
