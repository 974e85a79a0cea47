// scenarios/wal/wal_swarm.cc — see wal_swarm.h.
#include "scenarios/wal/wal_swarm.h"

namespace faultline::scenarios {
namespace {

using sim::disk::DiskOp;
using sim::disk::FaultAction;
using sim::disk::FaultRule;

constexpr int64_t kMicrosecondNs = 1'000;

// The moments a round may crash the WAL's node at.
constexpr kit::CrashMoment kWalMoments[] = {
    {"crash_at_time"},
    // A group commit between its write and its sync (or just after the sync).
    {"crash_mid_commit", CrashPoint::kFileSync, 4, 3},
    // A rotation: new segment created, directory not yet synced.
    {"crash_mid_rotation", CrashPoint::kDirSync, 2, 2},
    // Just after a write reached the page cache.
    {"crash_mid_write", CrashPoint::kWrite, 6, 1},
};

void DrawWalOptions(sim::Prng& swarm, wal::WalOptions& w) {
  // Small segments so that rotation happens every few batches.
  w.segment_size_bytes = static_cast<uint64_t>(swarm.Between(256, 2048));
  w.max_record_bytes = 512;
  w.max_queued_records = 64;
  w.max_queued_bytes = 8192;
  w.max_batch_records = static_cast<uint32_t>(swarm.Between(1, 16));
  w.max_batch_bytes = static_cast<uint64_t>(swarm.Between(256, 4096));
  w.flush_interval_ns = swarm.Chance(1, 2) ? 0 : swarm.Between(1, 50) * kMicrosecondNs;
  w.initial_sequence = swarm.Chance(1, 4) ? static_cast<uint64_t>(swarm.Between(2, 1000)) : 1;
}

// wal_fsync_failure: syncs fail by rate, by rule or both; some directory
// syncs and writes too.
void DrawFsyncFaults(sim::Prng& swarm, sim::disk::FaultPlan& plan) {
  sim::disk::FaultRates& r = plan.rates;
  const bool by_rate = swarm.Chance(1, 2);
  const bool by_rule = !by_rate || swarm.Chance(1, 2);
  if (by_rate) r.sync_eio_ppm = static_cast<uint32_t>(swarm.Between(20'000, 250'000));
  if (by_rule) {
    const int rules = static_cast<int>(swarm.Between(1, 3));
    for (int i = 0; i < rules; ++i) {
      plan.rules.push_back(FaultRule{.node = kWalNode,
                                     .op = DiskOp::kSync,
                                     .nth = static_cast<uint64_t>(swarm.Between(1, 40)),
                                     .action = FaultAction::kEio});
    }
  }
  if (swarm.Chance(1, 2)) r.sync_dir_eio_ppm = static_cast<uint32_t>(swarm.Between(10'000, 100'000));
  if (swarm.Chance(1, 4)) r.write_eio_ppm = static_cast<uint32_t>(swarm.Between(5'000, 50'000));
}

}  // namespace

WalSwarm DrawWalSwarm(WalScenarioKind kind, sim::Prng& swarm, sim::Prng& crash) {
  WalSwarm s;
  s.disk = kit::DrawDiskSwarm(swarm);
  s.nemesis.moments = kit::DrawMoments(swarm, kWalMoments);
  s.nemesis.crash_in_recovery = swarm.Chance(1, 2);
  DrawWalOptions(swarm, s.wal);

  const uint32_t payload_choices[] = {16, 64, 200, 500};
  s.max_payload_bytes = payload_choices[swarm.Below(4)];
  s.writers = static_cast<int>(swarm.Between(1, 4));
  s.records_per_writer = static_cast<int>(swarm.Between(2, 10));
  s.max_think_ns = swarm.Between(0, 30) * kMicrosecondNs;

  switch (kind) {
    case WalScenarioKind::kCrash:
      s.corrupt_sealed_segment = swarm.Chance(1, 4);
      break;
    case WalScenarioKind::kFsyncFailure:
      DrawFsyncFaults(swarm, s.disk.plan);
      break;
    case WalScenarioKind::kRotationRetention:
      s.wal.segment_size_bytes = static_cast<uint64_t>(swarm.Between(128, 1024));
      s.release_period_ns = swarm.Between(5, 100) * kMicrosecondNs;
      break;
  }
  s.nemesis.rounds = static_cast<int>(crash.Between(2, 5));
  // A timed crash lands within a few batches.
  s.nemesis.time_horizon_ns = 50 * kMicrosecondNs + s.max_think_ns * s.records_per_writer;
  return s;
}

}  // namespace faultline::scenarios
