// core/posix/internal/beneath.cc — see beneath.h.
#include "core/posix/internal/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace faultline::posix::internal {
namespace {

// openat2 fails with EAGAIN when a concurrent rename or mount kept it from
// proving the path stays beneath the root; both it and EINTR are retried,
// but not forever.
constexpr int kMaxRetries = 64;

std::string AtPath(std::string_view path) {
  return path.empty() ? std::string(".") : std::string(path);
}

int OpenAt2Beneath(int root_fd, const std::string& path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;  // openat2 refuses a mode otherwise
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    const long fd = syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    if ((errno != EAGAIN && errno != EINTR) || attempt + 1 >= kMaxRetries) return -1;
  }
}

// With O_DIRECTORY | O_NOFOLLOW a symlink fails with ENOTDIR; say ELOOP
// instead, so that the caller learns why.
int ExplainNotDir(int dir_fd, const std::string& name) {
  struct stat info {};
  if (fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(info.st_mode)) {
    return ELOOP;
  }
  return ENOTDIR;
}

// One openat(O_NOFOLLOW) per component. Bounded by the path's components
// (at most 2048 in a path io::ValidatePath accepts).
int OpenNoSymlinks(int root_fd, std::string_view path, int flags, mode_t mode) {
  if (path.empty()) return openat(root_fd, ".", flags, mode);
  int dir_fd = root_fd;  // owned once it is not the root
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const bool last = slash == std::string_view::npos;
    const std::string component(path.substr(start, last ? std::string_view::npos : slash - start));
    const int next = last ? openat(dir_fd, component.c_str(), flags | O_NOFOLLOW, mode)
                          : openat(dir_fd, component.c_str(),
                                   O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int error = next < 0 ? errno : 0;
    if (error == ENOTDIR && (!last || (flags & O_DIRECTORY) != 0)) {
      error = ExplainNotDir(dir_fd, component);
    }
    if (dir_fd != root_fd) close(dir_fd);
    if (last || next < 0) {
      errno = error;
      return next;
    }
    dir_fd = next;
    start = slash + 1;
  }
}

}  // namespace

Resolution ProbeResolution(int root_fd) {
  const int fd = OpenAt2Beneath(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return Resolution::kNoSymlinks;  // ENOSYS, or a filter that refuses it
  close(fd);
  return Resolution::kBeneath;
}

int OpenBeneath(int root_fd, std::string_view path, int flags, mode_t mode,
                Resolution resolution) {
  flags |= O_CLOEXEC;
  switch (resolution) {
    case Resolution::kBeneath:
      return OpenAt2Beneath(root_fd, AtPath(path), flags, mode);
    case Resolution::kNoSymlinks:
      return OpenNoSymlinks(root_fd, path, flags, mode);
  }
  errno = EINVAL;
  return -1;
}

ParentDir::ParentDir(int root_fd, std::string_view path, Resolution resolution) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    fd_ = root_fd;
    leaf_ = std::string(path);
    return;
  }
  leaf_ = std::string(path.substr(slash + 1));
  fd_ = OpenBeneath(root_fd, path.substr(0, slash), O_PATH | O_DIRECTORY, 0, resolution);
  if (fd_ < 0) {
    error_ = errno;
    return;
  }
  owned_ = true;
}

ParentDir::~ParentDir() {
  if (owned_) close(fd_);
}

}  // namespace faultline::posix::internal
