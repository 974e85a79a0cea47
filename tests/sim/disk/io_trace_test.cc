// Tests that every operation of the code under test on the simulated disk is
// a TraceKind::kIo event with its file, offset, length and result, and that
// keeping the events does not change the hash (the text is built lazily).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"
#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk {
namespace {

using testing::Bytes;

// Runs the same few operations; returns the trace hash and, when
// `record`, the formatted kIo events.
uint64_t RunOps(bool record, std::vector<std::string>* io_lines) {
  Scheduler scheduler(SchedulerOptions{.seed = 3, .record_trace = record});
  const NodeId node = scheduler.AddNode("n1");
  SimDisk disk(scheduler);
  SimFileSystem& fs = disk.ForNode(node);
  EXPECT_TRUE(fs.CreateDir("d").ok());
  auto file = fs.Open("d/f", io::OpenMode::kCreate).value();
  EXPECT_TRUE(file->Append(Bytes("hello")).ok());
  EXPECT_TRUE(file->WriteAt(2, Bytes("LL")).ok());
  EXPECT_TRUE(file->Sync().ok());
  std::string out(8, '\0');
  EXPECT_EQ(file->ReadAt(1, absl::Span<char>(out.data(), out.size())).value(), 4u);
  EXPECT_TRUE(file->Truncate(3).ok());
  EXPECT_TRUE(fs.Rename("d/f", "d/g").ok());
  EXPECT_TRUE(fs.SyncDir("d").ok());
  EXPECT_FALSE(fs.Remove("d/missing").ok());
  for (const TraceEvent& event : scheduler.trace().events()) {
    if (event.kind == TraceKind::kIo) io_lines->push_back(event.Format("n1"));
  }
  return scheduler.trace().hash();
}

bool AnyLineHas(const std::vector<std::string>& lines, std::string_view part) {
  for (const std::string& line : lines) {
    if (line.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(IoTrace, EveryOperationIsAnEventWithItsFileOffsetLengthAndResult) {
  std::vector<std::string> lines;
  RunOps(/*record=*/true, &lines);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_TRUE(AnyLineHas(lines, " mkdir d -> ok"));
  EXPECT_TRUE(AnyLineHas(lines, "off=0 len=5  append d/f -> ok"));
  EXPECT_TRUE(AnyLineHas(lines, "off=2 len=2  write d/f -> ok"));
  EXPECT_TRUE(AnyLineHas(lines, " fdatasync d/f -> ok"));
  EXPECT_TRUE(AnyLineHas(lines, "off=1 len=4  read d/f -> ok"));
  EXPECT_TRUE(AnyLineHas(lines, "size=3  truncate d/f -> ok"));
  EXPECT_TRUE(AnyLineHas(lines, "rename d/f -> d/g -> ok"));
  EXPECT_TRUE(AnyLineHas(lines, " fsync_dir d -> ok"));
  EXPECT_TRUE(AnyLineHas(lines, "remove d/missing -> NOT_FOUND"));
}

TEST(IoTrace, KeepingTheEventsDoesNotChangeTheHash) {
  std::vector<std::string> recorded, quiet;
  EXPECT_EQ(RunOps(/*record=*/true, &recorded), RunOps(/*record=*/false, &quiet));
  EXPECT_TRUE(quiet.empty());
}

TEST(IoTrace, ACrashNamesWhatItDidToEachPendingOperation) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .record_trace = true});
  const NodeId node = scheduler.AddNode("n1");
  SimDisk disk(scheduler, DiskOptions{}, testing::WithCrash(testing::DropEverything()));
  auto file = disk.ForNode(node).Open("f", io::OpenMode::kCreate).value();
  ASSERT_TRUE(file->Append(Bytes("unsynced")).ok());
  scheduler.Crash(node, "test");
  disk.Crash(node, CrashOptions{});
  std::vector<std::string> crash_lines;
  for (const TraceEvent& event : scheduler.trace().events()) {
    if (event.kind == TraceKind::kCrash) crash_lines.push_back(event.Format("n1"));
  }
  EXPECT_TRUE(AnyLineHas(crash_lines, "write dropped"));
  EXPECT_TRUE(AnyLineHas(crash_lines, "namespace op dropped"));
}

TEST(IoTrace, AFaultEventNamesItsKind) {
  Scheduler scheduler(SchedulerOptions{.seed = 1, .record_trace = true});
  const NodeId node = scheduler.AddNode("n1");
  SimDisk disk(scheduler);
  auto file = disk.ForNode(node).Open("f", io::OpenMode::kCreate).value();
  ASSERT_TRUE(file->Append(Bytes("data")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(disk.ForNode(node).SyncDir("").ok());
  ASSERT_TRUE(disk.FlipDurableBit(node, "f", 3).ok());
  std::vector<std::string> fault_lines;
  for (const TraceEvent& event : scheduler.trace().events()) {
    if (event.kind == TraceKind::kFault) fault_lines.push_back(event.Format("n1"));
  }
  EXPECT_TRUE(AnyLineHas(fault_lines, "kind=bit_flip bit=3")) << ::testing::PrintToString(fault_lines);
  EXPECT_FALSE(AnyLineHas(fault_lines, "kind=6"));
}

}  // namespace
}  // namespace faultline::sim::disk
