// tests/core/posix/posix_file_hostile_test.cc — what a hostile or careless
// tree can hold where a file is expected: a FIFO (whose open for reading
// waits for a writer), a device node (which swallows writes and "syncs"
// them), paths every call must refuse, and offsets no file can have. No
// call may hang, crash, report a write to something that is not a regular
// file as done, or leak a descriptor on any error path.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "core/io/errors.h"
#include "core/io/file_system.h"
#include "core/posix/event_loop.h"
#include "core/posix/posix_file_system.h"
#include "tests/core/posix/posix_test_util.h"

namespace faultline::posix {
namespace {

using ::faultline::posix::testing::Bytes;
using ::faultline::posix::testing::OpenFdCount;
using ::faultline::posix::testing::RunInFiber;
using ::faultline::posix::testing::TempDir;

// A FIFO in the tree: opening it for reading blocks until a writer comes, so
// a LockFile that opens it plainly holds an I/O thread forever (and the loop's
// destructor, which joins the pool, with it). Runs in a child process that an
// alarm kills if it hangs; it exits 0 only if LockFile refused the FIFO.
TEST(PosixHostileDeathTest, LockFileOnAFifoDoesNotWaitForAWriter) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  ASSERT_EQ(mkfifo((dir.path() + "/fifo").c_str(), 0600), 0);
  EXPECT_EXIT(
      {
        alarm(30);  // a bound on the failure only: the fixed call never waits
        EventLoop loop;
        auto fs = PosixFileSystem::Open(loop, dir.path());
        absl::Status status = fs.status();
        if (fs.ok()) {
          RunInFiber(loop, [&] { status = (*fs)->LockFile("fifo").status(); });
        }
        std::exit(absl::IsInvalidArgument(status) ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// Open is for regular files: a FIFO or a device node in their place is
// refused (like a directory), and no descriptor is left behind.
TEST(PosixHostileTest, OpenRefusesWhatIsNotARegularFile) {
  TempDir dir;
  ASSERT_EQ(mkfifo((dir.path() + "/fifo").c_str(), 0600), 0);
  // A character device that accepts every write and keeps nothing (needs
  // CAP_MKNOD; the FIFO part runs anyway).
  const bool have_device =
      mknod((dir.path() + "/null").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0;
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok()) << fs.status();
  RunInFiber(loop, [&] {
    const int fds_before = OpenFdCount();
    for (const io::OpenMode mode : {io::OpenMode::kReadWrite, io::OpenMode::kCreate,
                                    io::OpenMode::kCreateTruncate}) {
      auto fifo = (*fs)->Open("fifo", mode);
      EXPECT_TRUE(absl::IsFailedPrecondition(fifo.status())) << fifo.status();
      if (have_device) {
        auto device = (*fs)->Open("null", mode);
        EXPECT_TRUE(absl::IsFailedPrecondition(device.status())) << device.status();
        if (device.ok()) {
          // What the caller would have believed: a durable record.
          EXPECT_FALSE((*device)->WriteAtAndSync(0, Bytes("record")).ok());
        }
      }
    }
    EXPECT_EQ(OpenFdCount(), fds_before);
  });
}

// Every error path of every call, under both resolutions, leaves the
// process's descriptor count as it found it; so do locks once released.
TEST(PosixHostileTest, NoDescriptorLeaksOnErrorPaths) {
  for (const bool use_openat2 : {true, false}) {
    SCOPED_TRACE(use_openat2 ? "openat2" : "fallback");
    TempDir root;
    TempDir outside;
    ASSERT_EQ(mkdir((root.path() + "/d").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((root.path() + "/d/e").c_str(), 0700), 0);
    ASSERT_EQ(symlink(outside.path().c_str(), (root.path() + "/d/out").c_str()), 0);
    ASSERT_EQ(symlink("e", (root.path() + "/d/in").c_str()), 0);
    ASSERT_EQ(mkfifo((root.path() + "/d/fifo").c_str(), 0600), 0);
    EventLoop loop;
    PosixFileSystemOptions options;
    options.use_openat2 = use_openat2;
    auto fs = PosixFileSystem::Open(loop, root.path(), options);
    ASSERT_TRUE(fs.ok()) << fs.status();
    RunInFiber(loop, [&] {
      io::FileSystem& f = **fs;
      ASSERT_TRUE(f.Open("d/e/file", io::OpenMode::kCreateExclusive).ok());
      const int fds_before = OpenFdCount();
      const std::string long_name(300, 'n');
      const std::vector<std::string> paths = {
          "missing",     "d/missing/x",   "d/e/file/x", "d/out/x",  "d/in/x", "d/out",
          "d/fifo",      "d/fifo/x",      "d",          long_name, "d/" + long_name + "/x",
          "d/e/file",
      };
      for (const std::string& path : paths) {
        SCOPED_TRACE(path);
        for (const io::OpenMode mode :
             {io::OpenMode::kReadWrite, io::OpenMode::kCreateExclusive}) {
          (void)f.Open(path, mode);
        }
        (void)f.Rename(path, "d/missing/y");
        (void)f.Rename("d/missing/y", path);
        (void)f.List(path);
        (void)f.SyncDir(path);
        (void)f.Exists(path);
        (void)f.CreateDir(path + "/z/z");
        (void)f.Remove(path + "/z");
        (void)f.LockFile(path);
      }
      {
        auto held = f.LockFile("d");
        ASSERT_TRUE(held.ok()) << held.status();
        EXPECT_TRUE(absl::IsFailedPrecondition(f.LockFile("d").status()));
      }
      EXPECT_EQ(OpenFdCount(), fds_before);
    });
  }
}


// Under a file size limit (ulimit -f, systemd's LimitFSIZE) the kernel
// answers a write or truncate past it with SIGXFSZ, whose default action
// kills the process; the call must instead fail with a status (EFBIG), also
// when part of the write fitted. Runs in a child process; exits 0 only if
// every call failed and the process survived them.
TEST(PosixHostileDeathTest, WritePastTheFileSizeLimitFailsInsteadOfKilling) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  EXPECT_EXIT(
      {
        constexpr rlim_t kLimitBytes = 1 << 20;
        rlimit limit{};
        limit.rlim_cur = kLimitBytes;
        limit.rlim_max = kLimitBytes;
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) std::exit(2);
        EventLoop loop;
        auto fs = PosixFileSystem::Open(loop, dir.path());
        if (!fs.ok()) std::exit(3);
        bool all_failed = false;
        RunInFiber(loop, [&] {
          auto file = (*fs)->Open("f", io::OpenMode::kCreateExclusive);
          if (!file.ok()) return;
          all_failed = !(*file)->WriteAt(2 * kLimitBytes, Bytes("x")).ok() &&
                       !(*file)->WriteAt(kLimitBytes - 2, Bytes("abcd")).ok() &&
                       !(*file)->Append(Bytes("tail")).ok() &&
                       !(*file)->WriteAtAndSync(kLimitBytes, Bytes("y")).ok() &&
                       !(*file)->Truncate(2 * kLimitBytes).ok();
        });
        std::exit(all_failed ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// A write that fails part way leaves the prefix the kernel took (here the
// bytes below the file size limit) in the file, and says how much landed:
// WriteAt's contract (core/io/file_system.h) leaves the range unspecified,
// and the status names the prefix so a caller can cut it off.
TEST(PosixHostileDeathTest, FailedWriteLeavesAShortPrefixAndSaysSo) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  EXPECT_EXIT(
      {
        constexpr rlim_t kLimitBytes = 1 << 20;
        rlimit limit{};
        limit.rlim_cur = kLimitBytes;
        limit.rlim_max = kLimitBytes;
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) std::exit(2);
        EventLoop loop;
        auto fs = PosixFileSystem::Open(loop, dir.path());
        if (!fs.ok()) std::exit(3);
        int code = 4;
        RunInFiber(loop, [&] {
          auto file = (*fs)->Open("f", io::OpenMode::kCreateExclusive);
          if (!file.ok()) return;
          const absl::Status status = (*file)->WriteAt(kLimitBytes - 2, Bytes("abcd"));
          if (status.ok() || status.message().find("2 of 4 bytes") == absl::string_view::npos) {
            code = 5;
            return;
          }
          auto size = (*file)->Size();
          if (!size.ok() || *size != kLimitBytes) {
            code = 6;
            return;
          }
          std::string tail(2, '\0');
          auto read = (*file)->ReadAt(kLimitBytes - 2, absl::Span<char>(tail.data(), 2));
          code = read.ok() && *read == 2 && tail == "ab" ? 0 : 7;
        });
        std::exit(code);
      },
      ::testing::ExitedWithCode(0), "");
}

// A root given with a NUL inside would be cut there by the C string the
// kernel sees, rooting the file system somewhere else without a word.
TEST(PosixHostileTest, RootWithANulIsInvalidArgument) {
  TempDir dir;
  ASSERT_EQ(mkdir((dir.path() + "/inner").c_str(), 0700), 0);
  EventLoop loop;
  const std::string root = dir.path() + std::string("\0/inner", 7);
  auto fs = PosixFileSystem::Open(loop, root);
  EXPECT_TRUE(absl::IsInvalidArgument(fs.status())) << fs.status();
}

// A root reached through a symlink is the directory it named when opened:
// pointing the link elsewhere later moves nothing.
TEST(PosixHostileTest, SymlinkedRootStaysWhereItWasOpened) {
  TempDir dir;
  ASSERT_EQ(mkdir((dir.path() + "/a").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((dir.path() + "/b").c_str(), 0700), 0);
  const std::string link = dir.path() + "/root";
  ASSERT_EQ(symlink("a", link.c_str()), 0);
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, link);
  ASSERT_TRUE(fs.ok()) << fs.status();
  ASSERT_EQ(unlink(link.c_str()), 0);
  ASSERT_EQ(symlink("b", link.c_str()), 0);
  RunInFiber(loop, [&] {
    EXPECT_TRUE((*fs)->Open("f", io::OpenMode::kCreateExclusive).ok());
  });
  struct stat info {};
  EXPECT_EQ(stat((dir.path() + "/a/f").c_str(), &info), 0);
  EXPECT_NE(stat((dir.path() + "/b/f").c_str(), &info), 0);
}

// Offsets and sizes the kernel cannot take (past INT64_MAX, or overflowing
// it) are InvalidArgument before any syscall; offsets it can take but the
// file system cannot hold fail cleanly; reads past the end are short.
TEST(PosixHostileTest, HugeOffsetsAndSizesNeverCrash) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  TempDir dir;
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok()) << fs.status();
  RunInFiber(loop, [&] {
    auto opened = (*fs)->Open("f", io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    io::File& file = **opened;
    ASSERT_TRUE(file.WriteAt(0, Bytes("abc")).ok());
    char buffer[8] = {};
    const absl::Span<char> out(buffer, sizeof(buffer));
    for (const uint64_t offset : {kMax + 1, ~uint64_t{0}, kMax - 3}) {
      SCOPED_TRACE(offset);
      EXPECT_TRUE(absl::IsInvalidArgument(file.ReadAt(offset, out).status()));
      EXPECT_TRUE(absl::IsInvalidArgument(file.WriteAt(offset, Bytes("abcdefgh"))));
      EXPECT_TRUE(absl::IsInvalidArgument(file.WriteAtAndSync(offset, Bytes("abcdefgh"))));
    }
    EXPECT_TRUE(absl::IsInvalidArgument(file.Truncate(kMax + 1)));
    EXPECT_TRUE(absl::IsInvalidArgument(file.Truncate(~uint64_t{0})));
    // Past the end, but addressable: short reads.
    for (const uint64_t offset : {uint64_t{3}, uint64_t{4}, uint64_t{1} << 40, kMax - 8}) {
      auto read = file.ReadAt(offset, out);
      ASSERT_TRUE(read.ok()) << read.status();
      EXPECT_EQ(*read, 0u);
    }
    // Addressable, but larger than any file this file system holds.
    EXPECT_FALSE(file.WriteAt(kMax - 8, Bytes("x")).ok());
    EXPECT_FALSE(file.Truncate(kMax).ok());
    auto size = file.Size();
    ASSERT_TRUE(size.ok()) << size.status();
    EXPECT_EQ(*size, 3u);
    EXPECT_TRUE(file.Sync().ok());
  });
}

}  // namespace
}  // namespace faultline::posix
