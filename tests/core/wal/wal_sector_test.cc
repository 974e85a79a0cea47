// tests/core/wal/wal_sector_test.cc — the WAL on devices whose sectors fail
// as real ones do (sim/disk device profiles):
//  * without powersafe overwrite a torn write may trash the whole physical
//    sector it touched. With sector alignment (the default) no batch ever
//    shares a sector with acknowledged records, so every crash state keeps
//    them; with frames packed (sector_bytes = 0) some crash state loses an
//    acknowledged record, which is why alignment is the default;
//  * a torn sector left unreadable (EIO until rewritten) at the tail of the
//    newest segment is cut off like any torn tail, and the log comes back;
//    an unreadable sector in a sealed segment is DataLoss, never skipped.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/errors.h"
#include "core/wal/format.h"
#include "core/wal/wal.h"
#include "sim/disk/crash_enumerator.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"
#include "tests/core/wal/crash_state_util.h"

namespace faultline::wal::testing {
namespace {

// A 512e drive without powersafe overwrite.
constexpr sim::disk::DiskOptions k512e{.atomic_unit_bytes = 512, .physical_sector_bytes = 4096,
                                       .powersafe_overwrite = false};

// Every crash state of: record 1 acknowledged, then a second batch written
// and not yet synced.
sim::disk::CrashStates StatesAfterATornSecondBatch(const WalOptions& options) {
  std::optional<sim::disk::CrashStates> states;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
  const sim::NodeId node = scheduler.AddNode("db");
  sim::disk::SimDisk disk(scheduler, k512e);
  scheduler.StartFiberOn(node, "owner", [&] {
    auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    auto first = (*wal)->Append("acknowledged");
    ASSERT_TRUE(first.ok() && first->durable.Get().ok());
    disk.plan().latency.sync = sim::disk::LatencyModel::Fixed(10 * io::kNanosPerMilli);
    ASSERT_TRUE((*wal)->Append(std::string(100, 'n')).ok());
    scheduler.SleepFor(io::kNanosPerMilli);
    states = sim::disk::EnumerateCrashStates(disk, node, {.max_states = 4096});
    (void)(*wal)->Close();
  });
  EXPECT_TRUE(scheduler.Run().ok());
  EXPECT_TRUE(states.has_value());
  return states.value_or(sim::disk::CrashStates{});
}

TEST(WalSector, AlignedBatchesKeepAcknowledgedRecordsWithoutPowersafeOverwrite) {
  WalOptions options = TinyOptions();
  options.segment_size_bytes = 1 << 16;
  ASSERT_EQ(options.sector_bytes, 4096u);  // the default
  const sim::disk::CrashStates states = StatesAfterATornSecondBatch(options);
  ASSERT_TRUE(states.complete);
  ASSERT_GT(states.states.size(), 2u);
  for (size_t i = 0; i < states.states.size(); ++i) {
    const Recovered recovered = RecoverFrom(states.states[i], options);
    EXPECT_TRUE(recovered.open_status.ok()) << "crash state " << i << ": " << recovered.open_status;
    EXPECT_TRUE(Holds(recovered.records, 1, "acknowledged")) << "crash state " << i;
  }
}

// The hazard alignment removes: packed frames put the next batch into the
// sector of the acknowledged record, and a torn write there takes it along.
TEST(WalSector, PackedFramesLoseAcknowledgedRecordsWithoutPowersafeOverwrite) {
  WalOptions options = TinyOptions();
  options.segment_size_bytes = 1 << 16;
  options.sector_bytes = 0;
  const sim::disk::CrashStates states = StatesAfterATornSecondBatch(options);
  size_t lost = 0;
  for (const sim::disk::DiskImage& state : states.states) {
    const Recovered recovered = RecoverFrom(state, options);
    if (!recovered.open_status.ok() || !Holds(recovered.records, 1, "acknowledged")) ++lost;
  }
  EXPECT_GT(lost, 0u);
}

TEST(WalSector, EveryWriteEndsOnASectorBoundary) {
  WalOptions options = TinyOptions();
  options.segment_size_bytes = 3 * 4096;
  options.sector_bytes = 512;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
  const sim::NodeId node = scheduler.AddNode("db");
  sim::disk::SimDisk disk(scheduler);
  scheduler.StartFiberOn(node, "owner", [&] {
    for (int round = 0; round < 2; ++round) {  // a reopen appends aligned too
      auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
      ASSERT_TRUE(wal.ok()) << wal.status();
      for (int i = 0; i < 40; ++i) {
        auto appended = (*wal)->Append(std::string(1 + 37 * i % 700, static_cast<char>('a' + i % 26)));
        ASSERT_TRUE(appended.ok() && appended->durable.Get().ok());
      }
      const WalStats stats = (*wal)->stats();
      EXPECT_GT(stats.rotations, 0u);
      EXPECT_GT(stats.padding_bytes, 0u);
      ASSERT_TRUE((*wal)->Close().ok());
    }
    auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    EXPECT_EQ((*wal)->recovery().records, 80u);
    auto reader = (*wal)->NewReader(37);
    ASSERT_TRUE(reader.ok());
    for (uint64_t sequence = 37; sequence <= 80; ++sequence) {
      auto next = (*reader)->Next();
      ASSERT_TRUE(next.ok() && next->has_value()) << sequence;
      EXPECT_EQ((*next)->sequence, sequence);
    }
    (void)(*wal)->Close();
  });
  ASSERT_TRUE(scheduler.Run().ok());
  for (const auto& [path, bytes] : disk.DurableImage(node).files) {
    EXPECT_EQ(bytes.size() % 512, 0u) << path;
  }
}

// A crash keeps the first sector of a torn batch: recovery keeps the whole
// frames in it and cuts the rest, mid-sector. Records recovered there are
// the log's now, so the next batch must not go into their sector: it opens
// a new segment, and every file still ends on a sector boundary or at the
// cut.
TEST(WalSector, AfterACutInTheMiddleOfASectorTheNextBatchOpensANewSegment) {
  sim::disk::FaultPlan plan;
  plan.crash = sim::disk::CrashRates{.write_persist_ppm = 0, .write_torn_ppm = 0,
                                     .torn_sector_persist_ppm = 0,
                                     .size_without_data_ppm = 1'000'000, .size_garbage_ppm = 0};
  WalOptions options = TinyOptions();
  options.segment_size_bytes = 1 << 16;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
  const sim::NodeId node = scheduler.AddNode("db");
  sim::disk::SimDisk disk(scheduler, sim::disk::DiskOptions{.atomic_unit_bytes = 512}, plan);
  scheduler.StartFiberOn(node, "owner", [&] {
    auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    auto first = (*wal)->Append("acknowledged");
    ASSERT_TRUE(first.ok() && first->durable.Get().ok());
    disk.plan().latency.sync = sim::disk::LatencyModel::Fixed(10 * io::kNanosPerMilli);
    const std::string payload(100, 'b');
    std::vector<std::string_view> batch(10, payload);
    ASSERT_TRUE((*wal)->AppendBatch(batch).ok());
    scheduler.SleepFor(io::kNanosPerMilli);
    scheduler.Crash(node, "power loss");
  });
  (void)scheduler.Run();
  disk.Crash(node, sim::disk::CrashOptions{.tear_last_write = true});  // keeps the first sector
  disk.plan().latency.sync = sim::disk::LatencyModel{};
  scheduler.Restart(node, "recover", [&] {
    auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    const uint64_t recovered = (*wal)->recovery().records;
    ASSERT_GT(recovered, 1u);   // whole frames of the kept sector
    ASSERT_LT(recovered, 11u);  // not the lost ones
    auto next = (*wal)->Append("after");
    ASSERT_TRUE(next.ok() && next->durable.Get().ok());
    EXPECT_EQ((*wal)->stats().rotations, 1u);
    (void)(*wal)->Close();
  });
  const sim::RunResult result = scheduler.Run();
  ASSERT_TRUE(result.ok()) << result.detail;
  const sim::disk::DiskImage image = disk.DurableImage(node);
  ASSERT_EQ(image.files.size(), 2u);
  EXPECT_EQ(image.files.rbegin()->second.size() % 4096, 0u);  // the new segment
}

// A crash tears the newest batch and leaves its sectors unreadable; the log
// must come back, with every acknowledged record, and take new ones.
TEST(WalSector, UnreadableTornTailOfTheNewestSegmentIsCutOff) {
  sim::disk::FaultPlan plan;
  plan.crash = sim::disk::CrashRates{
      .write_persist_ppm = 0, .write_torn_ppm = 1'000'000, .torn_sector_persist_ppm = 1'000'000,
      .torn_sector_garbage_ppm = 1'000'000, .size_without_data_ppm = 1'000'000,
      .size_garbage_ppm = 0, .torn_sector_unreadable_ppm = 1'000'000};
  // (With frames packed, the torn sector would hold the header and the
  // acknowledged record too: DataLoss, rightly. Alignment avoids that.)
  for (uint32_t sector_bytes : {512u, 4096u}) {
    WalOptions options = TinyOptions();
    options.segment_size_bytes = 1 << 16;
    options.sector_bytes = sector_bytes;
    sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
    const sim::NodeId node = scheduler.AddNode("db");
    sim::disk::SimDisk disk(scheduler, sim::disk::DiskOptions{.torn_sectors_unreadable = true}, plan);
    scheduler.StartFiberOn(node, "owner", [&] {
      auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
      ASSERT_TRUE(wal.ok()) << wal.status();
      auto first = (*wal)->Append("acknowledged");
      ASSERT_TRUE(first.ok() && first->durable.Get().ok());
      disk.plan().latency.sync = sim::disk::LatencyModel::Fixed(10 * io::kNanosPerMilli);
      ASSERT_TRUE((*wal)->Append(std::string(2000, 'n')).ok());
      scheduler.SleepFor(io::kNanosPerMilli);
      scheduler.Crash(node, "power loss");
    });
    (void)scheduler.Run();
    disk.Crash(node);
    ASSERT_GT(disk.stats().count(sim::disk::FaultKind::kUnreadableTornSector), 0u);
    disk.plan().latency.sync = sim::disk::LatencyModel{};
    scheduler.Restart(node, "recover", [&] {
      auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
      ASSERT_TRUE(wal.ok()) << "sector_bytes " << sector_bytes << ": " << wal.status();
      EXPECT_GT((*wal)->recovery().truncated_bytes, 0u);
      auto next = (*wal)->Append("after");
      ASSERT_TRUE(next.ok() && next->durable.Get().ok());
      auto reader = (*wal)->NewReader(1);
      ASSERT_TRUE(reader.ok());
      auto one = (*reader)->Next();
      ASSERT_TRUE(one.ok() && one->has_value());
      EXPECT_EQ((*one)->payload, "acknowledged");
      auto two = (*reader)->Next();
      ASSERT_TRUE(two.ok() && two->has_value()) << two.status();
      EXPECT_EQ((*two)->payload, "after");
      (void)(*wal)->Close();
    });
    const sim::RunResult result = scheduler.Run();
    ASSERT_TRUE(result.ok()) << result.detail;
  }
}

// An unreadable sector in a segment that a later one follows held records
// that were synced: DataLoss naming it, not an I/O error that a retry
// would meet forever, and not a silent skip.
TEST(WalSector, UnreadableSealedSegmentIsDataLoss) {
  WalOptions options = TinyOptions();
  options.segment_size_bytes = 8192;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
  const sim::NodeId node = scheduler.AddNode("db");
  sim::disk::SimDisk disk(scheduler);
  scheduler.StartFiberOn(node, "owner", [&] {
    {
      auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
      ASSERT_TRUE(wal.ok()) << wal.status();
      for (int i = 0; i < 6; ++i) {
        auto appended = (*wal)->Append(std::string(3000, static_cast<char>('a' + i)));
        ASSERT_TRUE(appended.ok() && appended->durable.Get().ok());
      }
      ASSERT_GT((*wal)->stats().rotations, 1u);
      ASSERT_TRUE((*wal)->Close().ok());
    }
    const std::string sealed = io::JoinPath(kCrashDir, format::SegmentName(1));
    ASSERT_TRUE(disk.AddLatentSectorError(node, sealed, 4096 / 512 + 1).ok());
    auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
    EXPECT_TRUE(absl::IsDataLoss(wal.status())) << wal.status();
    // A verdict on the log, not the read's EIO passed through (which a
    // caller would retry forever).
    EXPECT_FALSE(io::IsIoError(wal.status())) << wal.status();
    const std::string message(wal.status().message());
    EXPECT_NE(message.find(format::SegmentName(1)), std::string::npos) << message;
    EXPECT_NE(message.find("unreadable sector"), std::string::npos) << message;
  });
  ASSERT_TRUE(scheduler.Run().ok());
}

// Two acknowledged batches in the newest segment; then the padding frame
// that ends the first one is damaged on the medium (a latent sector error,
// or a flipped bit). No record was in it, but the damage sits before the
// second batch's frames, which carry the watermark of the first batch only:
// recovery must not take that batch for a torn tail and cut it silently.
enum class PaddingDamage { kUnreadable, kFlippedBit };

// Recovers after the damage at `damage_at` (a byte offset in segment 1) on
// the same disk (a latent sector error is not part of a disk image): the
// Open status, and record `wanted` if it is there. `batches` records are
// appended, one batch each.
Recovered RecoverAfterPaddingDamage(PaddingDamage damage, uint64_t damage_at, int batches,
                                    uint64_t wanted) {
  WalOptions options = TinyOptions();
  options.segment_size_bytes = 1 << 16;
  Recovered out;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
  const sim::NodeId node = scheduler.AddNode("db");
  sim::disk::SimDisk disk(scheduler);
  const std::string segment = io::JoinPath(kCrashDir, format::SegmentName(1));
  scheduler.StartFiberOn(node, "owner", [&] {
    {
      auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
      ASSERT_TRUE(wal.ok()) << wal.status();
      for (int i = 1; i <= batches; ++i) {
        auto appended = (*wal)->Append(i == 1 ? "first batch" : "second batch");
        ASSERT_TRUE(appended.ok() && appended->durable.Get().ok());
      }
      ASSERT_TRUE((*wal)->Close().ok());
    }
    if (damage == PaddingDamage::kUnreadable) {
      ASSERT_TRUE(disk.AddLatentSectorError(node, segment, damage_at / 512).ok());
    } else {
      ASSERT_TRUE(disk.FlipDurableBit(node, segment, damage_at * 8).ok());
    }
    auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
    out.open_status = wal.status();
    if (!wal.ok()) return;
    auto reader = (*wal)->NewReader(wanted);
    if (reader.ok()) {
      auto two = (*reader)->Next();
      if (two.ok() && two->has_value()) out.records.push_back(**two);
    }
    (void)(*wal)->Close();
  });
  EXPECT_TRUE(scheduler.Run().ok());
  return out;
}

TEST(WalSector, DamagedPaddingOfAnAcknowledgedBatchNeverCutsTheNextOne) {
  for (PaddingDamage damage : {PaddingDamage::kUnreadable, PaddingDamage::kFlippedBit}) {
    // Record 1's frame is [4096, 4131); its padding runs to 8192.
    const Recovered recovered =
        RecoverAfterPaddingDamage(damage, damage == PaddingDamage::kUnreadable ? 5120 : 6000, 2, 2);
    if (recovered.open_status.ok()) {
      EXPECT_TRUE(Holds(recovered.records, 2, "second batch"))
          << "damage " << static_cast<int>(damage) << ": acknowledged record 2 silently lost";
    } else {
      EXPECT_TRUE(absl::IsDataLoss(recovered.open_status)) << recovered.open_status;
    }
  }
}

// The padding of the header region was synced, with the header, before any
// record went into the segment: damage to it with a record behind it came
// after the fact, and the acknowledged record must not be cut off with it.
TEST(WalSector, DamagedHeaderRegionNeverCutsTheRecordsBehindIt) {
  for (PaddingDamage damage : {PaddingDamage::kUnreadable, PaddingDamage::kFlippedBit}) {
    const Recovered recovered = RecoverAfterPaddingDamage(damage, 1024, 1, 1);
    if (recovered.open_status.ok()) {
      EXPECT_TRUE(Holds(recovered.records, 1, "first batch"))
          << "damage " << static_cast<int>(damage) << ": acknowledged record 1 silently lost";
    } else {
      EXPECT_TRUE(absl::IsDataLoss(recovered.open_status)) << recovered.open_status;
    }
  }
}

// A sector of padding only (zeros as written, its frame header readable)
// that fails its reads holds nothing of the log: the log must come back
// whole, not be cut and not be refused as DataLoss, and its readers must
// pass over it, in the header region as after a batch.
TEST(WalSector, AnUnreadableSectorOfPaddingOnlyLosesNothing) {
  for (uint64_t damage_at : {1024u, 5120u}) {
    const Recovered recovered =
        RecoverAfterPaddingDamage(PaddingDamage::kUnreadable, damage_at, 2, 1);
    EXPECT_TRUE(recovered.open_status.ok()) << damage_at << ": " << recovered.open_status;
    EXPECT_TRUE(Holds(recovered.records, 1, "first batch")) << damage_at;
    const Recovered second = RecoverAfterPaddingDamage(PaddingDamage::kUnreadable, damage_at, 2, 2);
    EXPECT_TRUE(Holds(second.records, 2, "second batch")) << damage_at << ": " << second.open_status;
  }
}

// A log written with 512-byte sectors and reopened with the default 4096:
// the newest segment holds an acknowledged record in under 4 KiB. Damage to
// the last record of the sealed segment before it is DataLoss, and recovery
// must not cut the sealed segment (destroying its records on disk) before
// it says so: a later segment holding records means it was synced whole.
TEST(WalSector, ReopenWithLargerSectorsNeverCutsASealedSegment) {
  WalOptions written = TinyOptions();
  written.segment_size_bytes = 2048;
  written.sector_bytes = 512;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
  const sim::NodeId node = scheduler.AddNode("db");
  sim::disk::SimDisk disk(scheduler);
  scheduler.StartFiberOn(node, "owner", [&] {
    {
      auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, written);
      ASSERT_TRUE(wal.ok()) << wal.status();
      for (int i = 0; i < 4; ++i) {  // 512 bytes each: three fill segment 1, one goes to segment 4
        auto appended = (*wal)->Append(std::string(400, static_cast<char>('a' + i)));
        ASSERT_TRUE(appended.ok() && appended->durable.Get().ok());
      }
      ASSERT_EQ((*wal)->stats().rotations, 1u);
      ASSERT_TRUE((*wal)->Close().ok());
    }
    const std::string sealed = io::JoinPath(kCrashDir, format::SegmentName(1));
    const uint64_t sealed_bytes = disk.DurableImage(node).files[sealed].size();
    ASSERT_EQ(sealed_bytes, 2048u);
    ASSERT_TRUE(disk.FlipDurableBit(node, sealed, (1536 + 100) * 8).ok());  // record 3
    auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, TinyOptions());
    EXPECT_TRUE(absl::IsDataLoss(wal.status())) << wal.status();
    EXPECT_EQ(disk.DurableImage(node).files[sealed].size(), sealed_bytes)
        << "recovery cut records of a sealed segment";
  });
  ASSERT_TRUE(scheduler.Run().ok());
}

}  // namespace
}  // namespace faultline::wal::testing
