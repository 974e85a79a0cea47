// core/posix/internal/beneath.h — opening paths so that they cannot leave a
// root directory, whatever symbolic links the tree holds.
//
// io::ValidatePath already refuses "..", absolute paths and empty components,
// but a symlink inside the root (`wal -> /etc`) would still lead the *at()
// calls outside it. Two ways to stop that:
//  * kBeneath: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (Linux
//    5.6+). The kernel resolves the whole path and fails with EXDEV the
//    moment it would step outside the root; symlinks that stay inside are
//    followed, /proc magic links are refused (ELOOP).
//  * kNoSymlinks: the portable fallback, one openat(O_NOFOLLOW) per
//    component. Every symlink is refused (ELOOP), even one that stays inside.
// Calls that act on a name rather than open it (renameat, unlinkat, mkdirat,
// fstatat with AT_SYMLINK_NOFOLLOW) never follow the last component, so they
// need only the parent resolved this way (OpenParent).
//
// Not API: used by posix_file_system.cc and its tests. Every function is a
// plain syscall wrapper, safe to call on an I/O pool thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace faultline::posix::internal {

enum class Resolution {
  kBeneath,     // openat2 with RESOLVE_BENEATH
  kNoSymlinks,  // openat with O_NOFOLLOW, one component at a time
};

// kBeneath if this kernel (and any seccomp filter) lets openat2 through,
// else kNoSymlinks. Makes one openat2 call on `root_fd`.
Resolution ProbeResolution(int root_fd);

// Opens `path` (a path io::ValidatePath accepted; "" is the root itself)
// beneath `root_fd` with open(2) `flags` (O_CLOEXEC is added) and `mode`
// (used with O_CREAT only). Returns the fd, or -1 with errno set: EXDEV or
// ELOOP when the path would leave the root or (kNoSymlinks) crosses a
// symlink, the usual open(2) errors otherwise.
int OpenBeneath(int root_fd, std::string_view path, int flags, mode_t mode,
                Resolution resolution);

// The directory holding the last component of a valid, non-empty `path`,
// resolved beneath the root, and that component's name. Closes the fd it
// opened (the root fd itself is borrowed, never closed).
class ParentDir {
 public:
  ParentDir(int root_fd, std::string_view path, Resolution resolution);
  ~ParentDir();
  ParentDir(const ParentDir&) = delete;
  ParentDir& operator=(const ParentDir&) = delete;

  // -1 when the parent could not be opened; error() then holds the errno.
  int fd() const { return fd_; }
  int error() const { return error_; }
  const char* leaf() const { return leaf_.c_str(); }

 private:
  int fd_ = -1;
  bool owned_ = false;
  int error_ = 0;
  std::string leaf_;
};

}  // namespace faultline::posix::internal
