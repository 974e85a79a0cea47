// tests/core/posix/posix_file_system_test.cc — the FileSystem contract
// (tests/core/io/file_system_contract.h) on real temp directories, plus what
// only the real world has: files visible outside, the root that cannot be
// escaped, an fsync that does not stall the event loop, and private modes.
#include "core/posix/posix_file_system.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "core/io/errors.h"
#include "core/posix/event_loop.h"
#include "core/runtime/spawn.h"
#include "tests/core/io/file_system_contract.h"
#include "tests/core/posix/posix_test_util.h"

namespace faultline::posix {
namespace {

using ::faultline::posix::testing::RunInFiber;
using ::faultline::posix::testing::TempDir;

// The contract's Factory: a fresh temp dir, event loop and file system.
// kInlineReadMaxBytes 0 sends every read through the I/O pool; the default
// serves cached reads on the loop (PosixFileSystemOptions).
template <size_t kInlineReadMaxBytes>
class PosixFactory {
 public:
  PosixFactory() {
    PosixFileSystemOptions options;
    options.inline_cached_read_max_bytes = kInlineReadMaxBytes;
    auto opened = PosixFileSystem::Open(loop_, dir_.path(), options);
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (opened.ok()) fs_ = std::move(*opened);
  }
  io::FileSystem& fs() { return *fs_; }
  runtime::Executor& executor() { return loop_; }
  void RunInFiber(absl::AnyInvocable<void() &&> body) {
    testing::RunInFiber(loop_, std::move(body));
  }

 private:
  TempDir dir_;
  EventLoop loop_;
  std::unique_ptr<PosixFileSystem> fs_;
};

using PosixFactories =
    ::testing::Types<PosixFactory<PosixFileSystemOptions{}.inline_cached_read_max_bytes>,
                     PosixFactory<0>>;

}  // namespace
}  // namespace faultline::posix

INSTANTIATE_TYPED_TEST_SUITE_P(PosixFs, FileSystemContractTest, faultline::posix::PosixFactories);

namespace faultline::posix {
namespace {

std::string ReadHostFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(PosixFileSystemTest, RootMustExist) {
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, "/tmp/faultline-no-such-dir-for-sure/x");
  EXPECT_TRUE(absl::IsNotFound(fs.status())) << fs.status();
}

TEST(PosixFileSystemTest, FilesLandInTheRootDirectory) {
  TempDir dir;
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok());
  RunInFiber(loop, [&] {
    ASSERT_TRUE((*fs)->CreateDir("wal").ok());
    auto file = (*fs)->Open("wal/000001.log", io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE((*file)->Append(io::contract::Bytes("record")).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE((*fs)->SyncDir("wal").ok());
  });
  EXPECT_EQ(ReadHostFile(dir.path() + "/wal/000001.log"), "record");
}

TEST(PosixFileSystemTest, ErrorsCarryErrno) {
  TempDir dir;
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok());
  RunInFiber(loop, [&] {
    ASSERT_TRUE((*fs)->CreateDir("d").ok());
    // Opening a directory for writing: EISDIR, mapped and recorded.
    auto opened = (*fs)->Open("d", io::OpenMode::kReadWrite);
    EXPECT_EQ(io::ErrnoOf(opened.status()), EISDIR) << opened.status();
    // A file where a directory is expected.
    ASSERT_TRUE(io::contract::WriteFile(**fs, "plain", "x").ok());
    EXPECT_FALSE((*fs)->CreateDir("plain").ok());
    EXPECT_FALSE((*fs)->List("plain").ok());
  });
}

// The loop keeps running other fibers while a fiber waits for the disk: a
// ticker fiber advances during a batch of syncs.
TEST(PosixFileSystemTest, SyncDoesNotBlockOtherFibers) {
  TempDir dir;
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok());
  int ticks_during_syncs = 0;
  RunInFiber(loop, [&] {
    bool syncing = true;
    auto ticker = runtime::Spawn(loop, "ticker", [&] {
      // Bounded: stops when the syncs are done, or after 100000 yields.
      for (int i = 0; i < 100000 && syncing; ++i) {
        ++ticks_during_syncs;
        loop.Yield();
      }
    });
    auto file = (*fs)->Open("f", io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(file.ok());
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE((*file)->Append(io::contract::Bytes(std::string(4096, 'x'))).ok());
      ASSERT_TRUE((*file)->Sync().ok());
    }
    syncing = false;
    ticker.Join();
  });
  // Each of the 40 blocking calls let the ticker run at least once.
  EXPECT_GE(ticks_during_syncs, 20);
}

// The group-commit pattern the WAL relies on: while the committer fiber waits
// for fdatasync, another fiber runs and adds a record to the next batch. The
// client is woken just before each Sync starts, so it runs exactly while that
// Sync is in flight (FIFO: it is queued before the completion can be).
TEST(PosixFileSystemTest, GroupCommitFillsNextBatchDuringSync) {
  TempDir dir;
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok());
  constexpr int kRounds = 20;
  int records_added_during_sync = 0;
  std::vector<int> batch_sizes;
  RunInFiber(loop, [&] {
    auto file = (*fs)->Open("wal", io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(file.ok());
    std::vector<std::string> pending = {"first"};  // the next batch
    bool sync_in_flight = false;
    runtime::Event sync_started(loop);
    auto client = runtime::Spawn(loop, "client", [&] {
      for (int i = 0; i < kRounds; ++i) {
        sync_started.Wait();
        sync_started.Reset();
        if (sync_in_flight) ++records_added_during_sync;
        pending.push_back("record " + std::to_string(i));
      }
    });
    for (int round = 0; round < kRounds; ++round) {
      std::string batch;
      for (const std::string& record : pending) batch += record + "\n";
      batch_sizes.push_back(static_cast<int>(pending.size()));
      pending.clear();
      ASSERT_TRUE((*file)->Append(io::contract::Bytes(batch)).ok());
      sync_in_flight = true;
      sync_started.Set();
      ASSERT_TRUE((*file)->Sync().ok());
      sync_in_flight = false;
    }
    client.Join();
  });
  EXPECT_EQ(records_added_during_sync, kRounds);
  // Every batch after the first holds the record added during the previous sync.
  EXPECT_EQ(batch_sizes, std::vector<int>(kRounds, 1));
}

// Files and directories are created private unless the options say
// otherwise (the umask can only take bits away, so it is set permissive).
TEST(PosixFileModesTest, CreatedPrivateByDefaultAndAsConfigured) {
  const mode_t saved_umask = umask(022);
  for (const bool custom : {false, true}) {
    SCOPED_TRACE(custom ? "custom modes" : "default modes");
    TempDir root;
    EventLoop loop;
    PosixFileSystemOptions options;
    if (custom) {
      options.file_mode = 0640;
      options.dir_mode = 0750;
    }
    auto fs = PosixFileSystem::Open(loop, root.path(), options);
    ASSERT_TRUE(fs.ok()) << fs.status();
    RunInFiber(loop, [&] {
      ASSERT_TRUE((*fs)->CreateDir("d").ok());
      ASSERT_TRUE((*fs)->Open("d/f", io::OpenMode::kCreateExclusive).ok());
    });
    struct stat dir_info {};
    struct stat file_info {};
    ASSERT_EQ(stat((root.path() + "/d").c_str(), &dir_info), 0);
    ASSERT_EQ(stat((root.path() + "/d/f").c_str(), &file_info), 0);
    EXPECT_EQ(dir_info.st_mode & 0777, custom ? 0750u : 0700u);
    EXPECT_EQ(file_info.st_mode & 0777, custom ? 0640u : 0600u);
  }
  umask(saved_umask);
}

// The loop can be destroyed while a fiber still waits for the disk: the
// destructor lets the I/O finish, then unwinds the fiber.
TEST(PosixFileSystemTest, LoopShutdownWithIoInFlight) {
  TempDir dir;
  auto loop = std::make_unique<EventLoop>();
  auto fs = PosixFileSystem::Open(*loop, dir.path());
  ASSERT_TRUE(fs.ok());
  bool unwound = false;
  loop->StartFiber("syncer", [&] {
    struct Flag {
      bool& flag;
      ~Flag() { flag = true; }
    } flag{unwound};
    auto file = (*fs)->Open("f", io::OpenMode::kCreate);
    ASSERT_TRUE(file.ok());
    for (int i = 0; i < 1000; ++i) {
      (void)(*file)->Append(io::contract::Bytes("abc"));
      (void)(*file)->Sync();
    }
  });
  loop->StartFiber("stopper", [&] {
    loop->SleepFor(io::kNanosPerMilli);
    loop->Stop();
  });
  EXPECT_EQ(loop->Run(), RunOutcome::kStopped);
  loop.reset();
  EXPECT_TRUE(unwound);
}

}  // namespace
}  // namespace faultline::posix
