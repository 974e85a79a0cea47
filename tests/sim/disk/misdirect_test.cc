// tests/sim/disk/misdirect_test.cc — misdirected writes that land in
// another file (FaultRates::misdirect_other_file_ppm): the writer's cache is
// right, its file keeps the old bytes on the device, and another file's
// blocks get the data — at a sync and at a crash that persists the write.
#include <gtest/gtest.h>

#include <string>

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

constexpr size_t kFileBytes = 2048;

// Durable files "a" (all 'A') and "b" (all 'B'), then the rule: b's next
// write (the 3rd write of the node) is misdirected into another file.
FaultPlan MisdirectThirdWrite(CrashRates rates) {
  FaultPlan plan = WithCrash(rates);
  plan.rules.push_back({.node = 1, .op = DiskOp::kWrite, .nth = 3, .action = FaultAction::kMisdirect});
  plan.rates.misdirect_other_file_ppm = 1'000'000;
  return plan;
}

void MakeDurableFiles(World& world) {
  for (const char* name : {"a", "b"}) {
    auto file = world.Open(name);
    ASSERT_TRUE(file->Append(Bytes(std::string(kFileBytes, name[0] - 'a' + 'A'))).ok());
    ASSERT_TRUE(file->Sync().ok());
  }
  ASSERT_TRUE(world.fs().SyncDir("").ok());
}

// Where "xyz" landed in `bytes`, or npos.
size_t Landing(const std::string& bytes) { return bytes.find("xyz"); }

TEST(MisdirectTest, SyncedWriteLandsInAnotherFile) {
  World world(MisdirectThirdWrite(DropEverything()));
  MakeDurableFiles(world);
  auto b = world.Open("b", io::OpenMode::kReadWrite);
  ASSERT_TRUE(b->WriteAt(600, Bytes("xyz")).ok());
  EXPECT_EQ(ReadAll(*b).substr(600, 3), "xyz");  // the cache is right
  ASSERT_TRUE(b->Sync().ok());
  const DiskImage durable = world.disk.DurableImage(world.node);
  EXPECT_EQ(durable.files.at("b"), std::string(kFileBytes, 'B'));  // b never got it
  const size_t at = Landing(durable.files.at("a"));
  ASSERT_NE(at, std::string::npos) << "the bytes landed nowhere";
  EXPECT_EQ(at % 512, 600u % 512);  // same place inside a sector
  EXPECT_EQ(world.disk.stats().count(FaultKind::kMisdirectedOtherFile), 1u);
}

TEST(MisdirectTest, PersistedAtACrashItLandsInAnotherFileToo) {
  World world(MisdirectThirdWrite(KeepEverything()));
  MakeDurableFiles(world);
  auto b = world.Open("b", io::OpenMode::kReadWrite);
  ASSERT_TRUE(b->WriteAt(600, Bytes("xyz")).ok());
  world.CrashAndRestart();
  const DiskImage cache = world.disk.CacheImage(world.node);
  EXPECT_EQ(cache.files.at("b"), std::string(kFileBytes, 'B'));
  EXPECT_NE(Landing(cache.files.at("a")), std::string::npos);
}

TEST(MisdirectTest, WithoutTheRateItStaysInTheSameFile) {
  FaultPlan plan = MisdirectThirdWrite(DropEverything());
  plan.rates.misdirect_other_file_ppm = 0;
  World world(plan);
  MakeDurableFiles(world);
  auto b = world.Open("b", io::OpenMode::kReadWrite);
  ASSERT_TRUE(b->WriteAt(600, Bytes("xyz")).ok());
  ASSERT_TRUE(b->Sync().ok());
  const DiskImage durable = world.disk.DurableImage(world.node);
  EXPECT_EQ(durable.files.at("a"), std::string(kFileBytes, 'A'));
  EXPECT_NE(Landing(durable.files.at("b")), std::string::npos);
  EXPECT_NE(Landing(durable.files.at("b")), 600u);
}

}  // namespace
}  // namespace faultline::sim::disk
