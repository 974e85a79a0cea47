// tests/sim/disk/durable_damage_test.cc — damage to files after they were
// durable (SimDisk::LoseDurableFile, TruncateDurableFile): what reads and
// crashes see afterwards, the counters, and the preconditions.
#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk::testing {
namespace {

// A durable file "f" holding `content`, closed, and its name durable.
void MakeDurable(World& world, std::string_view content) {
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes(content)).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE(file->Close().ok());
}

TEST(DurableDamageTest, LostFileIsGoneFromCacheAndDevice) {
  World world;
  MakeDurable(world, "abcdefgh");
  ASSERT_TRUE(world.disk.LoseDurableFile(world.node, "f").ok());
  EXPECT_FALSE(world.fs().Exists("f").value());
  EXPECT_EQ(world.disk.DurableImage(world.node).files.count("f"), 0u);
  world.CrashAndRestart();
  EXPECT_FALSE(world.fs().Exists("f").value());
  EXPECT_EQ(world.disk.stats().count(FaultKind::kLostFile), 1u);
  // The name can be used again, from scratch.
  auto again = world.Open("f");
  EXPECT_EQ(again->Size().value(), 0u);
}

TEST(DurableDamageTest, TruncatedFileIsShortInCacheAndDevice) {
  World world;
  MakeDurable(world, "abcdefgh");
  ASSERT_TRUE(world.disk.TruncateDurableFile(world.node, "f", 3).ok());
  auto file = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_EQ(ReadAll(*file), "abc");
  ASSERT_TRUE(file->Close().ok());
  world.CrashAndRestart();
  EXPECT_EQ(world.disk.DurableImage(world.node).files["f"], "abc");
  EXPECT_EQ(world.disk.stats().count(FaultKind::kTruncatedFile), 1u);
}

TEST(DurableDamageTest, RefusedWhileOpenPendingOrAbsent) {
  World world;
  MakeDurable(world, "abcdefgh");
  auto file = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_TRUE(absl::IsFailedPrecondition(world.disk.LoseDurableFile(world.node, "f")));
  ASSERT_TRUE(file->Append(Bytes("ij")).ok());
  ASSERT_TRUE(file->Close().ok());
  // Closed, but its last write is not durable yet.
  EXPECT_TRUE(absl::IsFailedPrecondition(world.disk.TruncateDurableFile(world.node, "f", 1)));
  EXPECT_TRUE(absl::IsNotFound(world.disk.LoseDurableFile(world.node, "nothing")));
  auto created = world.Open("g");  // a name not yet durable
  ASSERT_TRUE(created->Close().ok());
  EXPECT_TRUE(absl::IsNotFound(world.disk.LoseDurableFile(world.node, "g")));
  EXPECT_EQ(world.disk.stats().count(FaultKind::kLostFile), 0u);
  EXPECT_EQ(world.disk.stats().count(FaultKind::kTruncatedFile), 0u);
}

TEST(DurableDamageTest, TruncateCannotGrow) {
  World world;
  MakeDurable(world, "abc");
  EXPECT_TRUE(absl::IsOutOfRange(world.disk.TruncateDurableFile(world.node, "f", 4)));
  EXPECT_EQ(world.disk.DurableImage(world.node).files["f"], "abc");
}

TEST(DurableDamageTest, CapacityIsReturned) {
  World world({}, DiskOptions{.capacity_bytes = 8});
  MakeDurable(world, "abcdefgh");
  ASSERT_TRUE(world.disk.TruncateDurableFile(world.node, "f", 4).ok());
  auto other = world.Open("g");
  EXPECT_TRUE(other->Append(Bytes("1234")).ok());
  EXPECT_TRUE(io::IsNoSpace(other->Append(Bytes("5"))));
}

}  // namespace
}  // namespace faultline::sim::disk::testing
