// A replica stores the leader's frames as its payloads; a crash tears its
// last, never-synced batch. Every crash state (sim::disk::EnumerateCrashStates)
// must recover by truncating the torn tail: frames inside payloads, written
// by another log, must never pass for proof that acknowledged records were
// lost (DataLoss).
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/wal/format.h"
#include "core/wal/wal.h"
#include "sim/disk/crash_enumerator.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"
#include "tests/core/wal/crash_state_util.h"

namespace faultline::wal::testing {
namespace {

// The raw frames (everything past the header) of one segment of `dir`.
std::string SegmentFrames(io::FileSystem& fs, std::string_view dir, uint64_t first_sequence) {
  auto file = fs.Open(io::JoinPath(dir, format::SegmentName(first_sequence)),
                      io::OpenMode::kReadWrite);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return "";
  std::string bytes(8192, '\0');
  auto got = (*file)->ReadAt(0, absl::Span<char>(bytes.data(), bytes.size()));
  EXPECT_TRUE(got.ok());
  if (!got.ok()) return "";
  bytes.resize(*got);
  return bytes.substr(format::kSegmentHeaderBytes);
}

// The leader's log is in directory "leader" of the replica's machine, or in
// a directory named like the replica's on a machine of its own.
void CheckTornBatchOfPayloadsThatHoldFrames(uint64_t leader_salt_seed, uint64_t salt_seed,
                                            bool leader_on_its_own_machine) {
  WalOptions leader_options = TinyOptions();
  leader_options.segment_size_bytes = 1 << 16;
  leader_options.salt_seed = leader_salt_seed;
  WalOptions options = leader_options;
  options.salt_seed = salt_seed;
  // The leader's frames packed, so that they fit one replica record; the
  // replica keeps the default sector alignment.
  leader_options.sector_bytes = 0;
  const std::string small = "acknowledged";
  std::optional<sim::disk::CrashStates> states;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
  const sim::NodeId node = scheduler.AddNode("db");
  const sim::NodeId leader_node = scheduler.AddNode("leader");
  sim::disk::SimDisk disk(scheduler);
  scheduler.StartFiberOn(node, "owner", [&] {
    io::FileSystem& fs = disk.ForNode(node);
    io::FileSystem& leader_fs = leader_on_its_own_machine ? disk.ForNode(leader_node) : fs;
    const std::string leader_dir = leader_on_its_own_machine ? kCrashDir : "leader";
    // The leader: records acknowledged one by one, so the watermarks rise
    // (and so does the clock: each sync takes a millisecond).
    disk.plan().latency.sync = sim::disk::LatencyModel::Fixed(io::kNanosPerMilli);
    auto leader = Wal::Open(leader_fs, scheduler, leader_dir, leader_options);
    ASSERT_TRUE(leader.ok()) << leader.status();
    for (int i = 0; i < 12; ++i) {
      auto appended = (*leader)->Append(std::string(60, static_cast<char>('a' + i)));
      ASSERT_TRUE(appended.ok());
      ASSERT_TRUE(appended->durable.Get().ok());
    }
    ASSERT_TRUE((*leader)->Close().ok());
    const std::string frames = SegmentFrames(leader_fs, leader_dir, 1);
    disk.plan().latency.sync = sim::disk::LatencyModel{};
    ASSERT_GT(frames.size(), 1000u);

    auto replica = Wal::Open(fs, scheduler, kCrashDir, options);
    ASSERT_TRUE(replica.ok()) << replica.status();
    auto one = (*replica)->Append(small);
    ASSERT_TRUE(one.ok());
    ASSERT_TRUE(one->durable.Get().ok());
    // The next batch's sync takes long; its write stays pending meanwhile.
    disk.plan().latency.sync = sim::disk::LatencyModel::Fixed(10 * io::kNanosPerMilli);
    ASSERT_TRUE((*replica)->Append(frames).ok());
    scheduler.SleepFor(io::kNanosPerMilli);
    states = sim::disk::EnumerateCrashStates(disk, node, {.max_states = 4096});
    (void)(*replica)->Close();
  });
  ASSERT_TRUE(scheduler.Run().ok());
  ASSERT_TRUE(states.has_value());
  ASSERT_GT(states->states.size(), 2u);
  for (size_t i = 0; i < states->states.size(); ++i) {
    const Recovered recovered = RecoverFrom(states->states[i], options);
    EXPECT_TRUE(recovered.open_status.ok())
        << "crash state " << i << " of " << states->states.size() << ": "
        << recovered.open_status;
    EXPECT_TRUE(Holds(recovered.records, 1, small)) << "crash state " << i;
  }
}

TEST(WalEmbeddedFrames, TornBatchOfPayloadsThatHoldFramesIsATornTail) {
  CheckTornBatchOfPayloadsThatHoldFrames(0x1eade7, 0x5e1ca, false);  // each log draws its own
}

// Neither log was given a seed (both at the default): the salts must still
// differ, for directories of the same name on two machines too.
TEST(WalEmbeddedFrames, TornBatchOfPayloadsThatHoldFramesWithDefaultOptions) {
  for (bool own_machine : {false, true}) {
    CheckTornBatchOfPayloadsThatHoldFrames(WalOptions{}.salt_seed, WalOptions{}.salt_seed,
                                           own_machine);
  }
}

}  // namespace
}  // namespace faultline::wal::testing
