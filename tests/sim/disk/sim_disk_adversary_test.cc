// tests/sim/disk/sim_disk_adversary_test.cc — one test per defect found by
// probing the simulated disk for states a real crash cannot produce (or can
// produce but the disk never does), and for handles used while their calls
// are parked.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "core/io/errors.h"
#include "sim/disk/crash_enumerator.h"
#include "sim/disk/sim_file_system.h"
#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk {
namespace {

using testing::Bytes;
using testing::ReadAll;
using testing::World;

// A durable file `path` holding `content` (data and name synced).
void MakeDurableFile(World& world, const std::string& path, const std::string& content) {
  auto file = world.Open(path);
  ASSERT_TRUE(file->Append(Bytes(content)).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir(std::string(io::ParentDir(path))).ok());
}

// --- handles closed or destroyed while a call on them is parked -------------

// The file is removed (durably) and its last handle is closed while a write
// through that handle sleeps in the disk's latency: the write must fail with
// FailedPrecondition and must not land in any other file.
TEST(SimDiskAdversaryTest, CloseWhileAWriteIsParkedFailsTheWrite) {
  World world;
  MakeDurableFile(world, "f", "A");
  auto file = world.Open("f", io::OpenMode::kReadWrite);
  ASSERT_TRUE(world.fs().Remove("f").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  world.disk.plan().latency.write = LatencyModel::Fixed(1'000);
  absl::Status parked_write;
  world.scheduler.StartFiber("writer", [&] { parked_write = file->Append(Bytes("xyz")); });
  world.scheduler.StartFiber("closer", [&] {
    world.scheduler.SleepFor(500);
    EXPECT_TRUE(file->Close().ok());
    auto other = world.fs().Open("g", io::OpenMode::kCreate);
    EXPECT_TRUE(other.ok());
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(parked_write)) << parked_write;
  DiskImage expected;
  expected.files["g"] = "";
  EXPECT_EQ(world.disk.CacheImage(world.node), expected);
}

// Same, but the handle is destroyed (the contract allows it) and the parked
// call is a sync.
TEST(SimDiskAdversaryTest, DestroyWhileASyncIsParkedFailsTheSync) {
  World world;
  std::unique_ptr<io::File> file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("A")).ok());
  ASSERT_TRUE(world.fs().Remove("f").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  world.disk.plan().latency.sync = LatencyModel::Fixed(1'000);
  absl::Status parked_sync;
  world.scheduler.StartFiber("syncer", [&, raw = file.get()] { parked_sync = raw->Sync(); });
  world.scheduler.StartFiber("closer", [&] {
    world.scheduler.SleepFor(500);
    file.reset();
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(parked_sync)) << parked_sync;
  EXPECT_EQ(world.fs().pending_op_count(), 0u);
}

// --- namespace ordering -------------------------------------------------------

// A durable file renamed into a directory whose creation is not durable: a
// crash keeps it under its old name or its new one, never neither (the
// rename's new entry lives in the new directory, so it cannot outlive the
// directory's creation on a journaling file system).
TEST(SimDiskAdversaryTest, RenameIntoAnUndurableDirectoryNeverLosesTheFile) {
  World world;
  MakeDurableFile(world, "f", "A");
  ASSERT_TRUE(world.fs().CreateDir("d").ok());
  ASSERT_TRUE(world.fs().Rename("f", "d/f").ok());
  const CrashStates all = EnumerateCrashStates(world.disk, world.node, {});
  ASSERT_TRUE(all.complete);
  for (const DiskImage& state : all.states) {
    const bool old_name = state.files.count("f") > 0 && state.files.at("f") == "A";
    const bool new_name = state.files.count("d/f") > 0 && state.files.at("d/f") == "A";
    EXPECT_TRUE(old_name != new_name) << "files: " << state.files.size()
                                      << " dirs: " << state.dirs.size();
  }
}

// Two levels: the rename's target directory is durable only if its own
// parent's creation is (a directory without a durable parent is dropped
// with everything in it).
TEST(SimDiskAdversaryTest, RenameIntoANestedUndurableDirectoryNeverLosesTheFile) {
  World world;
  MakeDurableFile(world, "f", "A");
  ASSERT_TRUE(world.fs().CreateDir("d").ok());
  ASSERT_TRUE(world.fs().CreateDir("d/e").ok());
  ASSERT_TRUE(world.fs().Rename("f", "d/e/f").ok());
  const CrashStates all = EnumerateCrashStates(world.disk, world.node, {});
  ASSERT_TRUE(all.complete);
  for (const DiskImage& state : all.states) {
    const bool old_name = state.files.count("f") > 0 && state.files.at("f") == "A";
    const bool new_name = state.files.count("d/e/f") > 0 && state.files.at("d/e/f") == "A";
    EXPECT_TRUE(old_name != new_name) << "files: " << state.files.size()
                                      << " dirs: " << state.dirs.size();
  }
}

// --- crash arms ---------------------------------------------------------------

// An arm's on_fire that (against its contract) makes the node crash through
// another arm: the node is already dead when the first arm settles, so the
// first arm is spent without effect — the process crash that happened is
// not turned into a power loss afterwards.
TEST(SimDiskAdversaryTest, ArmWhoseOnFireCrashedTheNodeSettlesNothingMore) {
  World world(testing::WithCrash(testing::DropEverything()));
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("x")).ok());
  world.fs().ArmCrash(CrashArm{
      .ops = ArmedOps::kAnyOp,
      .kind = CrashKind::kPowerLoss,
      .label = "outer",
      .on_fire = [&](const CrashArm&) {
        world.fs().ArmCrash(CrashArm{.kind = CrashKind::kProcess, .label = "inner"});
        EXPECT_TRUE(io::IsNodeDead(world.fs().Exists("f").status()));
      }});
  EXPECT_TRUE(io::IsNodeDead(world.fs().Exists("f").status()));
  EXPECT_FALSE(world.scheduler.IsAlive(world.node));
  world.disk.Crash(world.node);  // already settled: a no-op
  world.scheduler.Restart(world.node, "main", [] {});
  DiskImage expected;
  expected.files["f"] = "x";  // a process crash keeps the page cache
  EXPECT_EQ(world.disk.CacheImage(world.node), expected);
}

// --- latent sector errors --------------------------------------------------

// A file of four durable sectors of 'a', the second one unreadable.
std::unique_ptr<io::File> FileWithBadSector(World& world) {
  MakeDurableFile(world, "f", std::string(2048, 'a'));
  EXPECT_TRUE(world.disk.AddLatentSectorError(world.node, "f", 1).ok());
  return world.Open("f", io::OpenMode::kReadWrite);
}

bool SectorReadable(io::File& file, uint64_t sector) {
  char buffer[16];
  return file.ReadAt(sector * 512, absl::Span<char>(buffer, sizeof(buffer))).ok();
}

// Rewriting a bad sector remaps it only when the write reaches the device:
// the page cache serves the new bytes, but a power loss that drops the write
// leaves the sector as unreadable as before.
TEST(SimDiskAdversaryTest, AnUnsyncedRewriteOfABadSectorDoesNotSurviveAPowerLoss) {
  World world(testing::WithCrash(testing::DropEverything()));
  auto file = FileWithBadSector(world);
  EXPECT_FALSE(SectorReadable(*file, 1));
  ASSERT_TRUE(file->WriteAt(512, Bytes(std::string(512, 'b'))).ok());
  EXPECT_TRUE(SectorReadable(*file, 1));  // from the cache
  world.CrashAndRestart();
  file = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_FALSE(SectorReadable(*file, 1));
}

TEST(SimDiskAdversaryTest, ASyncedRewriteOfABadSectorRemapsIt) {
  World world(testing::WithCrash(testing::DropEverything()));
  auto file = FileWithBadSector(world);
  ASSERT_TRUE(file->WriteAt(512, Bytes(std::string(512, 'b'))).ok());
  ASSERT_TRUE(file->Sync().ok());
  world.CrashAndRestart();
  file = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_TRUE(SectorReadable(*file, 1));
  EXPECT_EQ(ReadAll(*file).substr(512, 512), std::string(512, 'b'));
}

// A rewrite that a power loss persisted whole remapped the sector too.
TEST(SimDiskAdversaryTest, APersistedRewriteOfABadSectorRemapsIt) {
  World world(testing::WithCrash(testing::KeepEverything()));
  auto file = FileWithBadSector(world);
  ASSERT_TRUE(file->WriteAt(512, Bytes(std::string(512, 'b'))).ok());
  world.CrashAndRestart();
  file = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_TRUE(SectorReadable(*file, 1));
}

// Truncating below a bad sector frees its block: a later write there gets a
// fresh block, readable even where the write covers the sector only partly.
TEST(SimDiskAdversaryTest, ATruncateBelowABadSectorFreesIt) {
  World world(testing::WithCrash(testing::DropEverything()));
  auto file = FileWithBadSector(world);
  ASSERT_TRUE(file->Truncate(0).ok());
  ASSERT_TRUE(file->WriteAt(0, Bytes(std::string(600, 'c'))).ok());
  EXPECT_TRUE(SectorReadable(*file, 1));  // from the cache
  ASSERT_TRUE(file->Sync().ok());
  world.CrashAndRestart();
  file = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_TRUE(SectorReadable(*file, 1));
  EXPECT_EQ(ReadAll(*file), std::string(600, 'c'));
}

// --- arguments ------------------------------------------------------------

// As on POSIX (and core/posix): an offset past INT64_MAX is InvalidArgument
// even for a zero-byte write, and a read whose range ends past it is too.
TEST(SimDiskAdversaryTest, OffsetsPastTheLargestAreRejectedWhateverTheLength) {
  World world;
  auto file = world.Open("f");
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(absl::IsInvalidArgument(file->WriteAt(kMax + 1, {})));
  EXPECT_TRUE(absl::IsInvalidArgument(file->WriteAt(~uint64_t{0}, {})));
  EXPECT_TRUE(file->WriteAt(kMax, {}).ok());
  char buffer[16];
  EXPECT_TRUE(absl::IsInvalidArgument(
      file->ReadAt(kMax - 4, absl::Span<char>(buffer, sizeof(buffer))).status()));
  EXPECT_TRUE(file->ReadAt(kMax - 16, absl::Span<char>(buffer, sizeof(buffer))).ok());
  EXPECT_EQ(file->Size().value(), 0u);
}

// --- failed syncs -----------------------------------------------------------

// Writeback fails page by page: a failed sync may have put some of its data
// on the device. With failed_sync_writes_partway (and every pending op
// persisted at a crash), the failed sync's bytes are durable even though no
// later sync saves them; the cache (ext4) serves them meanwhile.
TEST(SimDiskAdversaryTest, AFailedSyncMayHaveWrittenItsDataPartway) {
  FaultPlan plan = testing::WithCrash(testing::KeepEverything());
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = 2, .action = FaultAction::kEio});
  World world(plan, DiskOptions{.failed_sync_writes_partway = true});
  auto file = world.Open("f");
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE(file->Append(Bytes("AAAA")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append(Bytes("BBBB")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  EXPECT_EQ(world.fs().pending_op_count(), 0u);
  EXPECT_EQ(world.disk.DurableImage(world.node).files["f"], "AAAABBBB");
  world.CrashAndRestart();
  EXPECT_EQ(world.disk.CacheImage(world.node).files["f"], "AAAABBBB");
}

// With the crash rates dropping everything, the same failed sync wrote
// nothing: the btrfs cache reverts to the durable bytes.
TEST(SimDiskAdversaryTest, AFailedSyncThatWroteNothingRevertsTheBtrfsCache) {
  FaultPlan plan = testing::WithCrash(testing::DropEverything());
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = 2, .action = FaultAction::kEio});
  World world(plan, DiskOptions{.fsync_profile = FsyncFailureProfile::kBtrfs,
                                .failed_sync_writes_partway = true});
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("AAAA")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append(Bytes("BBBB")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  EXPECT_EQ(ReadAll(*file), "AAAA");
}

// --- process crash in the middle of a write ------------------------------------

// kill -9 can interrupt write(2) between pages: after the restart the page
// cache holds a page-aligned prefix of the write, never durable until
// synced. A mid-write arm produces that state (without it, a process crash
// leaves each write whole or absent in the cache).
TEST(SimDiskAdversaryTest, AProcessCrashMidWriteLeavesAPageAlignedPrefix) {
  World world;
  MakeDurableFile(world, "f", std::string(100, 'a'));
  auto file = world.Open("f", io::OpenMode::kReadWrite);
  world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kWrite, .kind = CrashKind::kProcess,
                               .mid_write = true, .label = "kill -9 mid-write"});
  const std::string data(3 * 4096, 'b');
  EXPECT_TRUE(io::IsNodeDead(file->Append(Bytes(data))));
  EXPECT_FALSE(world.scheduler.IsAlive(world.node));
  world.scheduler.Restart(world.node, "main", [] {});
  const std::string seen = world.disk.CacheImage(world.node).files["f"];
  ASSERT_GT(seen.size(), 100u);
  ASSERT_LT(seen.size(), 100u + data.size());
  EXPECT_EQ(seen.size() % 4096, 0u);
  EXPECT_EQ(seen, std::string(100, 'a') + std::string(seen.size() - 100, 'b'));
  EXPECT_EQ(world.disk.DurableImage(world.node).files["f"], std::string(100, 'a'));
}

// A write inside one page has no boundary to stop at: nothing lands.
TEST(SimDiskAdversaryTest, AProcessCrashMidWriteInsideOnePageLandsNothing) {
  World world;
  MakeDurableFile(world, "f", "a");
  auto file = world.Open("f", io::OpenMode::kReadWrite);
  world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kWrite, .kind = CrashKind::kProcess,
                               .mid_write = true, .label = "kill -9 mid-write"});
  EXPECT_TRUE(io::IsNodeDead(file->WriteAt(10, Bytes(std::string(4000, 'b')))));
  world.scheduler.Restart(world.node, "main", [] {});
  EXPECT_EQ(world.disk.CacheImage(world.node).files["f"], "a");
}

}  // namespace
}  // namespace faultline::sim::disk
