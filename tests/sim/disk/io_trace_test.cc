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

// The formatted events of `kind` that `scheduler` kept.
std::vector<std::string> LinesOf(Scheduler& scheduler, TraceKind kind) {
  std::vector<std::string> lines;
  for (const TraceEvent& event : scheduler.trace().events()) {
    if (event.kind == kind) lines.push_back(event.Format("n1"));
  }
  return lines;
}

TEST(IoTrace, ACrashNamesWhatItDidToEachPendingOperation) {
  // Writes are dropped, but keep their size (zeros); the newest write is
  // torn by force (its first sector kept, its last lost); namespace ops not
  // made durable are dropped.
  CrashRates rates = testing::DropEverything();
  rates.size_without_data_ppm = 1'000'000;
  rates.size_garbage_ppm = 0;
  Scheduler scheduler(SchedulerOptions{.seed = 1, .record_trace = true});
  const NodeId node = scheduler.AddNode("n1");
  SimDisk disk(scheduler, DiskOptions{.atomic_unit_bytes = 512}, testing::WithCrash(rates));
  SimFileSystem& fs = disk.ForNode(node);
  ASSERT_TRUE(fs.CreateDir("d").ok());
  auto file = fs.Open("d/f", io::OpenMode::kCreate).value();
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs.SyncDir("").ok());
  ASSERT_TRUE(fs.SyncDir("d").ok());
  const std::string kilobyte(1024, 'x');
  ASSERT_TRUE(file->WriteAt(0, Bytes(kilobyte)).ok());
  ASSERT_TRUE(file->WriteAt(1024, Bytes(kilobyte)).ok());
  ASSERT_TRUE(fs.Open("d/g", io::OpenMode::kCreate).ok());
  scheduler.Crash(node, "test");
  disk.Crash(node, CrashOptions{.tear_last_write = true});
  const std::vector<std::string> lines = LinesOf(scheduler, TraceKind::kDisk);
  const std::string all = ::testing::PrintToString(lines);
  EXPECT_TRUE(AnyLineHas(lines, "n1       disk    off=0 len=1024  write d/f: dropped; size "
                                "without data (zeros)")) << all;
  EXPECT_TRUE(AnyLineHas(lines, "off=1024 len=1024  write d/f: torn (512-byte sectors: kept 2, "
                                "lost 3); size without data (zeros)")) << all;
  EXPECT_TRUE(AnyLineHas(lines, "create d/g: dropped")) << all;
}

TEST(IoTrace, ATornWriteListsItsSectorsByOutcome) {
  // Every write is torn; each torn sector persists, as garbage.
  CrashRates rates = testing::DropEverything();
  rates.write_torn_ppm = 1'000'000;
  rates.torn_sector_persist_ppm = 1'000'000;
  rates.torn_sector_garbage_ppm = 1'000'000;
  Scheduler scheduler(SchedulerOptions{.seed = 1, .record_trace = true});
  const NodeId node = scheduler.AddNode("n1");
  SimDisk disk(scheduler, DiskOptions{.atomic_unit_bytes = 512}, testing::WithCrash(rates));
  SimFileSystem& fs = disk.ForNode(node);
  auto file = fs.Open("f", io::OpenMode::kCreate).value();
  ASSERT_TRUE(file->WriteAt(0, Bytes(std::string(2048, 'x'))).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs.SyncDir("").ok());
  ASSERT_TRUE(file->WriteAt(100, Bytes(std::string(1000, 'y'))).ok());
  scheduler.Crash(node, "test");
  disk.Crash(node, CrashOptions{});
  const std::vector<std::string> lines = LinesOf(scheduler, TraceKind::kDisk);
  EXPECT_TRUE(AnyLineHas(lines, "off=100 len=1000  write f: torn (512-byte sectors: garbage 0-2)"))
      << ::testing::PrintToString(lines);
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
