// tests/sim/disk/sector_profile_test.cc — the device profiles of a power
// loss (DiskOptions: powersafe overwrite, logical vs physical sector, torn
// sectors left unreadable): what a torn write may do to bytes it never
// covered, and which sectors fail their reads afterwards.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk {
namespace {

using testing::Bytes;
using testing::ReadAll;
using testing::World;

// A write that is always torn at a crash, each of its sectors keeping its new
// bytes, and (without powersafe overwrite) every touched physical sector it
// does not cover whole trashed.
FaultPlan TearEverythingTrashNeighbours() {
  FaultPlan plan;
  plan.crash = CrashRates{.write_persist_ppm = 0, .write_torn_ppm = 1'000'000,
                          .torn_sector_persist_ppm = 1'000'000, .torn_sector_garbage_ppm = 0,
                          .size_without_data_ppm = 1'000'000, .size_garbage_ppm = 0,
                          .sector_damage_ppm = 1'000'000,
                          .torn_sector_unreadable_ppm = 1'000'000};
  return plan;
}

// 100 synced bytes, then an unsynced append in the same sector, then a crash.
std::string SyncedThenTornAppend(World& world) {
  auto opened = world.fs().Open("f", io::OpenMode::kCreateExclusive);
  EXPECT_TRUE(opened.ok());
  io::File& file = **opened;
  EXPECT_TRUE(world.fs().SyncDir("").ok());
  EXPECT_TRUE(file.Append(Bytes(std::string(100, 'a'))).ok());
  EXPECT_TRUE(file.Sync().ok());
  EXPECT_TRUE(file.Append(Bytes(std::string(100, 'b'))).ok());
  world.CrashAndRestart();
  return world.disk.DurableImage(world.node).files["f"];
}

TEST(SectorProfileTest, PowersafeOverwriteNeverTouchesSyncedNeighbours) {
  World world(TearEverythingTrashNeighbours(), DiskOptions{.powersafe_overwrite = true});
  EXPECT_EQ(SyncedThenTornAppend(world), std::string(100, 'a') + std::string(100, 'b'));
  EXPECT_EQ(world.disk.stats().count(FaultKind::kPhysicalSectorDamage), 0u);
}

TEST(SectorProfileTest, WithoutPowersafeOverwriteATornWriteTrashesSyncedBytesOfItsSector) {
  World world(TearEverythingTrashNeighbours(), DiskOptions{.powersafe_overwrite = false});
  const std::string after = SyncedThenTornAppend(world);
  ASSERT_EQ(after.size(), 200u);
  EXPECT_NE(after.substr(0, 100), std::string(100, 'a'));  // synced, yet gone
  EXPECT_EQ(world.disk.stats().count(FaultKind::kPhysicalSectorDamage), 1u);
}

// A 512e drive: 512-byte logical sectors, 4 KiB physical ones. A torn write
// to logical sector 7 may trash synced bytes in logical sector 0.
TEST(SectorProfileTest, A512eDriveTrashesTheWholePhysicalSector) {
  World world(TearEverythingTrashNeighbours(),
              DiskOptions{.atomic_unit_bytes = 512, .physical_sector_bytes = 4096,
                          .powersafe_overwrite = false});
  auto opened = world.fs().Open("f", io::OpenMode::kCreateExclusive);
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE((*opened)->Append(Bytes(std::string(3584, 'a'))).ok());
  ASSERT_TRUE((*opened)->Sync().ok());
  ASSERT_TRUE((*opened)->Append(Bytes(std::string(512, 'b'))).ok());  // logical sector 7
  world.CrashAndRestart();
  const std::string after = world.disk.DurableImage(world.node).files["f"];
  ASSERT_EQ(after.size(), 4096u);
  EXPECT_NE(after.substr(0, 512), std::string(512, 'a'));
}

// With 512-byte physical sectors, the same write covers its sector whole:
// the synced sectors before it are safe even without powersafe overwrite.
TEST(SectorProfileTest, AWriteCoveringItsPhysicalSectorsWholeTrashesNothingElse) {
  World world(TearEverythingTrashNeighbours(),
              DiskOptions{.atomic_unit_bytes = 512, .physical_sector_bytes = 512,
                          .powersafe_overwrite = false});
  auto opened = world.fs().Open("f", io::OpenMode::kCreateExclusive);
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE((*opened)->Append(Bytes(std::string(3584, 'a'))).ok());
  ASSERT_TRUE((*opened)->Sync().ok());
  ASSERT_TRUE((*opened)->Append(Bytes(std::string(512, 'b'))).ok());
  world.CrashAndRestart();
  EXPECT_EQ(world.disk.DurableImage(world.node).files["f"],
            std::string(3584, 'a') + std::string(512, 'b'));
}

// A torn sector that turned to garbage fails its reads until rewritten.
TEST(SectorProfileTest, ATornSectorLeftUnreadableFailsReadsUntilRewritten) {
  World world(TearEverythingTrashNeighbours(),
              DiskOptions{.powersafe_overwrite = false, .torn_sectors_unreadable = true});
  SyncedThenTornAppend(world);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kUnreadableTornSector), 1u);
  auto file = world.fs().Open("f", io::OpenMode::kReadWrite);
  ASSERT_TRUE(file.ok());
  char byte = 0;
  EXPECT_TRUE(io::IsIoError((*file)->ReadAt(0, absl::Span<char>(&byte, 1)).status()));
  // Rewriting the whole sector and syncing remaps it.
  ASSERT_TRUE((*file)->WriteAt(0, Bytes(std::string(512, 'c'))).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(ReadAll(**file).substr(0, 512), std::string(512, 'c'));
}

// Powersafe overwrite promises that a torn write damages no byte outside
// its own range; a sector that fails its reads loses all of its bytes. So on
// such a device a torn write may leave unreadable only a sector holding
// nothing but its own bytes (or bytes past the end of the file), never one
// shared with synced bytes.
TEST(SectorProfileTest, PowersafeOverwriteNeverLeavesSyncedBytesUnreadable) {
  FaultPlan plan = TearEverythingTrashNeighbours();
  plan.crash.torn_sector_garbage_ppm = 1'000'000;  // every torn sector turns to garbage
  World world(plan, DiskOptions{.powersafe_overwrite = true, .torn_sectors_unreadable = true});
  SyncedThenTornAppend(world);
  auto file = world.fs().Open("f", io::OpenMode::kReadWrite);
  ASSERT_TRUE(file.ok());
  std::string synced(100, '\0');
  auto read = (*file)->ReadAt(0, absl::Span<char>(synced.data(), synced.size()));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(synced, std::string(100, 'a'));
}

// Truncating the torn tail away frees the unreadable sector.
TEST(SectorProfileTest, TruncatingAnUnreadableTailFreesIt) {
  FaultPlan plan = TearEverythingTrashNeighbours();
  plan.crash.torn_sector_garbage_ppm = 1'000'000;  // the torn sector turns to garbage
  World world(plan,
              DiskOptions{.powersafe_overwrite = true, .torn_sectors_unreadable = true});
  auto opened = world.fs().Open("f", io::OpenMode::kCreateExclusive);
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE((*opened)->Append(Bytes(std::string(512, 'a'))).ok());
  ASSERT_TRUE((*opened)->Sync().ok());
  ASSERT_TRUE((*opened)->Append(Bytes(std::string(512, 'b'))).ok());
  world.CrashAndRestart();
  EXPECT_EQ(world.disk.stats().count(FaultKind::kUnreadableTornSector), 1u);
  auto file = world.fs().Open("f", io::OpenMode::kReadWrite);
  ASSERT_TRUE(file.ok());
  char byte = 0;
  EXPECT_TRUE(io::IsIoError((*file)->ReadAt(512, absl::Span<char>(&byte, 1)).status()));
  ASSERT_TRUE((*file)->Truncate(512).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append(Bytes(std::string(10, 'c'))).ok());
  EXPECT_EQ(ReadAll(**file), std::string(512, 'a') + std::string(10, 'c'));
}

// A forced tear of a write over several sectors keeps its first sector and
// loses its last; with forced_tear_may_hole it may do the opposite, a hole
// before a kept sector, and a crash that leaves such a hole counts it.
TEST(SectorProfileTest, AForcedTearMayLeaveAHoleBeforeAKeptSector) {
  FaultPlan plan;
  plan.crash = CrashRates{.write_persist_ppm = 1'000'000, .write_torn_ppm = 0,
                          .size_without_data_ppm = 1'000'000, .size_garbage_ppm = 0};
  std::set<std::string> outcomes;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    World world(plan, DiskOptions{.forced_tear_may_hole = true}, seed);
    auto opened = world.fs().Open("f", io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE(world.fs().SyncDir("").ok());
    ASSERT_TRUE((*opened)->Append(Bytes(std::string(1024, 'n'))).ok());
    world.CrashAndRestart(CrashOptions{.tear_last_write = true});
    const std::string after = world.disk.DurableImage(world.node).files["f"];
    ASSERT_EQ(after.size(), 1024u);
    if (after == std::string(512, 'n') + std::string(512, '\0')) {
      outcomes.insert("first kept");
      EXPECT_EQ(world.disk.stats().count(FaultKind::kTornWriteHole), 0u);
    } else {
      ASSERT_EQ(after, std::string(512, '\0') + std::string(512, 'n'));
      outcomes.insert("hole");
      EXPECT_EQ(world.disk.stats().count(FaultKind::kTornWriteHole), 1u);
    }
  }
  EXPECT_EQ(outcomes.size(), 2u);  // both shapes occur
}

}  // namespace
}  // namespace faultline::sim::disk
