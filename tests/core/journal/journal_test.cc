// tests/core/journal/journal_test.cc — the journal on the simulated disk:
// checkpoint and recover, WAL release, leftover tmp files, fallback to an
// older snapshot, DataLoss naming the file, errors naming the stage,
// fail-stop after a failed sync, and snapshot I/O in bounded chunks.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/errors.h"
#include "core/journal/journal.h"
#include "core/journal/kv_state_machine.h"
#include "core/journal/snapshot_format.h"
#include "core/journal/snapshot_io.h"
#include "scenarios/io/forwarding_file_system.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"
#include "spdlog/spdlog.h"

namespace faultline::journal {
namespace {

constexpr char kDir[] = "j";

// Records the largest read and write of snapshot files.
class ChunkWatchingFileSystem final : public scenarios::ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  size_t max_snapshot_io_bytes = 0;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view path,
                                     std::unique_ptr<io::File> file) override {
    if (path.find("snapshot-") == std::string_view::npos) return file;
    return std::make_unique<Watched>(std::move(file), this);
  }

 private:
  class Watched final : public scenarios::ForwardingFile {
   public:
    Watched(std::unique_ptr<io::File> inner, ChunkWatchingFileSystem* fs)
        : ForwardingFile(std::move(inner)), fs_(fs) {}
    absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
      fs_->max_snapshot_io_bytes = std::max(fs_->max_snapshot_io_bytes, out.size());
      return ForwardingFile::ReadAt(offset, out);
    }
    absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
      fs_->max_snapshot_io_bytes = std::max(fs_->max_snapshot_io_bytes, data.size());
      return ForwardingFile::WriteAt(offset, data);
    }

   private:
    ChunkWatchingFileSystem* fs_;
  };
};

struct Sim {
  explicit Sim(sim::disk::FaultPlan plan = {}, sim::disk::DiskOptions options = {})
      : scheduler(sim::SchedulerOptions{.seed = 7, .stack_size_bytes = 256 * 1024}),
        node(scheduler.AddNode("n1")),
        disk(scheduler, options, std::move(plan)) {}

  // Runs `body` in a fiber of the node until it returns.
  void Run(const std::function<void(io::FileSystem&)>& body) {
    scheduler.StartFiberOn(node, "test", [&] {
      body(disk.ForNode(node));
      scheduler.Stop("done");
    });
    const sim::RunResult result = scheduler.Run();
    ASSERT_TRUE(result.ok()) << result.detail;
  }

  sim::Scheduler scheduler;
  sim::NodeId node;
  sim::disk::SimDisk disk;
};

JournalOptions SmallOptions() {
  JournalOptions options;
  options.wal.segment_size_bytes = 256;
  options.wal.max_record_bytes = 512;
  options.wal.max_queued_bytes = 4096;
  options.chunk_bytes = 512;
  return options;
}

std::string Key(int i) { return "key" + std::to_string(i % 17); }
std::string Value(int i) { return std::string(static_cast<size_t>(i % 40 + 1), 'a' + i % 26); }

// Appends records [from, to) to `journal` and to `model`.
void AppendRange(Journal& journal, KvStateMachine& model, int from, int to) {
  for (int i = from; i < to; ++i) {
    const std::string record = i % 5 == 4 ? KvStateMachine::EncodeDelete(Key(i))
                                          : KvStateMachine::EncodePut(Key(i), Value(i));
    absl::StatusOr<uint64_t> sequence = journal.Append(record);
    ASSERT_TRUE(sequence.ok()) << sequence.status();
    ASSERT_TRUE(model.Apply(*sequence, record).ok());
  }
}

absl::StatusOr<std::unique_ptr<Journal>> Recover(io::FileSystem& fs, sim::Scheduler& scheduler,
                                                 KvStateMachine& machine,
                                                 const JournalOptions& options = SmallOptions()) {
  return Journal::Recover(fs, scheduler, kDir, options, machine);
}

std::string SnapshotPath(uint64_t sequence) {
  return io::JoinPath(kDir, format::SnapshotName(sequence));
}

TEST(Journal, CheckpointThenRecoverRestoresSnapshotPlusSuffix) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    auto journal = Recover(fs, sim.scheduler, machine);
    ASSERT_TRUE(journal.ok()) << journal.status();
    AppendRange(**journal, model, 0, 60);
    absl::StatusOr<uint64_t> covered = (*journal)->Checkpoint();
    ASSERT_TRUE(covered.ok()) << covered.status();
    EXPECT_EQ(*covered, 60u);
    EXPECT_EQ((*journal)->snapshot_sequence(), 60u);
    EXPECT_GT((*journal)->wal().first_sequence(), 1u) << "the WAL was not released";
    AppendRange(**journal, model, 60, 75);
    ASSERT_TRUE((*journal)->Close().ok());
    journal->reset();

    KvStateMachine recovered;
    auto again = Recover(fs, sim.scheduler, recovered);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE((*again)->recovery().from_snapshot);
    EXPECT_EQ((*again)->recovery().snapshot_sequence, 60u);
    EXPECT_EQ((*again)->recovery().replayed_records, 15u);
    EXPECT_EQ((*again)->applied_sequence(), 75u);
    EXPECT_EQ(recovered.entries(), model.entries());
    // A checkpoint with nothing new is a no-op.
    ASSERT_TRUE((*again)->Checkpoint().ok());
    EXPECT_EQ(*(*again)->Checkpoint(), 75u);
    EXPECT_EQ(*(*again)->Checkpoint(), 75u);
  });
}

TEST(Journal, KeepsOnlyTheNewestSnapshots) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    auto journal = Recover(fs, sim.scheduler, machine);
    ASSERT_TRUE(journal.ok());
    for (int round = 0; round < 4; ++round) {
      AppendRange(**journal, model, round * 10, round * 10 + 10);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
    }
    absl::StatusOr<std::vector<std::string>> names = fs.List(kDir);
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{format::SnapshotName(30), format::SnapshotName(40),
                                                "wal"}));
    ASSERT_TRUE((*journal)->Close().ok());
  });
}

TEST(Journal, LeftoverTmpFileIsRemovedAndNeverRead) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    {
      auto journal = Recover(fs, sim.scheduler, machine);
      ASSERT_TRUE(journal.ok());
      AppendRange(**journal, model, 0, 20);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      AppendRange(**journal, model, 20, 30);
      ASSERT_TRUE((*journal)->Close().ok());
    }
    // A tmp file newer than every snapshot, fully valid-looking but never
    // renamed: a copy of the real snapshot under the tmp name of seq 99.
    const std::string tmp = io::JoinPath(kDir, format::TmpName(99));
    auto file = fs.Open(tmp, io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->WriteAt(0, std::string(100, 'x')).ok());
    file->reset();
    KvStateMachine recovered;
    auto journal = Recover(fs, sim.scheduler, recovered);
    ASSERT_TRUE(journal.ok()) << journal.status();
    EXPECT_EQ((*journal)->recovery().removed_tmp_files, 1u);
    EXPECT_EQ((*journal)->recovery().snapshot_sequence, 20u);
    EXPECT_FALSE(*fs.Exists(tmp));
    EXPECT_EQ(recovered.entries(), model.entries());
  });
}

TEST(Journal, DamagedNewestSnapshotFallsBackWhileTheWalHoldsTheRecords) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    JournalOptions options = SmallOptions();
    options.wal.segment_size_bytes = 1 << 20;  // one segment: nothing is released
    {
      auto journal = Recover(fs, sim.scheduler, machine, options);
      ASSERT_TRUE(journal.ok());
      AppendRange(**journal, model, 0, 10);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      AppendRange(**journal, model, 10, 20);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      AppendRange(**journal, model, 20, 25);
      ASSERT_TRUE((*journal)->Close().ok());
    }
    ASSERT_TRUE(sim.disk.FlipDurableBit(sim.node, SnapshotPath(20), 8 * 50 + 3).ok());
    KvStateMachine recovered;
    auto journal = Recover(fs, sim.scheduler, recovered, options);
    ASSERT_TRUE(journal.ok()) << journal.status();
    EXPECT_EQ((*journal)->recovery().snapshot_sequence, 10u);
    ASSERT_EQ((*journal)->recovery().skipped_snapshots.size(), 1u);
    EXPECT_NE((*journal)->recovery().skipped_snapshots[0].find(format::SnapshotName(20)),
              std::string::npos);
    EXPECT_NE((*journal)->recovery().skipped_snapshots[0].find("verify"), std::string::npos);
    EXPECT_EQ(recovered.entries(), model.entries());
    // The next checkpoint replaces the damaged file.
    AppendRange(**journal, model, 25, 27);
    ASSERT_TRUE((*journal)->Checkpoint().ok());
    EXPECT_FALSE(*fs.Exists(SnapshotPath(20)));
  });
}

TEST(Journal, DamagedSnapshotWithoutFallbackIsDataLossNamingTheFile) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    {
      auto journal = Recover(fs, sim.scheduler, machine);
      ASSERT_TRUE(journal.ok());
      AppendRange(**journal, model, 0, 40);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      AppendRange(**journal, model, 40, 80);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      EXPECT_GT((*journal)->wal().first_sequence(), 41u);
      ASSERT_TRUE((*journal)->Close().ok());
    }
    ASSERT_TRUE(sim.disk.FlipDurableBit(sim.node, SnapshotPath(80), 8 * 60).ok());
    KvStateMachine recovered;
    auto journal = Recover(fs, sim.scheduler, recovered);
    ASSERT_FALSE(journal.ok());
    EXPECT_TRUE(absl::IsDataLoss(journal.status())) << journal.status();
    EXPECT_NE(journal.status().message().find(format::SnapshotName(80)), std::string::npos)
        << journal.status();
    EXPECT_NE(journal.status().message().find("verify"), std::string::npos);
    EXPECT_TRUE(recovered.entries().empty()) << "a damaged snapshot was left in the machine";
  });
}

TEST(Journal, LostSnapshotIsDataLossNotAnEmptyState) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    {
      auto journal = Recover(fs, sim.scheduler, machine);
      ASSERT_TRUE(journal.ok());
      AppendRange(**journal, model, 0, 40);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      ASSERT_TRUE((*journal)->Close().ok());
    }
    ASSERT_TRUE(fs.Remove(SnapshotPath(40)).ok());
    KvStateMachine recovered;
    auto journal = Recover(fs, sim.scheduler, recovered);
    ASSERT_FALSE(journal.ok());
    EXPECT_TRUE(absl::IsDataLoss(journal.status())) << journal.status();
    EXPECT_NE(journal.status().message().find("no snapshot"), std::string::npos);
  });
}

// A damaged snapshot's name still says that every record up to its
// sequence was durable. With the WAL's segments gone (released, then the
// only one left lost), falling back to the older snapshot would silently
// drop the records in between: recovery must fail naming the file.
TEST(Journal, DamagedNewestSnapshotBeyondTheWalsEndIsDataLossNotAnOlderState) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    JournalOptions options = SmallOptions();
    options.wal.segment_size_bytes = 1 << 20;  // one segment: nothing is released
    {
      auto journal = Recover(fs, sim.scheduler, machine, options);
      ASSERT_TRUE(journal.ok());
      AppendRange(**journal, model, 0, 10);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      AppendRange(**journal, model, 10, 20);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      ASSERT_TRUE((*journal)->Close().ok());
    }
    const std::string wal_dir = io::JoinPath(kDir, format::kWalDirName);
    absl::StatusOr<std::vector<std::string>> segments = fs.List(wal_dir);
    ASSERT_TRUE(segments.ok());
    for (const std::string& name : *segments) {
      ASSERT_TRUE(fs.Remove(io::JoinPath(wal_dir, name)).ok());
    }
    ASSERT_TRUE(sim.disk.FlipDurableBit(sim.node, SnapshotPath(20), 8 * 50 + 3).ok());
    KvStateMachine recovered;
    auto journal = Recover(fs, sim.scheduler, recovered, options);
    ASSERT_FALSE(journal.ok()) << "recovered the state after "
                               << (*journal)->applied_sequence() << " records of 20";
    EXPECT_TRUE(absl::IsDataLoss(journal.status())) << journal.status();
    EXPECT_NE(journal.status().message().find(format::SnapshotName(20)), std::string::npos)
        << journal.status();
  });
}

// Hostile directory entries: a directory where a snapshot or a tmp file is
// expected is a clear error (or ignored), never a crash or a journal whose
// every checkpoint then fails.
TEST(Journal, DirectoryNamedLikeASnapshotIsRefusedClearly) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    {
      auto journal = Recover(fs, sim.scheduler, machine);
      ASSERT_TRUE(journal.ok());
      AppendRange(**journal, model, 0, 20);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      ASSERT_TRUE((*journal)->Close().ok());
    }
    ASSERT_TRUE(fs.CreateDir(SnapshotPath(99)).ok());
    KvStateMachine recovered;
    auto journal = Recover(fs, sim.scheduler, recovered);
    if (journal.ok()) {
      AppendRange(**journal, model, 20, 120);
      absl::StatusOr<uint64_t> covered = (*journal)->Checkpoint();
      EXPECT_TRUE(covered.ok()) << covered.status();
    } else {
      EXPECT_NE(journal.status().message().find(format::SnapshotName(99)), std::string::npos)
          << journal.status();
    }
  });
}

TEST(Journal, DirectoryNamedLikeATmpFileIsRefusedClearly) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    {
      auto journal = Recover(fs, sim.scheduler, machine);
      ASSERT_TRUE(journal.ok());
      AppendRange(**journal, model, 0, 20);
      ASSERT_TRUE((*journal)->Close().ok());
    }
    const std::string tmp = io::JoinPath(kDir, format::TmpName(30));
    ASSERT_TRUE(fs.CreateDir(tmp).ok());
    ASSERT_TRUE(fs.Open(io::JoinPath(tmp, "x"), io::OpenMode::kCreateExclusive).ok());
    KvStateMachine recovered;
    auto journal = Recover(fs, sim.scheduler, recovered);
    if (!journal.ok()) {
      EXPECT_NE(journal.status().message().find(format::TmpName(30)), std::string::npos)
          << journal.status();
    }
  });
}

// A well-formed snapshot claiming the last sequence number leaves no number
// for the record after it: hostile input, refused with a status naming the
// file, never an assertion failure.
TEST(Journal, SnapshotAtTheLastSequenceNumberIsRefusedNotACrash) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    ASSERT_TRUE(fs.CreateDir(kDir).ok());
    const std::string path = SnapshotPath(UINT64_MAX);
    auto file = fs.Open(path, io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(file.ok());
    KvStateMachine empty;
    ASSERT_TRUE(WriteSnapshotFile(**file, empty, UINT64_MAX, 512).ok());
    file->reset();
    KvStateMachine recovered;
    auto journal = Recover(fs, sim.scheduler, recovered);
    ASSERT_FALSE(journal.ok());
    EXPECT_TRUE(absl::IsDataLoss(journal.status())) << journal.status();
    EXPECT_NE(journal.status().message().find(format::SnapshotName(UINT64_MAX)),
              std::string::npos)
        << journal.status();
  });
}

TEST(Journal, UnreadableSnapshotIsAReadErrorNamingTheFile) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    {
      auto journal = Recover(fs, sim.scheduler, machine);
      ASSERT_TRUE(journal.ok());
      AppendRange(**journal, model, 0, 40);
      ASSERT_TRUE((*journal)->Checkpoint().ok());
      ASSERT_TRUE((*journal)->Close().ok());
    }
    ASSERT_TRUE(sim.disk.AddLatentSectorError(sim.node, SnapshotPath(40), 0).ok());
    KvStateMachine recovered;
    auto journal = Recover(fs, sim.scheduler, recovered);
    ASSERT_FALSE(journal.ok());
    EXPECT_TRUE(io::IsIoError(journal.status())) << journal.status();
    EXPECT_NE(journal.status().message().find("journal read " + SnapshotPath(40)),
              std::string::npos)
        << journal.status();
  });
}

TEST(Journal, FailedSnapshotSyncStopsTheJournalAndNamesTheStage) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    auto journal = Recover(fs, sim.scheduler, machine);
    ASSERT_TRUE(journal.ok());
    AppendRange(**journal, model, 0, 10);
    sim.disk.plan().rates.sync_eio_ppm = 1'000'000;
    absl::StatusOr<uint64_t> covered = (*journal)->Checkpoint();
    sim.disk.plan().rates.sync_eio_ppm = 0;
    ASSERT_FALSE(covered.ok());
    EXPECT_TRUE(io::IsIoError(covered.status()));
    EXPECT_NE(covered.status().message().find("journal sync"), std::string::npos)
        << covered.status();
    EXPECT_FALSE((*journal)->health().ok());
    EXPECT_TRUE(absl::IsFailedPrecondition((*journal)->Append("x").status()));
    EXPECT_EQ((*journal)->snapshot_sequence(), 0u);
    EXPECT_FALSE((*journal)->Close().ok()) << "Close must own up to the failure";
    journal->reset();
    KvStateMachine recovered;
    auto again = Recover(fs, sim.scheduler, recovered);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ((*again)->recovery().removed_tmp_files, 1u);
    EXPECT_EQ(recovered.entries(), model.entries());
  });
}

TEST(Journal, FailedDirectorySyncStopsTheJournalBeforeAnyRelease) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    auto journal = Recover(fs, sim.scheduler, machine);
    ASSERT_TRUE(journal.ok());
    AppendRange(**journal, model, 0, 40);
    const uint64_t first = (*journal)->wal().first_sequence();
    sim.disk.plan().rates.sync_dir_eio_ppm = 1'000'000;
    absl::StatusOr<uint64_t> covered = (*journal)->Checkpoint();
    sim.disk.plan().rates.sync_dir_eio_ppm = 0;
    ASSERT_FALSE(covered.ok());
    EXPECT_NE(covered.status().message().find("journal directory sync"), std::string::npos)
        << covered.status();
    EXPECT_EQ((*journal)->wal().first_sequence(), first) << "released before the rename was durable";
    EXPECT_FALSE((*journal)->health().ok());
  });
}

TEST(Journal, FullDiskWhileWritingASnapshotFailsTheCheckpointOnly) {
  sim::disk::DiskOptions disk_options;
  // Room for the 30 records below in the WAL's 4 KiB-aligned batches (a
  // sector each, FORMAT.md) before the filler takes the rest.
  disk_options.capacity_bytes = 512 << 10;
  Sim sim({}, disk_options);
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine, model;
    auto journal = Recover(fs, sim.scheduler, machine);
    ASSERT_TRUE(journal.ok());
    AppendRange(**journal, model, 0, 30);
    // Fill the disk but for 100 bytes: the largest size a filler file can
    // take, found by bisection (Truncate is refused past the capacity).
    auto filler = fs.Open("filler", io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(filler.ok());
    uint64_t low = 0, high = disk_options.capacity_bytes;
    while (low + 1 < high) {
      const uint64_t mid = (low + high) / 2;
      (io::IsNoSpace((*filler)->Truncate(mid)) ? high : low) = mid;
    }
    ASSERT_TRUE((*filler)->Truncate(low - 100).ok());
    absl::StatusOr<uint64_t> covered = (*journal)->Checkpoint();
    ASSERT_FALSE(covered.ok());
    EXPECT_TRUE(io::IsNoSpace(covered.status())) << covered.status();
    EXPECT_NE(covered.status().message().find("journal write"), std::string::npos)
        << covered.status();
    EXPECT_TRUE((*journal)->health().ok()) << "a refused write is no reason to stop";
    EXPECT_FALSE(*fs.Exists(io::JoinPath(kDir, format::TmpName(30)))) << "tmp file left behind";
    ASSERT_TRUE((*filler)->Truncate(0).ok());
    covered = (*journal)->Checkpoint();
    ASSERT_TRUE(covered.ok()) << covered.status();
    EXPECT_EQ(*covered, 30u);
    AppendRange(**journal, model, 30, 31);
    EXPECT_EQ(machine.entries(), model.entries());
  });
}

TEST(Journal, SnapshotIoStaysWithinTheChunkSize) {
  Sim sim;
  sim.Run([&](io::FileSystem& inner) {
    ChunkWatchingFileSystem fs(inner);
    KvStateMachine machine, model;
    auto journal = Recover(fs, sim.scheduler, machine);
    ASSERT_TRUE(journal.ok());
    for (int i = 0; i < 200; ++i) {
      const std::string record = KvStateMachine::EncodePut("k" + std::to_string(i),
                                                           std::string(300, 'v'));
      ASSERT_TRUE((*journal)->Append(record).ok());
      ASSERT_TRUE(model.Apply(static_cast<uint64_t>(i + 1), record).ok());
    }
    ASSERT_TRUE((*journal)->Checkpoint().ok());
    ASSERT_TRUE((*journal)->Close().ok());
    journal->reset();
    KvStateMachine recovered;
    auto again = Recover(fs, sim.scheduler, recovered);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(recovered.entries(), model.entries());
    EXPECT_GT(fs.max_snapshot_io_bytes, 0u);
    EXPECT_LE(fs.max_snapshot_io_bytes, SmallOptions().chunk_bytes);
  });
}

TEST(Journal, RefusesForeignFilesAndBadOptions) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine;
    JournalOptions bad = SmallOptions();
    bad.kept_snapshots = 0;
    EXPECT_TRUE(absl::IsInvalidArgument(Recover(fs, sim.scheduler, machine, bad).status()));
    bad = SmallOptions();
    bad.chunk_bytes = 1;
    EXPECT_TRUE(absl::IsInvalidArgument(Recover(fs, sim.scheduler, machine, bad).status()));
    ASSERT_TRUE(fs.CreateDir(kDir).ok());
    ASSERT_TRUE(fs.Open(io::JoinPath(kDir, "notes.txt"), io::OpenMode::kCreateExclusive).ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(Recover(fs, sim.scheduler, machine).status()));
  });
}

TEST(Journal, RefusesRecordsTheMachineWouldRefuse) {
  Sim sim;
  sim.Run([&](io::FileSystem& fs) {
    KvStateMachine machine;
    auto journal = Recover(fs, sim.scheduler, machine);
    ASSERT_TRUE(journal.ok());
    EXPECT_TRUE(absl::IsInvalidArgument((*journal)->Append("garbage").status()));
    EXPECT_EQ((*journal)->wal().last_sequence(), 0u);
    EXPECT_TRUE((*journal)->health().ok());
  });
}

}  // namespace
}  // namespace faultline::journal

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::off);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
