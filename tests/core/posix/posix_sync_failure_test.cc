// tests/core/posix/posix_sync_failure_test.cc — a real fdatasync that fails
// with ENOSPC. The test builds a 64 MiB ext4 file system on a loop device
// whose backing file lives on a 2 MiB tmpfs: ext4 accepts megabytes into its
// page cache, writeback then hits the full tmpfs, and fdatasync reports
// ENOSPC — once; the next fdatasync says OK although the data is gone. The
// file system must report the failed sync as an I/O error (never IsNoSpace,
// which reads as "nothing was lost, try later") and keep failing later syncs
// of that handle. Needs root (mount, loop devices) and mkfs.ext4; everything
// happens in a private mount namespace, so nothing is left mounted even if
// the test dies. Skips with the reason where the machine cannot.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/loop.h>
#include <sched.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/io/errors.h"
#include "core/io/file_system.h"
#include "core/posix/event_loop.h"
#include "core/posix/posix_file_system.h"
#include "core/runtime/spawn.h"
#include "tests/core/posix/pool_gate.h"
#include "tests/core/posix/posix_test_util.h"

namespace faultline::posix {
namespace {

using ::faultline::posix::testing::Bytes;
using ::faultline::posix::testing::OpenGateOnExit;
using ::faultline::posix::testing::PoolGate;
using ::faultline::posix::testing::RunInFiber;
using ::faultline::posix::testing::TempDir;

constexpr size_t kBlockBytes = 1 << 20;
constexpr int kBlocks = 8;  // 8 MiB of data for a 2 MiB device

std::string Why(std::string_view what) {
  return absl::StrCat(AsAbsl(what), ": ", std::strerror(errno));
}

// Runs a program found on PATH (plus the sbin directories); its exit status,
// or -1 if it could not be started.
int RunProgram(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings = {"PATH=/usr/sbin:/sbin:/usr/bin:/bin"};
  std::vector<char*> env = {env_strings[0].data(), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), env.data()) != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The tiny devices, in a mount namespace of this process's own.
class TinyDisks {
 public:
  ~TinyDisks() {
    if (!ext4_dir_.empty()) umount2(ext4_dir_.c_str(), MNT_DETACH);
    if (loop_fd_ >= 0) close(loop_fd_);  // LO_FLAGS_AUTOCLEAR: detaches the device
    if (image_fd_ >= 0) close(image_fd_);
    if (!tmpfs_dir_.empty()) umount2(tmpfs_dir_.c_str(), MNT_DETACH);
  }

  // Mounts a tmpfs of `tmpfs_size` at tmpfs_dir(). "" or why it cannot.
  std::string MountTmpfs(std::string_view tmpfs_size) {
    if (geteuid() != 0) return "needs root to mount a tmpfs and a loop device";
    if (unshare(CLONE_NEWNS) != 0) return Why("unshare(CLONE_NEWNS)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      return Why("making / private");
    }
    const std::string dir = scratch_.path() + "/tmpfs";
    if (mkdir(dir.c_str(), 0700) != 0) return Why("mkdir");
    const std::string options =
        absl::StrCat("size=", AsAbsl(tmpfs_size));
    if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      return Why("mount tmpfs");
    }
    tmpfs_dir_ = dir;
    return "";
  }

  // Then a 64 MiB ext4 on a loop device backed by a file on that tmpfs,
  // mounted at ext4_dir(). "" or why it cannot.
  std::string MountExt4OnTmpfs() {
    const std::string image = tmpfs_dir_ + "/ext4.img";
    image_fd_ = open(image.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (image_fd_ < 0 || ftruncate(image_fd_, 64 << 20) != 0) return Why("sparse image");
    if (RunProgram({"mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-E", "lazy_itable_init=1",
                    "-b", "4096", image}) != 0) {
      return "mkfs.ext4 is missing or failed (package e2fsprogs)";
    }
    if (std::string why = AttachLoop(); !why.empty()) return why;
    const std::string dir = scratch_.path() + "/ext4";
    if (mkdir(dir.c_str(), 0700) != 0) return Why("mkdir");
    if (mount(loop_device_.c_str(), dir.c_str(), "ext4", MS_NOSUID | MS_NODEV, "") != 0) {
      return Why("mount ext4");
    }
    ext4_dir_ = dir;
    return "";
  }

  // Both, on a 2 MiB tmpfs: the devices of every failed-sync test. "" or why
  // they cannot be made.
  std::string MountExt4OnSmallTmpfs() {
    if (std::string why = MountTmpfs("2m"); !why.empty()) return why;
    return MountExt4OnTmpfs();
  }

  const std::string& tmpfs_dir() const { return tmpfs_dir_; }
  const std::string& ext4_dir() const { return ext4_dir_; }

 private:
  // A free loop device on image_fd_; retried when another process takes the
  // one the kernel offered first.
  std::string AttachLoop() {
    const int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) return Why("open /dev/loop-control");
    std::string why = "no free loop device";
    for (int attempt = 0; attempt < 8 && loop_fd_ < 0; ++attempt) {
      const int number = ioctl(control, LOOP_CTL_GET_FREE);
      if (number < 0) {
        why = Why("LOOP_CTL_GET_FREE");
        break;
      }
      const std::string device = absl::StrCat("/dev/loop", number);
      const int fd = open(device.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        why = Why(absl::StrCat("open ", device));
        break;
      }
      loop_config config{};
      config.fd = static_cast<uint32_t>(image_fd_);
      config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      if (ioctl(fd, LOOP_CONFIGURE, &config) == 0) {
        loop_fd_ = fd;
        loop_device_ = device;
        why.clear();
      } else {
        why = Why("LOOP_CONFIGURE");
        close(fd);
        if (errno != EBUSY) break;
      }
    }
    close(control);
    return why;
  }

  TempDir scratch_;
  std::string tmpfs_dir_;
  std::string ext4_dir_;
  std::string loop_device_;
  int image_fd_ = -1;
  int loop_fd_ = -1;
};

// Writes kBlocks MiB into the page cache of `file` (all accepted: ext4 has
// room for them, the device behind it has not).
void FillPageCache(io::File& file) {
  const std::string block(kBlockBytes, 'x');
  for (int i = 0; i < kBlocks; ++i) {
    ASSERT_TRUE(file.WriteAt(uint64_t{kBlockBytes} * i, Bytes(block)).ok());
  }
}

TEST(PosixSyncFailureTest, FailedSyncIsAnIoErrorAndStaysFailed) {
  TinyDisks disks;
  if (std::string why = disks.MountExt4OnSmallTmpfs(); !why.empty()) GTEST_SKIP() << why;
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, disks.ext4_dir());
  ASSERT_TRUE(fs.ok()) << fs.status();
  RunInFiber(loop, [&] {
    auto file = (*fs)->Open("wal", io::OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status();
    FillPageCache(**file);
    const absl::Status first = (*file)->Sync();
    if (first.ok()) GTEST_SKIP() << "this kernel did not fail the sync; nothing to check";
    EXPECT_TRUE(io::IsIoError(first)) << first;
    EXPECT_FALSE(io::IsNoSpace(first)) << first;
    // The kernel reports a writeback error once: without the handle's
    // memory, this sync would say OK about data that never reached the disk.
    const absl::Status second = (*file)->Sync();
    EXPECT_TRUE(io::IsIoError(second)) << second;
    const absl::Status third = (*file)->WriteAtAndSync(0, Bytes("y"));
    EXPECT_TRUE(io::IsIoError(third)) << third;
  });
}

TEST(PosixSyncFailureTest, FailedSyncStageOfWriteAtAndSyncIsAnIoError) {
  TinyDisks disks;
  if (std::string why = disks.MountExt4OnSmallTmpfs(); !why.empty()) GTEST_SKIP() << why;
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, disks.ext4_dir());
  ASSERT_TRUE(fs.ok()) << fs.status();
  RunInFiber(loop, [&] {
    auto file = (*fs)->Open("wal", io::OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status();
    FillPageCache(**file);
    const absl::Status combined =
        (*file)->WriteAtAndSync(uint64_t{kBlockBytes} * kBlocks, Bytes("tail"));
    if (combined.ok()) GTEST_SKIP() << "this kernel did not fail the sync; nothing to check";
    EXPECT_TRUE(io::IsIoError(combined)) << combined;
    EXPECT_TRUE(io::IsIoError((*file)->Sync()));
  });
}

// Two fibers sync one handle at once. The kernel reports the writeback error
// to the first fdatasync only; the second, queued before the first failed,
// returns 0. Stickiness must cover it too: it covered the same lost data, so
// it must not say OK. One pool thread, held by a gate until both syncs have
// been issued, runs them in order.
TEST(PosixSyncFailureTest, ConcurrentSyncOfAHandleDoesNotPassWhenTheOtherFailed) {
  TinyDisks disks;
  if (std::string why = disks.MountExt4OnSmallTmpfs(); !why.empty()) GTEST_SKIP() << why;
  EventLoopOptions loop_options;
  loop_options.io_threads = 1;
  EventLoop loop(loop_options);
  auto fs = PosixFileSystem::Open(loop, disks.ext4_dir());
  ASSERT_TRUE(fs.ok()) << fs.status();
  absl::Status first = absl::UnknownError("not run");
  absl::Status second = absl::UnknownError("not run");
  RunInFiber(loop, [&] {
    auto file = (*fs)->Open("wal", io::OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status();
    FillPageCache(**file);
    auto gate = std::make_shared<PoolGate>();
    OpenGateOnExit open_gate(gate);
    auto blocker = runtime::Spawn(loop, "blocker", [&loop, gate] {
      loop.RunBlocking([&] { gate->Wait(); });
    });
    io::File* raw_file = file->get();
    auto syncer1 = runtime::Spawn(loop, "sync-1", [&] { first = raw_file->Sync(); });
    auto syncer2 =
        runtime::Spawn(loop, "sync-2", [&] { second = raw_file->WriteAtAndSync(0, Bytes("y")); });
    // Fibers only park: a few rounds let each one issue its call.
    for (int i = 0; i < 10; ++i) loop.Yield();
    gate->Open();
    syncer1.Join();
    syncer2.Join();
    blocker.Join();
  });
  if (first.ok() && second.ok()) GTEST_SKIP() << "this kernel did not fail the sync";
  EXPECT_TRUE(io::IsIoError(first)) << first;
  EXPECT_TRUE(io::IsIoError(second)) << second;
}

// A write that does not fit is still IsNoSpace: nothing written before it
// was lost, so "disk full" is the right news.
TEST(PosixSyncFailureTest, WriteOnAFullFileSystemIsStillNoSpace) {
  TinyDisks disks;
  if (std::string why = disks.MountTmpfs("256k"); !why.empty()) GTEST_SKIP() << why;
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, disks.tmpfs_dir());
  ASSERT_TRUE(fs.ok()) << fs.status();
  RunInFiber(loop, [&] {
    auto file = (*fs)->Open("wal", io::OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status();
    const absl::Status written =
        (*file)->WriteAtAndSync(0, Bytes(std::string(kBlockBytes, 'x')));
    EXPECT_TRUE(io::IsNoSpace(written)) << written;
    EXPECT_TRUE((*file)->Sync().ok());  // the failed write failed no sync
  });
}

}  // namespace
}  // namespace faultline::posix
