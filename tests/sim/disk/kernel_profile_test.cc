// tests/sim/disk/kernel_profile_test.cc — the kernel profile
// (sim/disk/kernel_profile.h): a failed sync that commits the size over
// stale blocks, failed bytes flushed by a later write to their page, the
// read-only remount, ENOSPC at writeback, failed writes that leave a
// prefix; and the writeback error a closed (evicted) inode forgets.
#include <gtest/gtest.h>

#include <memory>
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

FaultPlan FailSync(uint64_t nth, CrashRates rates = DropEverything()) {
  FaultPlan plan = WithCrash(rates);
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = nth, .action = FaultAction::kEio});
  return plan;
}

DiskOptions Profile(KernelProfile kernel) {
  DiskOptions options;
  options.failed_sync_writes_partway = false;  // only the profile's effect
  options.kernel = kernel;
  return options;
}

std::string DurableBytes(World& world, const std::string& path) {
  const DiskImage image = world.disk.DurableImage(world.node);
  auto it = image.files.find(path);
  return it == image.files.end() ? std::string("<missing>") : it->second;
}

// A file "f" holding `bytes` durably, name included.
std::unique_ptr<io::File> DurableFile(World& world, std::string_view bytes) {
  auto file = world.Open("f");
  EXPECT_TRUE(file->Append(Bytes(bytes)).ok());
  EXPECT_TRUE(file->Sync().ok());
  EXPECT_TRUE(world.fs().SyncDir("").ok());
  return file;
}

// --- data_err=ignore -----------------------------------------------------------

TEST(KernelProfileTest, FailedSyncCommitsTheSizeOverStaleBlocks) {
  World world(FailSync(2), Profile({.failed_sync_commits_size = true}));
  auto file = DurableFile(world, "0123");
  ASSERT_TRUE(file->Append(Bytes("abcdef")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  const std::string durable = DurableBytes(world, "f");
  ASSERT_EQ(durable.size(), 10u);  // the size committed...
  EXPECT_EQ(durable.substr(0, 4), "0123");
  EXPECT_NE(durable.substr(4), "abcdef");  // ...the data did not
}

TEST(KernelProfileTest, WithoutTheProfileAFailedSyncCommitsNoSize) {
  World world(FailSync(2), Profile({}));
  auto file = DurableFile(world, "0123");
  ASSERT_TRUE(file->Append(Bytes("abcdef")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  EXPECT_EQ(DurableBytes(world, "f"), "0123");
}

// --- failed bytes flushed by a rewrite of their page ------------------------------

TEST(KernelProfileTest, RewriteOfThePageFlushesTheFailedBytes) {
  World world(FailSync(2), Profile({.rewrite_flushes_failed_pages = true}));
  auto file = DurableFile(world, "");
  ASSERT_TRUE(file->Append(Bytes("AAAA")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  ASSERT_TRUE(file->WriteAt(4, Bytes("B")).ok());  // same page
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(DurableBytes(world, "f"), "AAAAB");
}

TEST(KernelProfileTest, WithoutTheProfileTheFailedBytesStayLost) {
  World world(FailSync(2), Profile({}));
  auto file = DurableFile(world, "");
  ASSERT_TRUE(file->Append(Bytes("AAAA")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  ASSERT_TRUE(file->WriteAt(4, Bytes("B")).ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(DurableBytes(world, "f"), std::string("\0\0\0\0B", 5));
}

TEST(KernelProfileTest, AWriteToAnotherPageFlushesNothing) {
  World world(FailSync(2), Profile({.rewrite_flushes_failed_pages = true}));
  auto file = DurableFile(world, "");
  ASSERT_TRUE(file->Append(Bytes("AAAA")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  ASSERT_TRUE(file->WriteAt(kPageBytes, Bytes("B")).ok());
  ASSERT_TRUE(file->Sync().ok());
  const std::string durable = DurableBytes(world, "f");
  ASSERT_EQ(durable.size(), kPageBytes + 1);
  EXPECT_EQ(durable.substr(0, 4), std::string(4, '\0'));
}

TEST(KernelProfileTest, AFlushedPageIsWrittenAsTheCacheHoldsIt) {
  World world(FailSync(2), Profile({.rewrite_flushes_failed_pages = true}));
  auto file = DurableFile(world, "");
  ASSERT_TRUE(file->Append(Bytes("AAAA")).ok());
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  ASSERT_TRUE(file->Truncate(2).ok());
  ASSERT_TRUE(file->WriteAt(2, Bytes("B")).ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(DurableBytes(world, "f"), std::string("AAB", 3));  // the page as the cache has it
}

// --- read-only remount ----------------------------------------------------------

TEST(KernelProfileTest, FailedDirSyncRemountsReadOnlyUntilPowerLoss) {
  FaultPlan plan = WithCrash(KeepEverything());
  plan.rules.push_back(
      {.node = 1, .op = DiskOp::kSyncDir, .nth = 2, .action = FaultAction::kEio});
  World world(plan, Profile({.read_only_after = ReadOnlyTrigger::kFailedMetadataWrite}));
  auto file = DurableFile(world, "0123");
  ASSERT_TRUE(file->Append(Bytes("pending")).ok());
  EXPECT_TRUE(io::IsIoError(world.fs().SyncDir("")));
  // Every later write, sync and namespace change fails; reads still work.
  EXPECT_TRUE(io::IsIoError(file->Append(Bytes("x"))));
  EXPECT_TRUE(io::IsIoError(file->Truncate(0)));
  EXPECT_TRUE(io::IsIoError(file->Sync()));
  EXPECT_TRUE(io::IsIoError(world.fs().SyncDir("")));
  EXPECT_TRUE(io::IsIoError(world.fs().Open("g", io::OpenMode::kCreate).status()));
  EXPECT_TRUE(io::IsIoError(world.fs().CreateDir("d")));
  EXPECT_TRUE(io::IsIoError(world.fs().Remove("f")));
  EXPECT_EQ(ReadAll(*file), "0123pending");
  EXPECT_TRUE(world.fs().Exists("f").value());
  // A process crash leaves the file system read-only.
  world.scheduler.Crash(world.node, "kill -9");
  world.disk.CrashProcess(world.node);
  world.scheduler.Restart(world.node, "main", [] {});
  EXPECT_TRUE(io::IsIoError(world.fs().Open("f", io::OpenMode::kReadWrite).status()));
  // The machine restarts: writable again, and what was pending never
  // reached the device, even though this crash would persist everything.
  world.CrashAndRestart();
  EXPECT_EQ(DurableBytes(world, "f"), "0123");
  auto reopened = world.Open("f", io::OpenMode::kReadWrite);
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(reopened->Append(Bytes("4")).ok());
  EXPECT_TRUE(reopened->Sync().ok());
}

// A file sync in flight when a failed metadata write aborts the journal
// cannot report its data durable: the remount dropped it.
TEST(KernelProfileTest, ASyncInFlightWhenTheFileSystemGoesReadOnlyFails) {
  FaultPlan plan = WithCrash(KeepEverything());
  plan.rules.push_back({.node = 1, .op = DiskOp::kRemove, .nth = 1, .action = FaultAction::kEio});
  plan.latency.sync = LatencyModel::Fixed(1'000'000);  // the sync waits 1 ms on the device
  World world(plan, Profile({.read_only_after = ReadOnlyTrigger::kFailedMetadataWrite}));
  std::unique_ptr<io::File> file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("pending")).ok());
  absl::Status synced;
  world.scheduler.StartFiberOn(world.node, "syncer", [&] { synced = file->Sync(); });
  world.scheduler.StartFiberOn(world.node, "remover", [&] {
    world.scheduler.SleepFor(500'000);  // the sync is on the device
    EXPECT_TRUE(io::IsIoError(world.fs().Remove("f")));  // meanwhile: read-only
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_EQ(world.disk.stats().count(FaultKind::kReadOnlyRemount), 1u);
  EXPECT_TRUE(io::IsIoError(synced)) << synced;
  world.CrashAndRestart();
  EXPECT_NE(DurableBytes(world, "f"), "pending");
}

TEST(KernelProfileTest, FailedFileSyncRemountsOnlyUnderTheDataAbortProfile) {
  for (ReadOnlyTrigger trigger :
       {ReadOnlyTrigger::kFailedMetadataWrite, ReadOnlyTrigger::kAnyFailedSync}) {
    World world(FailSync(2), Profile({.read_only_after = trigger}));
    auto file = DurableFile(world, "0");
    ASSERT_TRUE(file->Append(Bytes("1")).ok());
    EXPECT_TRUE(io::IsIoError(file->Sync()));
    const absl::Status next = file->Append(Bytes("2"));
    EXPECT_EQ(next.ok(), trigger == ReadOnlyTrigger::kFailedMetadataWrite) << next;
  }
}

// --- ENOSPC --------------------------------------------------------------------

TEST(KernelProfileTest, DelayedAllocationFailsTheSyncWithNoSpace) {
  DiskOptions options = Profile({.delayed_allocation = true});
  options.capacity_bytes = 8;
  World world(WithCrash(DropEverything()), options);
  auto file = DurableFile(world, "0123");
  ASSERT_TRUE(file->Append(Bytes("456789")).ok());  // past the capacity: accepted
  const absl::Status synced = file->Sync();
  EXPECT_TRUE(io::IsIoError(synced)) << synced;
  EXPECT_FALSE(io::IsNoSpace(synced));
  EXPECT_NE(synced.message().find("ENOSPC"), absl::string_view::npos) << synced;
  EXPECT_EQ(DurableBytes(world, "f"), "0123");
}

TEST(KernelProfileTest, WithoutDelayedAllocationTheWriteIsRefused) {
  DiskOptions options = Profile({});
  options.capacity_bytes = 8;
  World world(WithCrash(DropEverything()), options);
  auto file = DurableFile(world, "0123");
  EXPECT_TRUE(io::IsNoSpace(file->Append(Bytes("456789"))));
}

TEST(KernelProfileTest, NoSpaceRuleOnASyncFailsItAsAWritebackError) {
  FaultPlan plan = WithCrash(DropEverything());
  plan.rules.push_back(
      {.node = 1, .op = DiskOp::kSync, .nth = 2, .action = FaultAction::kNoSpace});
  World world(plan, Profile({}));
  auto file = DurableFile(world, "0");
  ASSERT_TRUE(file->Append(Bytes("1")).ok());
  const absl::Status synced = file->Sync();
  EXPECT_TRUE(io::IsIoError(synced)) << synced;
  EXPECT_EQ(DurableBytes(world, "f"), "0");
  EXPECT_TRUE(file->Sync().ok());  // reported once; the data stays lost
  EXPECT_EQ(DurableBytes(world, "f"), "0");
}

// --- failed writes that leave a prefix ---------------------------------------------

TEST(KernelProfileTest, FailedWriteLeavesAPageAlignedPrefix) {
  FaultPlan plan = WithCrash(DropEverything());
  plan.rules.push_back({.node = 1, .op = DiskOp::kWrite, .nth = 1, .action = FaultAction::kEio});
  World world(plan, Profile({.failed_write_leaves_prefix = true}));
  auto file = world.Open("f");
  const std::string data(3 * kPageBytes, 'w');
  EXPECT_TRUE(io::IsIoError(file->Append(Bytes(data))));
  const std::string cached = ReadAll(*file);
  EXPECT_TRUE(cached.size() == kPageBytes || cached.size() == 2 * kPageBytes) << cached.size();
  EXPECT_EQ(cached, data.substr(0, cached.size()));
}

TEST(KernelProfileTest, PrefixesCanStopAtASector) {
  FaultPlan plan = WithCrash(DropEverything());
  plan.rules.push_back({.node = 1, .op = DiskOp::kWrite, .nth = 1, .action = FaultAction::kEio});
  World world(plan, Profile({.failed_write_leaves_prefix = true,
                             .failed_write_prefix_unit_bytes = 512}));
  auto file = world.Open("f");
  const std::string data(1500, 'w');  // within one page: sectors 0..2
  EXPECT_TRUE(io::IsIoError(file->Append(Bytes(data))));
  const std::string cached = ReadAll(*file);
  EXPECT_TRUE(cached.size() == 512 || cached.size() == 1024) << cached.size();
  EXPECT_EQ(cached, data.substr(0, cached.size()));
}

TEST(KernelProfileTest, NoSpaceWriteLeavesThePrefixThatFits) {
  DiskOptions options = Profile({.failed_write_leaves_prefix = true});
  options.capacity_bytes = kPageBytes + 100;
  World world(WithCrash(DropEverything()), options);
  auto file = world.Open("f");
  const std::string data(3 * kPageBytes, 'w');
  EXPECT_TRUE(io::IsNoSpace(file->Append(Bytes(data))));
  EXPECT_EQ(ReadAll(*file), data.substr(0, kPageBytes));
}

TEST(KernelProfileTest, WithoutTheProfileAFailedWriteLeavesNothing) {
  FaultPlan plan = WithCrash(DropEverything());
  plan.rules.push_back({.node = 1, .op = DiskOp::kWrite, .nth = 1, .action = FaultAction::kEio});
  World world(plan, Profile({}));
  auto file = world.Open("f");
  EXPECT_TRUE(io::IsIoError(file->Append(Bytes(std::string(3 * kPageBytes, 'w')))));
  EXPECT_EQ(file->Size().value(), 0u);
}

// --- writeback errors lost to eviction ------------------------------------------------

// The default model is the eviction case: a handle opened after the failure
// (the inode was evicted, its error with it) syncs OK over lost data.
TEST(KernelProfileTest, AnEvictedInodeForgetsItsWritebackError) {
  World world(FailSync(2), Profile({}));
  {
    auto file = DurableFile(world, "0");
    ASSERT_TRUE(file->Append(Bytes("1")).ok());
    EXPECT_TRUE(io::IsIoError(file->Sync()));
  }  // closed: nothing holds the inode
  auto reopened = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_TRUE(reopened->Sync().ok());
  EXPECT_EQ(DurableBytes(world, "f"), "0");
}

}  // namespace
}  // namespace faultline::sim::disk
