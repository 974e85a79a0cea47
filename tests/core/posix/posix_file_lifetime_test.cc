// tests/core/posix/posix_file_lifetime_test.cc — closing a file or destroying
// the file system while a call of another fiber still waits for the I/O pool.
// The pool job must not run on a descriptor number the kernel has meanwhile
// handed to another file, nor read freed memory. A PoolGate holds the only
// pool thread so that the job is certainly queued when the test acts; a file
// opened then gets the lowest free number — the one just closed, if it was.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

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
using ::faultline::posix::testing::OpenFdCount;
using ::faultline::posix::testing::OpenGateOnExit;
using ::faultline::posix::testing::PoolGate;
using ::faultline::posix::testing::RunInFiber;
using ::faultline::posix::testing::TempDir;

std::string ReadHostFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteHostFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

EventLoopOptions OnePoolThread() {
  EventLoopOptions options;
  options.io_threads = 1;
  return options;
}

// Yields until `count` blocking calls are queued or running (bounded).
void AwaitInflightIo(EventLoop& loop, size_t count) {
  for (int i = 0; i < 1000 && loop.inflight_io() < count; ++i) loop.Yield();
}

enum class HowReleased { kClose, kDestroy };

class ReleaseWithIoInFlightTest : public ::testing::TestWithParam<HowReleased> {};

// A WriteAtAndSync is queued; another fiber closes (or destroys) the handle
// and opens a decoy file. The write and the sync must still reach the
// original file: the descriptor stays open until the queued call finished.
TEST_P(ReleaseWithIoInFlightTest, QueuedWriteNeverReachesAFileThatReusedTheFd) {
  TempDir dir;
  EventLoop loop(OnePoolThread());
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok()) << fs.status();
  const std::string decoy_path = dir.path() + "/decoy";
  WriteHostFile(decoy_path, "decoy bytes");
  absl::Status write_status = absl::UnknownError("not run");
  RunInFiber(loop, [&] {
    auto gate = std::make_shared<PoolGate>();
    OpenGateOnExit open_gate(gate);
    auto file = (*fs)->Open("data", io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(file.ok()) << file.status();
    auto blocker = runtime::Spawn(loop, "blocker", [&loop, gate] {
      loop.RunBlocking([&] { gate->Wait(); });
    });
    io::File* raw_file = file->get();
    auto writer = runtime::Spawn(loop, "writer", [&] {
      write_status = raw_file->WriteAtAndSync(0, Bytes("payload"));
    });
    AwaitInflightIo(loop, 2);  // the blocker's job holds the thread, the writer's waits
    ASSERT_EQ(loop.inflight_io(), 2u);
    if (GetParam() == HowReleased::kClose) {
      ASSERT_TRUE((*file)->Close().ok());
    } else {
      file->reset();
    }
    const int decoy_fd = open(decoy_path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(decoy_fd, 0);
    gate->Open();
    writer.Join();
    blocker.Join();
    close(decoy_fd);
  });
  EXPECT_TRUE(write_status.ok()) << write_status;
  EXPECT_EQ(ReadHostFile(decoy_path), "decoy bytes");
  EXPECT_EQ(ReadHostFile(dir.path() + "/data"), "payload");
}

INSTANTIATE_TEST_SUITE_P(CloseOrDestroy, ReleaseWithIoInFlightTest,
                         ::testing::Values(HowReleased::kClose, HowReleased::kDestroy));

// After Close with a call in flight, the handle refuses new calls at once,
// and the in-flight call completes normally.
TEST(PosixFileLifetimeTest, CloseWithIoInFlightRefusesNewCalls) {
  TempDir dir;
  EventLoop loop(OnePoolThread());
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok()) << fs.status();
  RunInFiber(loop, [&] {
    auto gate = std::make_shared<PoolGate>();
    OpenGateOnExit open_gate(gate);
    auto file = (*fs)->Open("data", io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(file.ok()) << file.status();
    auto blocker = runtime::Spawn(loop, "blocker", [&loop, gate] {
      loop.RunBlocking([&] { gate->Wait(); });
    });
    absl::Status sync_status = absl::UnknownError("not run");
    auto syncer = runtime::Spawn(loop, "syncer", [&] { sync_status = (*file)->Sync(); });
    AwaitInflightIo(loop, 2);
    ASSERT_TRUE((*file)->Close().ok());
    EXPECT_TRUE(absl::IsFailedPrecondition((*file)->Sync()));
    EXPECT_TRUE((*file)->Close().ok());  // idempotent
    gate->Open();
    syncer.Join();
    blocker.Join();
    EXPECT_TRUE(sync_status.ok()) << sync_status;
  });
}

// The file system is destroyed after Run() stopped, before the loop, while an
// Open waits in the pool queue; a directory opened meanwhile takes the lowest
// free fd. When the loop drains its pool, the queued open must still create
// the file in the root — not in that directory, and (ASan) without reading
// the destroyed file system.
TEST(PosixFileLifetimeTest, FileSystemDestroyedBeforeTheLoopWithAnOpenQueued) {
  TempDir dir;
  TempDir elsewhere;
  auto gate = std::make_shared<PoolGate>();
  auto loop = std::make_unique<EventLoop>(OnePoolThread());
  OpenGateOnExit open_gate(gate);  // destroyed before the loop
  auto fs = PosixFileSystem::Open(*loop, dir.path());
  ASSERT_TRUE(fs.ok()) << fs.status();
  PosixFileSystem* raw_fs = fs->get();
  loop->StartFiber("blocker", [&loop, gate] { loop->RunBlocking([&] { gate->Wait(); }); });
  loop->StartFiber("creator", [raw_fs] {
    (void)raw_fs->Open("created", io::OpenMode::kCreateExclusive);
  });
  loop->StartFiber("stopper", [&] {
    AwaitInflightIo(*loop, 2);
    loop->Stop();
  });
  ASSERT_EQ(loop->Run(), RunOutcome::kStopped);
  ASSERT_EQ(loop->inflight_io(), 2u);
  fs->reset();
  const int decoy_fd = open(elsewhere.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(decoy_fd, 0);
  gate->Open();
  loop.reset();  // runs the queued open, then unwinds the fibers
  close(decoy_fd);
  EXPECT_EQ(access((dir.path() + "/created").c_str(), F_OK), 0);
  EXPECT_NE(access((elsewhere.path() + "/created").c_str(), F_OK), 0);
}

// The loop is destroyed while an Open and a LockFile wait in the pool queue.
// Its destructor runs the queued jobs — which open descriptors and take the
// flock — and then unwinds the waiting fibers. Those descriptors belong to
// the unwinding calls: they must be closed, and the lock released, not left
// to the process (where the lock would refuse the directory's next owner).
TEST(PosixFileLifetimeTest, LoopDestroyedWithAnOpenAndALockQueuedLeaksNothing) {
  TempDir dir;
  ASSERT_EQ(mkdir((dir.path() + "/wal").c_str(), 0700), 0);
  const int fds_before = OpenFdCount();
  {
    auto gate = std::make_shared<PoolGate>();
    auto loop = std::make_unique<EventLoop>(OnePoolThread());
    OpenGateOnExit open_gate(gate);  // destroyed before the loop
    auto fs = PosixFileSystem::Open(*loop, dir.path());
    ASSERT_TRUE(fs.ok()) << fs.status();
    PosixFileSystem* raw_fs = fs->get();
    bool returned = false;
    loop->StartFiber("blocker", [&loop, gate] { loop->RunBlocking([&] { gate->Wait(); }); });
    loop->StartFiber("opener", [raw_fs, &returned] {
      (void)raw_fs->Open("created", io::OpenMode::kCreateExclusive);
      returned = true;
    });
    loop->StartFiber("locker", [raw_fs, &returned] {
      (void)raw_fs->LockFile("wal");
      returned = true;
    });
    loop->StartFiber("stopper", [&] {
      AwaitInflightIo(*loop, 3);
      loop->Stop();
    });
    ASSERT_EQ(loop->Run(), RunOutcome::kStopped);
    ASSERT_EQ(loop->inflight_io(), 3u);
    fs->reset();
    gate->Open();
    loop.reset();  // runs the queued open and lock, then unwinds the fibers
    EXPECT_FALSE(returned);
  }
  EXPECT_EQ(access((dir.path() + "/created").c_str(), F_OK), 0);
  EXPECT_EQ(OpenFdCount(), fds_before);
  // The directory has no owner left: a new file system may lock it.
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok()) << fs.status();
  RunInFiber(loop, [&] {
    auto lock = (*fs)->LockFile("wal");
    EXPECT_TRUE(lock.ok()) << lock.status();
  });
}

// The loop is destroyed while one fiber's Sync holds the handle's turn to
// sync (queued in the pool) and others wait for that turn or for the append
// lock. Every waiter unwinds, the handle (destroyed by its owner's unwind)
// closes its descriptor, and nothing runs on freed state (ASan).
TEST(PosixFileLifetimeTest, LoopDestroyedWithSyncsWaitingForTheirTurn) {
  TempDir dir;
  const int fds_before = OpenFdCount();
  {
    auto gate = std::make_shared<PoolGate>();
    auto loop = std::make_unique<EventLoop>(OnePoolThread());
    OpenGateOnExit open_gate(gate);
    auto fs = PosixFileSystem::Open(*loop, dir.path());
    ASSERT_TRUE(fs.ok()) << fs.status();
    int finished = 0;
    loop->StartFiber("owner", [&] {
      auto file = (*fs)->Open("data", io::OpenMode::kCreateExclusive);
      ASSERT_TRUE(file.ok()) << file.status();
      io::File* raw_file = file->get();
      loop->StartFiber("blocker", [&loop, gate] { loop->RunBlocking([&] { gate->Wait(); }); });
      for (int i = 0; i < 3; ++i) {
        loop->StartFiber("syncer", [raw_file, &finished] {
          (void)raw_file->WriteAtAndSync(0, Bytes("x"));
          ++finished;
        });
        loop->StartFiber("appender", [raw_file, &finished] {
          (void)raw_file->Append(Bytes("y"));
          ++finished;
        });
      }
      AwaitInflightIo(*loop, 3);  // the blocker, one sync, one append
      for (int i = 0; i < 10; ++i) loop->Yield();
      loop->Stop();
      loop->Yield();  // parks the owner, with the file open, until the end
    });
    ASSERT_EQ(loop->Run(), RunOutcome::kStopped);
    ASSERT_EQ(loop->inflight_io(), 3u);
    gate->Open();
    loop.reset();
    EXPECT_EQ(finished, 0);
  }
  EXPECT_EQ(OpenFdCount(), fds_before);
}

// A lock may outlive the file system and the loop that made it (a Wal's
// lock is dropped with its last reference, which shutdown order does not
// fix): it holds nothing but its descriptor, and destroying it late still
// releases the directory.
TEST(PosixFileLifetimeTest, LockOutlivesTheFileSystemAndTheLoop) {
  TempDir dir;
  ASSERT_EQ(mkdir((dir.path() + "/wal").c_str(), 0700), 0);
  std::unique_ptr<io::FileLock> lock;
  {
    EventLoop loop;
    auto fs = PosixFileSystem::Open(loop, dir.path());
    ASSERT_TRUE(fs.ok()) << fs.status();
    RunInFiber(loop, [&] {
      auto taken = (*fs)->LockFile("wal");
      ASSERT_TRUE(taken.ok()) << taken.status();
      lock = std::move(*taken);
    });
  }
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, dir.path());
  ASSERT_TRUE(fs.ok()) << fs.status();
  RunInFiber(loop, [&] {
    EXPECT_TRUE(absl::IsFailedPrecondition((*fs)->LockFile("wal").status()));
    lock.reset();
    EXPECT_TRUE((*fs)->LockFile("wal").ok());
  });
}

}  // namespace
}  // namespace faultline::posix
