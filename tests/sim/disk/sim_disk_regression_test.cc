// tests/sim/disk/sim_disk_regression_test.cc — one test per defect found in
// a review of the simulated disk against its contract: namespace ops made
// durable out of issue order, rules that never fired or were spent without
// effect, huge offsets, the tear of the newest pending write, the durable
// image's orphans, bit flips over a failed sync's bytes, operations of an
// old incarnation, and pending ops left under a removed directory.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "core/io/errors.h"
#include "sim/disk/sim_file_system.h"
#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk {
namespace {

using testing::Bytes;
using testing::DropEverything;
using testing::KeepEverything;
using testing::ReadAll;
using testing::WithCrash;
using testing::World;

void MakeDirs(World& world) {
  ASSERT_TRUE(world.fs().CreateDir("d1").ok());
  ASSERT_TRUE(world.fs().CreateDir("d2").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
}

// A durable file `path` holding `content` (data and name synced).
void MakeDurableFile(World& world, const std::string& path, const std::string& content) {
  auto file = world.Open(path);
  ASSERT_TRUE(file->Append(Bytes(content)).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir(std::string(io::ParentDir(path))).ok());
}

// --- 1: SyncDir in issue order, one name per inode --------------------------

TEST(SimDiskRegressionTest, CreateThenCrossDirRenameHasOneDurableName) {
  World world(WithCrash(DropEverything()));
  MakeDirs(world);
  auto file = world.Open("d1/a");
  ASSERT_TRUE(file->Append(Bytes("x")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().Rename("d1/a", "d2/b").ok());
  ASSERT_TRUE(world.fs().SyncDir("d2").ok());
  ASSERT_TRUE(world.fs().SyncDir("d1").ok());
  DiskImage expected;
  expected.dirs = {"d1", "d2"};
  expected.files["d2/b"] = "x";
  EXPECT_EQ(world.disk.DurableImage(world.node), expected);
  EXPECT_EQ(world.fs().pending_op_count(), 0u);
  world.CrashAndRestart();
  EXPECT_EQ(world.disk.CacheImage(world.node), expected);
  // Removing the file (it has one name) must not trip the disk's checks.
  ASSERT_TRUE(world.fs().Remove("d2/b").ok());
  EXPECT_FALSE(world.fs().Exists("d1/a").value());
}

TEST(SimDiskRegressionTest, RenameChainAcrossDirsEndsAtTheLastName) {
  World world(WithCrash(DropEverything()));
  MakeDirs(world);
  MakeDurableFile(world, "d1/a", "x");
  ASSERT_TRUE(world.fs().Rename("d1/a", "d1/b").ok());
  ASSERT_TRUE(world.fs().Rename("d1/b", "d2/c").ok());
  ASSERT_TRUE(world.fs().SyncDir("d2").ok());
  ASSERT_TRUE(world.fs().SyncDir("d1").ok());
  world.CrashAndRestart();
  DiskImage expected;
  expected.dirs = {"d1", "d2"};
  expected.files["d2/c"] = "x";
  EXPECT_EQ(world.disk.CacheImage(world.node), expected);
}

TEST(SimDiskRegressionTest, NamesNeverShareACacheInodeAfterACrash) {
  World world(WithCrash(DropEverything()));
  MakeDirs(world);
  auto file = world.Open("d1/a");
  ASSERT_TRUE(world.fs().Rename("d1/a", "d2/b").ok());
  ASSERT_TRUE(world.fs().SyncDir("d2").ok());
  ASSERT_TRUE(world.fs().SyncDir("d1").ok());
  world.CrashAndRestart();
  // Write through every surviving name: no write may show through another.
  for (const auto& [path, bytes] : world.disk.CacheImage(world.node).files) {
    auto handle = world.Open(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(handle->Append(Bytes(path)).ok());
  }
  for (const auto& [path, bytes] : world.disk.CacheImage(world.node).files) EXPECT_EQ(bytes, path);
  for (const auto& [path, bytes] : world.disk.CacheImage(world.node).files) {
    EXPECT_TRUE(world.fs().Remove(path).ok());
  }
}

// A crash keeps a rename only with the ops before it on the same names: a
// durable file renamed away, its old name reused, is never lost entirely.
TEST(SimDiskRegressionTest, CrashNeverLosesAFileWhoseOldNameWasReused) {
  for (uint64_t seed = 1; seed <= 64; ++seed) {
    World world({}, {}, seed);
    MakeDurableFile(world, "a", "one");
    ASSERT_TRUE(world.fs().Rename("a", "b").ok());
    auto fresh = world.Open("a");
    world.CrashAndRestart();
    const DiskImage image = world.disk.DurableImage(world.node);
    const bool kept = (image.files.count("a") > 0 && image.files.at("a") == "one") ||
                      (image.files.count("b") > 0 && image.files.at("b") == "one");
    EXPECT_TRUE(kept) << "seed " << seed;
  }
}

// Issue 19: a rename across directories needs both parents synced.
TEST(SimDiskRegressionTest, CrossDirRenameNeedsBothParentsSynced) {
  for (const char* synced : {"d1", "d2"}) {
    World world(WithCrash(DropEverything()));
    MakeDirs(world);
    MakeDurableFile(world, "d1/a", "x");
    ASSERT_TRUE(world.fs().Rename("d1/a", "d2/b").ok());
    ASSERT_TRUE(world.fs().SyncDir(synced).ok());
    world.CrashAndRestart();
    EXPECT_TRUE(world.fs().Exists("d1/a").value()) << "synced only " << synced;
    EXPECT_FALSE(world.fs().Exists("d2/b").value()) << "synced only " << synced;
  }
}

// --- 2: kCrashAfter on reads ----------------------------------------------

TEST(SimDiskRegressionTest, CrashAfterRuleFiresOnReads) {
  FaultPlan plan;
  plan.rules.push_back({.node = 1, .op = DiskOp::kRead, .nth = 1, .action = FaultAction::kCrashAfter});
  World world(plan);
  auto file = world.Open("f");
  char byte = 0;
  EXPECT_TRUE(io::IsNodeDead(file->ReadAt(0, absl::Span<char>(&byte, 1)).status()));
  EXPECT_FALSE(world.scheduler.IsAlive(world.node));
  EXPECT_EQ(world.disk.stats().count(FaultKind::kInjectedCrash), 1u);
}

// --- 3: huge offsets --------------------------------------------------------

TEST(SimDiskRegressionTest, HugeOffsetsAreRefusedWithoutSideEffects) {
  World world(WithCrash(KeepEverything()), DiskOptions{.capacity_bytes = 1 << 20});
  auto file = world.Open("f");
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_TRUE(absl::IsInvalidArgument(file->WriteAt(max - 1, Bytes("ZZZZ"))));
  EXPECT_TRUE(absl::IsInvalidArgument(file->Truncate(max)));
  const absl::Status huge_write = file->WriteAt(uint64_t{1} << 62, Bytes("x"));
  EXPECT_FALSE(huge_write.ok());
  EXPECT_EQ(io::ErrnoOf(huge_write), EFBIG) << huge_write;
  const absl::Status huge_truncate = file->Truncate(uint64_t{1} << 62);
  EXPECT_EQ(io::ErrnoOf(huge_truncate), EFBIG) << huge_truncate;
  // Nothing was reserved, nothing changed.
  EXPECT_TRUE(file->Append(Bytes("ok")).ok());
  EXPECT_EQ(ReadAll(*file), "ok");
}

// --- 4: every counted op can fault ------------------------------------------

TEST(SimDiskRegressionTest, RulesFireOnNoOpRenameMkdirAndErrseqSync) {
  FaultPlan plan;
  plan.rules.push_back({.node = 1, .op = DiskOp::kRename, .nth = 1, .action = FaultAction::kCrashAfter});
  {
    World world(plan);
    auto file = world.Open("x");
    EXPECT_TRUE(io::IsNodeDead(world.fs().Rename("x", "x")));
    EXPECT_FALSE(world.scheduler.IsAlive(world.node));
  }
  plan.rules = {{.node = 1, .op = DiskOp::kCreateDir, .nth = 2, .action = FaultAction::kEio}};
  {
    World world(plan);
    ASSERT_TRUE(world.fs().CreateDir("d").ok());
    EXPECT_TRUE(io::IsIoError(world.fs().CreateDir("d")));
  }
  plan.rules = {{.node = 1, .op = DiskOp::kSync, .nth = 1, .action = FaultAction::kEio},
                {.node = 1, .op = DiskOp::kSync, .nth = 2, .action = FaultAction::kCrashAfter}};
  {
    World world(plan);
    auto first = world.Open("f");
    auto second = world.Open("f");
    EXPECT_TRUE(io::IsIoError(first->Sync()));
    EXPECT_TRUE(io::IsNodeDead(second->Sync()));  // its errseq report dies with the node
    EXPECT_FALSE(world.scheduler.IsAlive(world.node));
  }
  plan.rules = {{.node = 1, .op = DiskOp::kOpen, .nth = 2, .action = FaultAction::kEio}};
  {
    World world(plan);
    auto file = world.Open("f");
    EXPECT_TRUE(io::IsIoError(world.fs().Open("f", io::OpenMode::kReadWrite).status()));
  }
}

// --- 5: tear the newest pending write -----------------------------------------

TEST(SimDiskRegressionTest, TearLastWriteTearsTheNewestPendingWrite) {
  World world(WithCrash(KeepEverything()));
  auto torn = world.Open("torn");
  auto synced = world.Open("synced");
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE(torn->Append(Bytes(std::string(1024, 'a'))).ok());
  ASSERT_TRUE(torn->Sync().ok());
  ASSERT_TRUE(torn->WriteAt(0, Bytes(std::string(1024, 'b'))).ok());
  ASSERT_TRUE(synced->Append(Bytes("s")).ok());
  ASSERT_TRUE(synced->Sync().ok());  // the newest write is durable: not the one to tear
  world.CrashAndRestart(CrashOptions{.tear_last_write = true});
  EXPECT_EQ(world.disk.DurableImage(world.node).files["torn"],
            std::string(512, 'b') + std::string(512, 'a'));
  EXPECT_EQ(world.disk.stats().count(FaultKind::kTornWrite), 1u);
}

// --- 7: the durable image, bit flips ----------------------------------------------

TEST(SimDiskRegressionTest, DurableImageLeavesOutOrphans) {
  World world(WithCrash(DropEverything()));
  ASSERT_TRUE(world.fs().CreateDir("d").ok());
  MakeDurableFile(world, "d/f", "x");  // syncs d, not the root
  EXPECT_EQ(world.disk.DurableImage(world.node), DiskImage{});
  world.CrashAndRestart();
  EXPECT_EQ(world.disk.CacheImage(world.node), DiskImage{});
}

TEST(SimDiskRegressionTest, BitFlipNeverShowsAValueThatNeverExisted) {
  FaultPlan plan;
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = 2, .action = FaultAction::kEio});
  World world(plan, DiskOptions{.failed_sync_writes_partway = false});  // durable stays 'A'
  MakeDurableFile(world, "f", "A");
  auto file = world.Open("f", io::OpenMode::kReadWrite);
  ASSERT_TRUE(file->WriteAt(0, Bytes("B")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));  // ext4: the cache keeps "B"
  ASSERT_TRUE(world.disk.FlipDurableBit(world.node, "f", 0).ok());  // durable 'A' ^ 1 = '@'
  const std::string seen = ReadAll(*file);
  EXPECT_TRUE(seen == "B" || seen == "@") << seen;
}

// --- 8: old incarnations, missing paths, removed directories --------------------

TEST(SimDiskRegressionTest, ParkedOpOfAnOldIncarnationNeverFiresARule) {
  FaultPlan plan;
  plan.latency.write = LatencyModel::Fixed(1'000);
  plan.rules.push_back({.node = 1, .op = DiskOp::kWrite, .nth = 1, .action = FaultAction::kCrashBefore});
  World world(plan);
  auto file = world.Open("f");
  absl::Status old_write;
  // A harness fiber (not on the node) writes through the node's handle and
  // parks in the write's latency while the node crashes and restarts.
  world.scheduler.StartFiber("harness", [&] { old_write = file->Append(Bytes("x")); });
  world.scheduler.StartFiber("nemesis", [&] {
    world.scheduler.SleepFor(500);
    world.scheduler.Crash(world.node, "test");
    world.disk.Crash(world.node);
    world.scheduler.Restart(world.node, "main", [] {});
    EXPECT_TRUE(world.fs().Exists("f").ok());  // the new incarnation uses its disk
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_TRUE(io::IsNodeDead(old_write)) << old_write;
  EXPECT_TRUE(world.scheduler.IsAlive(world.node));
  EXPECT_EQ(world.disk.stats().count(FaultKind::kInjectedCrash), 0u);
}

TEST(SimDiskRegressionTest, OpsOnMissingPathsAreNotCounted) {
  FaultPlan plan;
  for (DiskOp op : {DiskOp::kOpen, DiskOp::kRename, DiskOp::kRemove, DiskOp::kSyncDir}) {
    plan.rules.push_back({.node = 1, .op = op, .nth = 1, .action = FaultAction::kEio});
  }
  World world(plan);
  EXPECT_TRUE(absl::IsNotFound(world.fs().Open("missing", io::OpenMode::kReadWrite).status()));
  EXPECT_TRUE(absl::IsNotFound(world.fs().Open("nodir/f", io::OpenMode::kCreate).status()));
  EXPECT_TRUE(absl::IsNotFound(world.fs().Rename("missing", "x")));
  EXPECT_TRUE(absl::IsNotFound(world.fs().Remove("missing")));
  EXPECT_TRUE(absl::IsNotFound(world.fs().SyncDir("nodir")));
  // The first real op of each class is the first counted: the rules fire now.
  EXPECT_TRUE(io::IsIoError(world.fs().Open("f", io::OpenMode::kCreate).status()));
  ASSERT_TRUE(world.fs().Open("f", io::OpenMode::kCreate).ok());
  EXPECT_TRUE(io::IsIoError(world.fs().Rename("f", "g")));
  EXPECT_TRUE(io::IsIoError(world.fs().Remove("f")));
  EXPECT_TRUE(io::IsIoError(world.fs().SyncDir("")));
}

TEST(SimDiskRegressionTest, OpsUnderADurablyRemovedDirectoryAreNotPending) {
  World world;
  ASSERT_TRUE(world.fs().CreateDir("d").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  {
    auto file = world.Open("d/f");
    ASSERT_TRUE(file->Append(Bytes("x")).ok());
  }
  ASSERT_TRUE(world.fs().Remove("d/f").ok());
  ASSERT_TRUE(world.fs().Remove("d").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  EXPECT_EQ(world.fs().pending_op_count(), 0u);
}

}  // namespace
}  // namespace faultline::sim::disk
