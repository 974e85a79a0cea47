// scenarios/journal/journal_swarm.cc — see journal_swarm.h. Draws come from
// Stream::kSwarm in a fixed order (the rounds from kCrash, last); append new
// ones at the end.
#include "scenarios/journal/journal_swarm.h"

namespace faultline::scenarios::journal_internal {
namespace {

using sim::disk::DiskOp;
using sim::disk::FaultAction;
using sim::disk::FaultRule;

constexpr int64_t kMicrosecondNs = 1'000;

// The moments a round may crash the journal's node at. Checkpoints run all
// the time, so operation counts land in every stage of one (the
// before-crash hook counts which).
constexpr kit::CrashMoment kJournalMoments[] = {
    {"crash_at_time"},
    // A snapshot or batch write just reached the page cache (or not).
    {"crash_mid_write", kit::ArmedOps::kWrite, 8, 2},
    // A tmp-file or WAL sync, before or after it took effect.
    {"crash_mid_sync", kit::ArmedOps::kFileSync, 4, 2},
    // The directory sync after a rename (or a rotation), before or after.
    {"crash_mid_dir_sync", kit::ArmedOps::kDirSync, 3, 2},
    // Any operation: renames, removes, creates included.
    {"crash_at_any_op", kit::ArmedOps::kAnyOp, 24, 2},
};

void DrawJournalOptions(sim::Prng& swarm, journal::JournalOptions& j) {
  wal::WalOptions& w = j.wal;
  // Small segments, so checkpoints release some and fallbacks find the
  // records gone in some seeds and still there in others.
  w.segment_size_bytes = static_cast<uint64_t>(swarm.Between(256, 4096));
  w.max_record_bytes = 512;
  w.max_queued_records = 64;
  w.max_queued_bytes = 8192;
  w.max_batch_records = static_cast<uint32_t>(swarm.Between(1, 16));
  w.max_batch_bytes = static_cast<uint64_t>(swarm.Between(256, 4096));
  j.kept_snapshots = static_cast<uint32_t>(swarm.Between(1, 3));
  j.chunk_bytes = swarm.Chance(1, 2) ? 512 : static_cast<uint32_t>(swarm.Between(512, 4096));
}

// journal_fsync_failure: syncs and directory syncs fail by rate or rule,
// writes hit a full disk by rule, reads fail now and then.
void DrawStorageFaults(sim::Prng& swarm, sim::disk::FaultPlan& plan) {
  sim::disk::FaultRates& r = plan.rates;
  const bool by_rate = swarm.Chance(1, 2);
  if (by_rate) r.sync_eio_ppm = static_cast<uint32_t>(swarm.Between(20'000, 200'000));
  if (!by_rate || swarm.Chance(1, 2)) {
    const int rules = static_cast<int>(swarm.Between(1, 3));
    for (int i = 0; i < rules; ++i) {
      plan.rules.push_back(FaultRule{.node = kJournalNode,
                                     .op = swarm.Chance(1, 3) ? DiskOp::kSyncDir : DiskOp::kSync,
                                     .nth = static_cast<uint64_t>(swarm.Between(1, 40)),
                                     .action = FaultAction::kEio});
    }
  }
  if (swarm.Chance(1, 2)) r.sync_dir_eio_ppm = static_cast<uint32_t>(swarm.Between(10'000, 100'000));
  if (swarm.Chance(1, 2)) {
    const int rules = static_cast<int>(swarm.Between(1, 3));
    for (int i = 0; i < rules; ++i) {
      plan.rules.push_back(FaultRule{.node = kJournalNode,
                                     .op = DiskOp::kWrite,
                                     .nth = static_cast<uint64_t>(swarm.Between(1, 120)),
                                     .action = FaultAction::kNoSpace});
    }
  }
  if (swarm.Chance(1, 3)) r.read_eio_ppm = static_cast<uint32_t>(swarm.Between(1'000, 20'000));
  if (swarm.Chance(1, 4)) r.write_eio_ppm = static_cast<uint32_t>(swarm.Between(5'000, 30'000));
}

}  // namespace

JournalSwarm DrawJournalSwarm(JournalScenarioKind kind, sim::Prng& swarm, sim::Prng& crash) {
  JournalSwarm s;
  s.disk = kit::DrawDiskSwarm(swarm);
  s.nemesis.moments = kit::DrawMoments(swarm, kJournalMoments);
  s.nemesis.crash_in_recovery = swarm.Chance(1, 2);
  DrawJournalOptions(swarm, s.journal);
  s.records_per_incarnation = static_cast<int>(swarm.Between(8, 40));
  s.keys = static_cast<uint32_t>(swarm.Between(2, 24));
  const uint32_t value_choices[] = {8, 40, 200, 480};
  s.max_value_bytes = value_choices[swarm.Below(4)];
  s.delete_one_in = static_cast<uint32_t>(swarm.Between(3, 8));
  s.max_think_ns = swarm.Between(0, 20) * kMicrosecondNs;
  s.checkpoint_period_ns = swarm.Between(5, 80) * kMicrosecondNs;
  switch (kind) {
    case JournalScenarioKind::kCheckpointCrash: {
      const uint64_t damage = swarm.Below(6);  // a third of the seeds
      s.damage = damage == 0   ? SnapshotDamage::kBitFlip
                 : damage == 1 ? SnapshotDamage::kUnreadableSector
                               : SnapshotDamage::kNone;
      s.nemesis.kinds = kit::DrawRoundCrashes(swarm);
      break;
    }
    case JournalScenarioKind::kFsyncFailure:
      // Power losses only, as wal_fsync_failure: a process crash whose page
      // cache outlives a failed fsync is a known limit of core/wal.
      DrawStorageFaults(swarm, s.disk.plan);
      break;
  }
  s.leftover_tmp = kind == JournalScenarioKind::kCheckpointCrash && swarm.Chance(1, 3);
  s.nemesis.rounds = static_cast<int>(crash.Between(2, 5));
  s.nemesis.time_horizon_ns = 50 * kMicrosecondNs + s.max_think_ns * s.records_per_incarnation;
  return s;
}

}  // namespace faultline::scenarios::journal_internal
