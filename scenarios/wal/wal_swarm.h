// scenarios/wal/wal_swarm.h — what the swarm decides for one seed of a WAL
// scenario: the disk (kit::DrawDiskSwarm), the crash moments, the WAL's
// segment and batch sizes, the workload's shape and the scenario's own
// fault kinds and rates.
//
// Draw order (part of every trace hash; append new draws at the end): from
// Stream::kSwarm the disk, the moments and crash-in-recovery, the WAL
// options, the workload, the scenario's own choices; from Stream::kCrash the
// number of rounds.
#pragma once

#include <cstdint>

#include "core/wal/wal.h"
#include "scenarios/kit/crash_rounds.h"
#include "scenarios/kit/disk_swarm.h"
#include "scenarios/wal/wal_scenarios.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios {

// The node the WAL runs on: the fault rules name it.
inline constexpr sim::NodeId kWalNode = 1;

struct WalSwarm {
  kit::DiskSwarm disk;              // plus, for wal_fsync_failure, EIO rules and rates
  kit::CrashRoundsPlan nemesis;
  wal::WalOptions wal;
  bool corrupt_sealed_segment = false;  // wal_crash: flip a bit before the final recovery
  int writers = 0;
  int records_per_writer = 0;           // per incarnation (and per epoch)
  uint32_t max_payload_bytes = 0;
  int64_t max_think_ns = 0;
  int64_t release_period_ns = 0;        // wal_rotation_retention
};

WalSwarm DrawWalSwarm(WalScenarioKind kind, sim::Prng& swarm, sim::Prng& crash);

}  // namespace faultline::scenarios
