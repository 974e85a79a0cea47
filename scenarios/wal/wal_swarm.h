// scenarios/wal/wal_swarm.h — what the swarm decides for one seed of a WAL
// scenario: the disk (kit::DrawDiskSwarm), the crash moments, the WAL's
// segment and batch sizes, the workload's shape and the scenario's own
// fault kinds and rates.
//
// Draw order (part of every trace hash; append new draws at the end): from
// Stream::kSwarm the disk, the moments and crash-in-recovery, the WAL
// options, the workload, the scenario's own choices, the crash kinds, the
// extreme configuration, adversarial payloads, the reopen while blocked and
// the API mix (batches, flushes, readers, close, checkpointer);
// from Stream::kCrash the number of rounds; from Stream::kWorkload the WAL's
// salt seed.
//
// EXTREME CONFIGURATIONS (one seed in four): options at the limits
// ValidateOptions accepts, each with probability 1/2 — max_segments of 1 to
// 4 (the writer fail-stops with ResourceExhausted and the owner must reopen
// and Release), payloads of exactly max_record_bytes, the smallest segment
// that holds a record or a 1 GiB one, initial_sequence a few records below
// the top of the range, and queue and batch limits of 1.
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
  bool corrupt_sealed_segment = false;  // wal_crash: flip a bit after the final recovery, recover again
  int writers = 0;
  int records_per_writer = 0;           // per incarnation (and per epoch)
  uint32_t max_payload_bytes = 0;
  int64_t max_think_ns = 0;
  int64_t release_period_ns = 0;        // wal_rotation_retention
  bool extreme = false;                 // options at their limits (see above)
  uint32_t adversarial_one_in = 0;      // 0: random payloads only (wal_payloads.h)
  uint32_t max_size_one_in = 0;         // 0: no payload of exactly max_record_bytes
  // Once per incarnation, destroy the Wal while its flusher is parked in a
  // slow write or sync, and reopen the directory at once (wal_reopen.cc).
  bool reopen_while_blocked = false;
  bool close_while_reopening = false;   // a fiber waits in Close() meanwhile
  int64_t slow_io_ns = 0;               // the slow write or sync
  // The whole API, interleaved: one writer call in batch_one_in is an
  // AppendBatch (0: none) of up to max_batch_records + 2 records, so that
  // batches straddle the batch bounds and rotations; one in flush_one_in
  // is followed by a Flush (0: none). tailers readers tail the log; in
  // close_mid_epoch seeds a fiber closes each Wal while writers append.
  uint32_t batch_one_in = 0;
  uint32_t flush_one_in = 0;
  int tailers = 0;
  bool close_mid_epoch = false;
  bool checkpointer = false;            // Release below a moving bound (always in rotation)
};

WalSwarm DrawWalSwarm(WalScenarioKind kind, sim::Prng& swarm, sim::Prng& crash,
                      sim::Prng& workload);

}  // namespace faultline::scenarios
