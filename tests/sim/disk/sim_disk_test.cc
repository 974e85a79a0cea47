// tests/sim/disk/sim_disk_test.cc — the simulated disk's durability rules and
// each fault of the fault plan, one scenario per behaviour, with crash
// outcomes pinned by CrashRates (all dropped / all persisted) so the
// expectations are exact.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/io/errors.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"
#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk {
namespace {

using testing::Bytes;
using testing::DropEverything;
using testing::KeepEverything;
using testing::ReadAll;
using testing::WithCrash;
using testing::World;

TEST(SimDiskTest, UnsyncedEverythingCanVanish) {
  World world(WithCrash(DropEverything()));
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("hello")).ok());
  world.CrashAndRestart();
  EXPECT_EQ(world.disk.DurableImage(world.node), DiskImage{});
  EXPECT_FALSE(world.fs().Exists("f").value());
  EXPECT_EQ(world.disk.stats().count(FaultKind::kDroppedWrite), 1u);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kDroppedNamespaceOp), 1u);
}

TEST(SimDiskTest, SyncWithoutDirSyncLosesTheName) {
  World world(WithCrash(DropEverything()));
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("hello")).ok());
  ASSERT_TRUE(file->Sync().ok());
  world.CrashAndRestart();
  EXPECT_FALSE(world.fs().Exists("f").value());
}

TEST(SimDiskTest, SyncPlusDirSyncSurvives) {
  World world(WithCrash(DropEverything()));
  ASSERT_TRUE(world.fs().CreateDir("d").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  auto file = world.Open("d/f");
  ASSERT_TRUE(file->Append(Bytes("hello")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir("d").ok());
  ASSERT_TRUE(file->Append(Bytes(" world")).ok());  // not synced: dropped
  world.CrashAndRestart();
  auto reopened = world.Open("d/f", io::OpenMode::kReadWrite);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(ReadAll(*reopened), "hello");
}

TEST(SimDiskTest, DirSyncOfAMissingParentLeavesAnOrphan) {
  World world(WithCrash(KeepEverything()));
  ASSERT_TRUE(world.fs().CreateDir("d").ok());
  auto file = world.Open("d/f");
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir("d").ok());
  // "d" itself was never made durable in the root: with the crash dropping
  // nothing pending it survives here, but the durable image alone (what a
  // crash persisting nothing pending leaves) lacks it and so "d/f".
  DiskImage durable = world.disk.DurableImage(world.node);
  EXPECT_EQ(durable.dirs.count("d"), 0u);
  EXPECT_EQ(durable.files.count("d/f"), 0u);
  World dropping(WithCrash(DropEverything()));
  ASSERT_TRUE(dropping.fs().CreateDir("d").ok());
  auto other = dropping.Open("d/f");
  ASSERT_TRUE(dropping.fs().SyncDir("d").ok());
  dropping.CrashAndRestart();
  EXPECT_EQ(dropping.disk.DurableImage(dropping.node), DiskImage{});  // orphan collected
}

TEST(SimDiskTest, RenameWithoutDirSyncMayBeUndone) {
  World world(WithCrash(DropEverything()));
  {
    auto old_file = world.Open("target");
    ASSERT_TRUE(old_file->Append(Bytes("old")).ok());
    ASSERT_TRUE(old_file->Sync().ok());
    ASSERT_TRUE(world.fs().SyncDir("").ok());
  }
  auto tmp = world.Open("tmp");
  ASSERT_TRUE(tmp->Append(Bytes("new")).ok());
  ASSERT_TRUE(tmp->Sync().ok());
  ASSERT_TRUE(world.fs().Rename("tmp", "target").ok());
  world.CrashAndRestart();
  DiskImage expected;
  expected.files["target"] = "old";
  EXPECT_EQ(world.disk.DurableImage(world.node), expected);
}

TEST(SimDiskTest, RenameWithoutDataSyncCanPersistAnEmptyFile) {
  // The classic bug: rename over the target without syncing the data first.
  FaultPlan plan;
  plan.crash = DropEverything();
  plan.crash.namespace_persist_ppm = 1'000'000;
  World world(plan);
  auto tmp = world.Open("tmp");
  ASSERT_TRUE(tmp->Append(Bytes("new")).ok());
  ASSERT_TRUE(world.fs().Rename("tmp", "target").ok());
  world.CrashAndRestart();
  DiskImage expected;
  expected.files["target"] = "";
  EXPECT_EQ(world.disk.DurableImage(world.node), expected);
}

TEST(SimDiskTest, FailedSyncDataNeverBecomesDurableExt4) {
  FaultPlan plan = WithCrash(KeepEverything());
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = 2, .action = FaultAction::kEio});
  // The mode where a failed sync writes none of its data (the other one is
  // in sim_disk_adversary_test).
  World world(plan, DiskOptions{.failed_sync_writes_partway = false});
  auto file = world.Open("f");
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE(file->Append(Bytes("AAAA")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append(Bytes("BBBB")).ok());
  absl::Status failed = file->Sync();
  EXPECT_TRUE(io::IsIoError(failed)) << failed;
  EXPECT_EQ(ReadAll(*file), "AAAABBBB");  // ext4: the cache still serves it
  ASSERT_TRUE(file->Append(Bytes("CCCC")).ok());
  ASSERT_TRUE(file->Sync().ok());  // succeeds, but does not save BBBB
  world.CrashAndRestart();
  DiskImage image = world.disk.DurableImage(world.node);
  EXPECT_EQ(image.files["f"], std::string("AAAA\0\0\0\0CCCC", 12));
  EXPECT_EQ(world.disk.stats().count(FaultKind::kSyncEio), 1u);
}

TEST(SimDiskTest, FailedSyncRevertsTheCacheBtrfs) {
  FaultPlan plan;
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = 2, .action = FaultAction::kEio});
  World world(plan, DiskOptions{.fsync_profile = FsyncFailureProfile::kBtrfs,
                                .failed_sync_writes_partway = false});
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("AAAA")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append(Bytes("BBBB")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  EXPECT_EQ(ReadAll(*file), "AAAA");
  EXPECT_EQ(file->Size().value(), 4u);
}

TEST(SimDiskTest, SyncErrorIsReportedOncePerOpenHandle) {
  FaultPlan plan;
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = 1, .action = FaultAction::kEio});
  World world(plan);
  auto first = world.Open("f");
  auto second = world.Open("f");
  ASSERT_TRUE(first->Append(Bytes("x")).ok());
  EXPECT_TRUE(io::IsIoError(first->Sync()));
  auto third = world.Open("f");  // opened after the failure: never told
  EXPECT_TRUE(io::IsIoError(second->Sync()));  // open at the failure: told once
  EXPECT_TRUE(second->Sync().ok());
  EXPECT_TRUE(first->Sync().ok());  // it got its error already
  EXPECT_TRUE(third->Sync().ok());
  EXPECT_EQ(world.disk.stats().count(FaultKind::kErrseqReport), 1u);
}

TEST(SimDiskTest, HandlesOfACrashedIncarnationAreDead) {
  World world;
  auto file = world.Open("f");
  world.scheduler.Crash(world.node, "test");
  EXPECT_TRUE(io::IsNodeDead(file->Append(Bytes("x"))));
  EXPECT_TRUE(io::IsNodeDead(world.fs().Open("g", io::OpenMode::kCreate).status()));
  world.disk.Crash(world.node);
  world.scheduler.Restart(world.node, "main", [] {});
  EXPECT_TRUE(io::IsNodeDead(file->Sync()));
  EXPECT_TRUE(file->Close().ok());
  auto fresh = world.Open("g");
  EXPECT_TRUE(fresh->Append(Bytes("y")).ok());
}

TEST(SimDiskTest, ForgottenDiskCrashIsResolvedOnRestart) {
  World world(WithCrash(DropEverything()));
  auto file = world.Open("f");
  world.scheduler.Crash(world.node, "test");
  world.scheduler.Restart(world.node, "main", [] {});
  EXPECT_FALSE(world.fs().Exists("f").value());
}

TEST(SimDiskTest, RuleCrashesTheNodeAfterItsNthWrite) {
  FaultPlan plan = WithCrash(KeepEverything());
  plan.rules.push_back(
      {.node = 1, .op = DiskOp::kWrite, .nth = 3, .action = FaultAction::kCrashAfter});
  World world(plan);
  int writes_returned = 0;
  world.scheduler.StartFiberOn(world.node, "writer", [&] {
    auto file = world.fs().Open("f", io::OpenMode::kCreate).value();
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(file->Append(Bytes("ab")).ok());
      ++writes_returned;
    }
  });
  const RunResult result = world.scheduler.Run();
  ASSERT_TRUE(result.ok()) << result.detail;
  EXPECT_EQ(writes_returned, 2);  // the third write never returned
  EXPECT_FALSE(world.scheduler.IsAlive(world.node));
  world.disk.Crash(world.node);  // already resolved by the rule: a no-op
  DiskImage expected;
  expected.files["f"] = "ababab";
  EXPECT_EQ(world.disk.DurableImage(world.node), expected);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kInjectedCrash), 1u);
}

TEST(SimDiskTest, TearLastWriteKeepsItsFirstSectorOnly) {
  World world(WithCrash(KeepEverything()));
  auto file = world.Open("f");
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE(file->Append(Bytes(std::string(1024, 'a'))).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->WriteAt(0, Bytes(std::string(1024, 'b'))).ok());
  world.CrashAndRestart(CrashOptions{.tear_last_write = true});
  EXPECT_EQ(world.disk.DurableImage(world.node).files["f"],
            std::string(512, 'b') + std::string(512, 'a'));
  EXPECT_EQ(world.disk.stats().count(FaultKind::kTornWrite), 1u);
}

TEST(SimDiskTest, WriteEioAndNoSpace) {
  FaultPlan plan;
  plan.rules.push_back({.node = 1, .op = DiskOp::kWrite, .nth = 1, .action = FaultAction::kEio});
  World world(plan, DiskOptions{.capacity_bytes = 10});
  auto file = world.Open("f");
  EXPECT_TRUE(io::IsIoError(file->Append(Bytes("abc"))));
  EXPECT_EQ(file->Size().value(), 0u);
  EXPECT_TRUE(file->Append(Bytes("0123456789")).ok());
  EXPECT_TRUE(io::IsNoSpace(file->Append(Bytes("x"))));
  ASSERT_TRUE(file->Truncate(5).ok());
  EXPECT_TRUE(file->Append(Bytes("xyz")).ok());
  ASSERT_TRUE(file->Close().ok());
  ASSERT_TRUE(world.fs().Remove("f").ok());  // frees its 8 bytes
  auto other = world.Open("g");
  EXPECT_TRUE(other->Append(Bytes("0123456789")).ok());
  EXPECT_EQ(world.disk.stats().count(FaultKind::kWriteEio), 1u);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kNoSpace), 1u);
}

TEST(SimDiskTest, LatentSectorErrorFailsReadsUntilRewritten) {
  World world;
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes(std::string(2048, 'a'))).ok());
  ASSERT_TRUE(world.disk.AddLatentSectorError(world.node, "f", 2).ok());
  char buffer[16];
  EXPECT_TRUE(file->ReadAt(0, absl::Span<char>(buffer, 16)).ok());
  EXPECT_TRUE(io::IsIoError(file->ReadAt(1020, absl::Span<char>(buffer, 16)).status()));
  ASSERT_TRUE(file->WriteAt(1024, Bytes(std::string(512, 'b'))).ok());
  EXPECT_TRUE(file->ReadAt(1020, absl::Span<char>(buffer, 16)).ok());
  EXPECT_EQ(world.disk.stats().count(FaultKind::kLatentSectorRead), 1u);
}

TEST(SimDiskTest, MisdirectedWriteIsRightInCacheAndWrongOnDisk) {
  FaultPlan plan = WithCrash(KeepEverything());
  plan.rules.push_back(
      {.node = 1, .op = DiskOp::kWrite, .nth = 2, .action = FaultAction::kMisdirect});
  World world(plan);
  auto file = world.Open("f");
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  const std::string before(4096, 'a');
  ASSERT_TRUE(file->Append(Bytes(before)).ok());
  ASSERT_TRUE(file->WriteAt(512, Bytes(std::string(512, 'b'))).ok());
  std::string expected_cache = before;
  expected_cache.replace(512, 512, std::string(512, 'b'));
  EXPECT_EQ(ReadAll(*file), expected_cache);
  ASSERT_TRUE(file->Sync().ok());
  world.CrashAndRestart();
  const std::string durable = world.disk.DurableImage(world.node).files["f"];
  EXPECT_EQ(durable.size(), 4096u);
  EXPECT_NE(durable, expected_cache);
  EXPECT_EQ(durable.substr(512, 512), std::string(512, 'a'));  // the intended sector kept old data
  EXPECT_EQ(world.disk.stats().count(FaultKind::kMisdirectedWrite), 1u);
}

TEST(SimDiskTest, BitFlipInDurableData) {
  World world;
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("AAAA")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE(world.disk.FlipDurableBit(world.node, "f", 8 + 1).ok());
  EXPECT_EQ(ReadAll(*file), "ACAA");  // 'A' ^ 2 == 'C'; the page was clean
  EXPECT_EQ(world.disk.DurableImage(world.node).files["f"], "ACAA");
}

TEST(SimDiskTest, BitFlipsAtCrashByRate) {
  FaultPlan plan = WithCrash(KeepEverything());
  plan.rates.bit_flip_per_file_ppm = 1'000'000;
  World world(plan);
  const std::string content(100, 'z');
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes(content)).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  world.CrashAndRestart();
  const std::string after = world.disk.DurableImage(world.node).files["f"];
  ASSERT_EQ(after.size(), content.size());
  int differing_bits = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    differing_bits += __builtin_popcount(static_cast<unsigned char>(after[i] ^ content[i]));
  }
  EXPECT_EQ(differing_bits, 1);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kBitFlip), 1u);
}

TEST(SimDiskTest, RemovedFilesAreFreedOnceTheRemovalIsDurable) {
  World world(WithCrash(KeepEverything()));
  for (int round = 0; round < 100; ++round) {
    auto file = world.Open("segment");
    ASSERT_TRUE(file->Append(Bytes(std::string(4096, 's'))).ok());
    ASSERT_TRUE(file->Close().ok());
    ASSERT_TRUE(world.fs().Remove("segment").ok());
    EXPECT_GT(world.fs().pending_op_count(), 0u);
    ASSERT_TRUE(world.fs().SyncDir("").ok());
    EXPECT_EQ(world.fs().pending_op_count(), 0u);
  }
  // Replaced by a rename: freed once the rename is durable.
  auto old_file = world.Open("target");
  ASSERT_TRUE(old_file->Append(Bytes("old")).ok());
  ASSERT_TRUE(old_file->Close().ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  auto new_file = world.Open("tmp");
  ASSERT_TRUE(new_file->Append(Bytes("new")).ok());
  ASSERT_TRUE(new_file->Sync().ok());
  ASSERT_TRUE(world.fs().Rename("tmp", "target").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  EXPECT_EQ(world.fs().pending_op_count(), 0u);  // the old inode's pending append is gone
  world.CrashAndRestart();
  EXPECT_EQ(world.disk.DurableImage(world.node).files["target"], "new");
}

TEST(SimDiskTest, HandleOutlivingTheDiskFailsCleanly) {
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  const NodeId node = scheduler.AddNode("n1");
  std::unique_ptr<io::File> file;
  {
    SimDisk disk(scheduler);
    file = disk.ForNode(node).Open("f", io::OpenMode::kCreate).value();
  }
  EXPECT_TRUE(absl::IsFailedPrecondition(file->Append(Bytes("x"))));
  EXPECT_TRUE(file->Close().ok());
}

TEST(SimDiskTest, LatencyParksInVirtualTime) {
  FaultPlan plan;
  plan.latency.write = LatencyModel::Fixed(1'000'000);
  plan.latency.sync = LatencyModel::Uniform(2'000'000, 3'000'000);
  World world(plan);
  int64_t after_writes_ns = -1;
  int64_t after_sync_ns = -1;
  world.scheduler.StartFiberOn(world.node, "writer", [&] {
    auto file = world.fs().Open("f", io::OpenMode::kCreate).value();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(file->Append(Bytes("x")).ok());
    after_writes_ns = world.scheduler.NowNs();
    ASSERT_TRUE(file->Sync().ok());
    after_sync_ns = world.scheduler.NowNs();
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_EQ(after_writes_ns, 3'000'000);
  EXPECT_GE(after_sync_ns - after_writes_ns, 2'000'000);
  EXPECT_LE(after_sync_ns - after_writes_ns, 3'000'000);
}

TEST(SimDiskTest, StuckDiskBlocksUntilUnstuck) {
  World world;
  world.disk.Stick(world.node, runtime::kNoDeadline);
  int64_t write_done_ns = -1;
  world.scheduler.StartFiberOn(world.node, "writer", [&] {
    auto file = world.fs().Open("f", io::OpenMode::kCreate).value();
    ASSERT_TRUE(file->Append(Bytes("x")).ok());
    write_done_ns = world.scheduler.NowNs();
  });
  world.scheduler.StartFiberOn(kSimNode, "operator", [&] {
    world.scheduler.SleepFor(5'000'000);
    EXPECT_EQ(write_done_ns, -1);
    world.disk.Unstick(world.node);
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_EQ(write_done_ns, 5'000'000);
}

TEST(SimDiskTest, StickRuleWithDeadline) {
  FaultPlan plan;
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = 1, .action = FaultAction::kStick,
                        .stuck_for_ns = 7'000'000});
  World world(plan);
  int64_t sync_done_ns = -1;
  world.scheduler.StartFiberOn(world.node, "writer", [&] {
    auto file = world.fs().Open("f", io::OpenMode::kCreate).value();
    ASSERT_TRUE(file->Sync().ok());
    sync_done_ns = world.scheduler.NowNs();
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_EQ(sync_done_ns, 7'000'000);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kStuck), 1u);
}

TEST(SimDiskTest, ProbabilisticSyncFailuresAreCountedAndTraced) {
  FaultPlan plan;
  plan.rates.sync_eio_ppm = 500'000;
  World world(plan);
  auto file = world.Open("f");
  int failures = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(file->Append(Bytes("x")).ok());
    if (!file->Sync().ok()) ++failures;
  }
  EXPECT_GT(failures, 50);
  EXPECT_LT(failures, 150);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kSyncEio), static_cast<uint64_t>(failures));
  EXPECT_NE(world.disk.stats().ToString().find("sync_eio="), std::string::npos);
}

// The same seed and the same operations give the same crash state and the
// same trace hash; another seed (eventually) gives another state.
DiskImage CrashStateFor(uint64_t seed, uint64_t* trace_hash) {
  FaultPlan plan;
  plan.crash.torn_sector_garbage_ppm = 200'000;
  World world(plan, DiskOptions{}, seed);
  for (int f = 0; f < 3; ++f) {
    auto file = world.Open("f" + std::to_string(f));
    for (int i = 0; i < 8; ++i) {
      EXPECT_TRUE(file->WriteAt(static_cast<uint64_t>(i) * 700,
                                Bytes(std::string(900, static_cast<char>('a' + i))))
                      .ok());
    }
  }
  world.CrashAndRestart();
  *trace_hash = world.scheduler.trace().hash();
  return world.disk.DurableImage(world.node);
}

TEST(SimDiskTest, SameSeedSameCrashState) {
  uint64_t hash_a = 0;
  uint64_t hash_b = 0;
  const DiskImage a = CrashStateFor(42, &hash_a);
  const DiskImage b = CrashStateFor(42, &hash_b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(hash_a, hash_b);
  bool some_seed_differs = false;
  for (uint64_t seed = 43; seed < 53 && !some_seed_differs; ++seed) {
    uint64_t hash_c = 0;
    some_seed_differs = CrashStateFor(seed, &hash_c) != a;
  }
  EXPECT_TRUE(some_seed_differs);
}

// A lock dies with its holder: a crash of the node releases it, and the dead
// holder's FileLock, destroyed later, does not free the new holder's lock.
TEST(SimDiskTest, CrashReleasesLocks) {
  World world;
  ASSERT_TRUE(world.fs().CreateDir("d").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  auto before = world.fs().LockFile("d");
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_TRUE(absl::IsFailedPrecondition(world.fs().LockFile("d").status()));
  world.CrashAndRestart();
  auto after = world.fs().LockFile("d");
  ASSERT_TRUE(after.ok()) << after.status();
  before->reset();
  EXPECT_TRUE(absl::IsFailedPrecondition(world.fs().LockFile("d").status()));
}

}  // namespace
}  // namespace faultline::sim::disk
