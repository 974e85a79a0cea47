// tests/sim/disk/sim_dir_rename_test.cc — directory renames on the simulated
// disk follow the durability rules of file renames: not durable until both
// parents are synced, never half applied by a crash (the directory and
// everything in it move together), and ordered with the ops inside it.
#include <gtest/gtest.h>

#include <string>

#include "sim/disk/sim_file_system.h"
#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk {
namespace {

using testing::Bytes;
using testing::DropEverything;
using testing::KeepEverything;
using testing::WithCrash;
using testing::World;

// A durable directory "a" holding a durable file and a durable subdirectory.
void MakeDurableTree(World& world) {
  ASSERT_TRUE(world.fs().CreateDir("a").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE(world.fs().CreateDir("a/sub").ok());
  auto file = world.Open("a/f");
  ASSERT_TRUE(file->Append(Bytes("data")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir("a").ok());
}

TEST(SimDirRenameTest, UnsyncedDirectoryRenameIsUndoneByACrash) {
  World world(WithCrash(DropEverything()));
  MakeDurableTree(world);
  ASSERT_TRUE(world.fs().Rename("a", "b").ok());
  ASSERT_TRUE(world.fs().SyncDir("b").ok());  // the new directory's own sync does not cover it
  world.CrashAndRestart();
  const DiskImage image = world.disk.DurableImage(world.node);
  EXPECT_EQ(image.dirs, (std::set<std::string>{"a", "a/sub"}));
  EXPECT_EQ(image.files, (std::map<std::string, std::string>{{"a/f", "data"}}));
}

TEST(SimDirRenameTest, SyncedDirectoryRenameSurvivesWithEverythingInIt) {
  World world(WithCrash(DropEverything()));
  MakeDurableTree(world);
  ASSERT_TRUE(world.fs().Rename("a", "b").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  world.CrashAndRestart();
  const DiskImage image = world.disk.DurableImage(world.node);
  EXPECT_EQ(image.dirs, (std::set<std::string>{"b", "b/sub"}));
  EXPECT_EQ(image.files, (std::map<std::string, std::string>{{"b/f", "data"}}));
  EXPECT_FALSE(world.fs().Exists("a").value());
}

TEST(SimDirRenameTest, AcrossDirectoriesNeedsBothParentsSynced) {
  World world(WithCrash(DropEverything()));
  MakeDurableTree(world);
  ASSERT_TRUE(world.fs().CreateDir("p").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE(world.fs().Rename("a", "p/a").ok());
  ASSERT_TRUE(world.fs().SyncDir("p").ok());  // one side only
  world.CrashAndRestart();
  EXPECT_TRUE(world.fs().Exists("a/f").value());
  EXPECT_FALSE(world.fs().Exists("p/a").value());
  ASSERT_TRUE(world.fs().Rename("a", "p/a").ok());
  ASSERT_TRUE(world.fs().SyncDir("p").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  world.CrashAndRestart();
  EXPECT_TRUE(world.fs().Exists("p/a/f").value());
  EXPECT_FALSE(world.fs().Exists("a").value());
}

TEST(SimDirRenameTest, EarlierOpsInsideTheDirectoryBecomeDurableWithIt) {
  World world(WithCrash(DropEverything()));
  MakeDurableTree(world);
  // Created inside "a", never synced there; the rename's sync carries it.
  auto file = world.Open("a/new");
  ASSERT_TRUE(file->Append(Bytes("n")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().Rename("a", "b").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  world.CrashAndRestart();
  const DiskImage image = world.disk.DurableImage(world.node);
  EXPECT_EQ(image.files,
            (std::map<std::string, std::string>{{"b/f", "data"}, {"b/new", "n"}}));
}

TEST(SimDirRenameTest, ACrashThatKeepsTheRenameMovesTheWholeTree) {
  World world(WithCrash(KeepEverything()));
  MakeDurableTree(world);
  ASSERT_TRUE(world.fs().CreateDir("empty").ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  ASSERT_TRUE(world.fs().Rename("a", "empty").ok());  // replaces the empty directory
  world.CrashAndRestart();
  const DiskImage image = world.disk.DurableImage(world.node);
  EXPECT_EQ(image.dirs, (std::set<std::string>{"empty", "empty/sub"}));
  EXPECT_EQ(image.files, (std::map<std::string, std::string>{{"empty/f", "data"}}));
}

TEST(SimDirRenameTest, SyncingAnEntryMadeUnderTheNewNameCarriesTheRename) {
  // The create in "b" is ordered after the rename that made "b": a sync that
  // makes it durable makes the rename durable first, so the file never ends
  // up under a name whose directory a crash moved back.
  World world(WithCrash(DropEverything()));
  MakeDurableTree(world);
  ASSERT_TRUE(world.fs().Rename("a", "b").ok());
  auto file = world.Open("b/later");
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir("b").ok());
  world.CrashAndRestart();
  const DiskImage image = world.disk.DurableImage(world.node);
  EXPECT_EQ(image.files,
            (std::map<std::string, std::string>{{"b/f", "data"}, {"b/later", ""}}));
  EXPECT_EQ(image.dirs, (std::set<std::string>{"b", "b/sub"}));
}

}  // namespace
}  // namespace faultline::sim::disk
