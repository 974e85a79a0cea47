// tests/sim/disk/crash_kinds_test.cc — the two kinds of crash and the crash
// arm: a process crash keeps the page cache (un-synced bytes and names stay
// readable and pending) until a later sync or power loss, also one that
// strikes while the node is down; a CrashArm crashes a node at the Nth
// operation of a class from now, before or after it, counted only while its
// predicate holds, with its label in the trace.
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

void CrashProcessAndRestart(World& world) {
  world.scheduler.Crash(world.node, "kill -9");
  world.disk.CrashProcess(world.node);
  world.scheduler.Restart(world.node, "main", [] {});
}

// --- process crash ---------------------------------------------------------

TEST(CrashKindsTest, ProcessCrashKeepsUnsyncedBytesAndNamesReadable) {
  World world(WithCrash(DropEverything()));
  auto file = world.Open("f");  // name never synced
  ASSERT_TRUE(file->Append(Bytes("unsynced")).ok());
  const size_t pending = world.fs().pending_op_count();
  CrashProcessAndRestart(world);
  EXPECT_TRUE(io::IsNodeDead(file->Append(Bytes("x"))));  // the old handle is inert
  EXPECT_TRUE(file->Close().ok());
  EXPECT_EQ(world.fs().pending_op_count(), pending);   // nothing dropped, nothing durable
  auto reopened = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_EQ(ReadAll(*reopened), "unsynced");
  EXPECT_EQ(world.disk.DurableImage(world.node), DiskImage{});
}

TEST(CrashKindsTest, LaterPowerLossLosesWhatTheProcessCrashKept) {
  World world(WithCrash(DropEverything()));
  {
    auto file = world.Open("segment");
    ASSERT_TRUE(file->Append(Bytes("data")).ok());
    ASSERT_TRUE(file->Sync().ok());  // data durable, directory entry not
  }
  CrashProcessAndRestart(world);
  EXPECT_TRUE(world.fs().Exists("segment").value());  // readable after the restart...
  world.CrashAndRestart();                            // ...but not durable
  EXPECT_FALSE(world.fs().Exists("segment").value());
}

TEST(CrashKindsTest, PowerLossWhileTheNodeIsDown) {
  World world(WithCrash(DropEverything()));
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("x")).ok());
  world.scheduler.Crash(world.node, "kill -9");
  world.disk.CrashProcess(world.node);
  world.disk.Crash(world.node);  // settled already: a no-op
  EXPECT_EQ(world.fs().pending_op_count(), 2u);
  world.disk.PowerLoss(world.node);  // the machine goes down too
  EXPECT_EQ(world.fs().pending_op_count(), 0u);
  world.scheduler.Restart(world.node, "main", [] {});
  EXPECT_FALSE(world.fs().Exists("f").value());
}

TEST(CrashKindsTest, SyncAfterAProcessCrashMakesTheKeptDataDurable) {
  World world(WithCrash(DropEverything()));
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("kept")).ok());
  CrashProcessAndRestart(world);
  auto reopened = world.Open("f", io::OpenMode::kReadWrite);
  ASSERT_TRUE(reopened->Sync().ok());
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  world.CrashAndRestart();
  DiskImage expected;
  expected.files["f"] = "kept";
  EXPECT_EQ(world.disk.CacheImage(world.node), expected);
}

TEST(CrashKindsTest, ProcessCrashReleasesFilesOnlyItsHandlesKeptAlive) {
  World world({}, DiskOptions{.capacity_bytes = 1000});
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes(std::string(800, 'a'))).ok());
  ASSERT_TRUE(world.fs().Remove("f").ok());  // the open handle keeps the space
  auto other = world.Open("g");
  EXPECT_TRUE(io::IsNoSpace(other->Append(Bytes(std::string(800, 'b')))));
  CrashProcessAndRestart(world);
  auto fresh = world.Open("g");
  EXPECT_TRUE(fresh->Append(Bytes(std::string(800, 'b'))).ok());
}

TEST(CrashKindsTest, RuleCanCrashTheProcessOnly) {
  FaultPlan plan = WithCrash(DropEverything());
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = 1,
                        .action = FaultAction::kCrashBefore, .crash_kind = CrashKind::kProcess});
  World world(plan);
  auto file = world.Open("f");
  ASSERT_TRUE(file->Append(Bytes("x")).ok());
  EXPECT_TRUE(io::IsNodeDead(file->Sync()));
  EXPECT_FALSE(world.scheduler.IsAlive(world.node));
  world.disk.Crash(world.node);  // the rule settled the crash: a no-op
  world.scheduler.Restart(world.node, "main", [] {});
  auto reopened = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_EQ(ReadAll(*reopened), "x");
}

// --- the crash arm -------------------------------------------------------------

// The data of `syncs` syncs of one file, each "<i>" appended then synced.
void SyncTimes(io::File& file, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    ASSERT_TRUE(file.Append(Bytes(std::to_string(i))).ok());
    ASSERT_TRUE(file.Sync().ok()) << "sync " << i;
  }
}

TEST(CrashArmTest, CountsDownFromNowAndCrashesBeforeTheOp) {
  World world(WithCrash(DropEverything()));
  auto file = world.Open("f");
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  SyncTimes(*file, 0, 3);  // syncs before the arm do not count
  world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kFileSync, .countdown = 2, .label = "mid_commit"});
  EXPECT_TRUE(world.fs().crash_armed());
  SyncTimes(*file, 3, 1);  // the 1st sync from now
  ASSERT_TRUE(file->Append(Bytes("4")).ok());
  EXPECT_TRUE(io::IsNodeDead(file->Sync()));  // the 2nd: crashes before it takes effect
  EXPECT_FALSE(world.scheduler.IsAlive(world.node));
  EXPECT_FALSE(world.fs().crash_armed());
  world.disk.Crash(world.node);  // settled by the arm: a no-op
  EXPECT_EQ(world.disk.DurableImage(world.node).files.at("f"), "0123");
  EXPECT_EQ(world.disk.stats().count(FaultKind::kInjectedCrash), 1u);
}

TEST(CrashArmTest, CrashesAfterTheOpTookEffect) {
  World world(WithCrash(DropEverything()));
  auto file = world.Open("f");
  ASSERT_TRUE(world.fs().SyncDir("").ok());
  world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kFileSync, .countdown = 1, .after = true});
  ASSERT_TRUE(file->Append(Bytes("synced")).ok());
  EXPECT_TRUE(io::IsNodeDead(file->Sync()));
  world.disk.Crash(world.node);
  EXPECT_EQ(world.disk.DurableImage(world.node).files.at("f"), "synced");
}

TEST(CrashArmTest, ClassesCountTheirCalls) {
  {  // writes: WriteAt and Append, not syncs
    World world;
    auto file = world.Open("f");
    world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kWrite, .countdown = 2});
    ASSERT_TRUE(file->Sync().ok());
    ASSERT_TRUE(file->WriteAt(0, Bytes("a")).ok());
    EXPECT_TRUE(io::IsNodeDead(file->Append(Bytes("b"))));
  }
  {  // directory syncs only
    World world;
    auto file = world.Open("f");
    world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kDirSync, .countdown = 1});
    ASSERT_TRUE(file->Sync().ok());
    ASSERT_TRUE(file->Append(Bytes("a")).ok());
    EXPECT_TRUE(io::IsNodeDead(world.fs().SyncDir("")));
  }
  {  // any op: also Exists, List, Size, ReadAt and calls that fail
    World world;
    auto file = world.Open("f");
    world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kAnyOp, .countdown = 6});
    EXPECT_TRUE(world.fs().Exists("f").ok());
    EXPECT_TRUE(world.fs().List("").ok());
    EXPECT_TRUE(file->Size().ok());
    char byte = 0;
    EXPECT_TRUE(file->ReadAt(0, absl::Span<char>(&byte, 1)).ok());
    EXPECT_TRUE(absl::IsNotFound(world.fs().Remove("missing")));
    EXPECT_TRUE(io::IsNodeDead(world.fs().Exists("f").status()));
  }
}

TEST(CrashArmTest, CountsOnlyWhileItsPredicateHolds) {
  World world;
  auto file = world.Open("f");
  bool recovering = false;
  world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kFileSync,
                               .countdown = 1,
                               .label = "crash_in_recovery",
                               .counts_when = [&] { return recovering; }});
  ASSERT_TRUE(file->Sync().ok());  // outside recovery: not counted
  EXPECT_TRUE(world.fs().crash_armed());
  recovering = true;
  EXPECT_TRUE(io::IsNodeDead(file->Sync()));
}

TEST(CrashArmTest, LabelIsTracedAndOnFireRunsDisarmed) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .record_trace = true});
  const NodeId node = scheduler.AddNode("n1");
  SimDisk disk(scheduler);
  auto file = disk.ForNode(node).Open("f", io::OpenMode::kCreate).value();
  int fired = 0;
  disk.ForNode(node).ArmCrash(CrashArm{.ops = ArmedOps::kWrite,
                                       .countdown = 1,
                                       .label = "crash_mid_write",
                                       .on_fire = [&](const CrashArm& arm) {
                                         ++fired;
                                         EXPECT_EQ(arm.label, "crash_mid_write");
                                         EXPECT_FALSE(disk.ForNode(node).crash_armed());
                                         EXPECT_TRUE(scheduler.IsAlive(node));
                                       }});
  EXPECT_TRUE(io::IsNodeDead(file->Append(Bytes("x"))));
  EXPECT_EQ(fired, 1);
  bool armed_traced = false;
  bool fire_traced = false;
  bool crash_reason = false;
  for (const TraceEvent& event : scheduler.trace().events()) {
    armed_traced = armed_traced || event.text.find("crash armed: crash_mid_write") != std::string::npos;
    fire_traced = fire_traced || event.text == "crash arm fires: crash_mid_write";
    crash_reason = crash_reason ||
                   (event.kind == TraceKind::kCrash && event.text == "crash_mid_write");
  }
  EXPECT_TRUE(armed_traced);
  EXPECT_TRUE(fire_traced);
  EXPECT_TRUE(crash_reason);
}

TEST(CrashArmTest, ProcessCrashKindKeepsTheCache) {
  World world(WithCrash(DropEverything()));
  auto file = world.Open("f");
  world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kFileSync, .kind = CrashKind::kProcess});
  ASSERT_TRUE(file->Append(Bytes("cached")).ok());
  EXPECT_TRUE(io::IsNodeDead(file->Sync()));
  world.scheduler.Restart(world.node, "main", [] {});
  auto reopened = world.Open("f", io::OpenMode::kReadWrite);
  EXPECT_EQ(ReadAll(*reopened), "cached");
}

TEST(CrashArmTest, TheNodesFiberNeverSeesTheOpReturn) {
  World world(WithCrash(KeepEverything()));
  int syncs_returned = 0;
  world.fs().ArmCrash(CrashArm{.ops = ArmedOps::kFileSync, .countdown = 3, .after = true});
  world.scheduler.StartFiberOn(world.node, "writer", [&] {
    auto file = world.fs().Open("f", io::OpenMode::kCreate).value();
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(file->Append(Bytes("x")).ok());
      ASSERT_TRUE(file->Sync().ok());
      ++syncs_returned;
    }
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  EXPECT_EQ(syncs_returned, 2);
  EXPECT_FALSE(world.scheduler.IsAlive(world.node));
}

}  // namespace
}  // namespace faultline::sim::disk
