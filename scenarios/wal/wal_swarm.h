// scenarios/wal/wal_swarm.h — what the swarm decides for one seed of a WAL
// scenario: the disk (kit::DrawDiskSwarm), the crash moments, the WAL's
// segment and batch sizes, the workload's shape and the scenario's own
// fault kinds and rates.
//
// Draw order (part of every trace hash; append new draws at the end): from
// Stream::kSwarm the disk, the moments and crash-in-recovery, the WAL
// options, the workload, the scenario's own choices, the crash kinds, the
// extreme configuration, adversarial payloads, the reopen while blocked,
// the device profile with the sector pairing (DrawSectorPairing), the storage
// faults (kit::DrawDiskFaults), the durable damage, the crash at the first
// write after a recovery, the node's clock, the kernel profile
// (kit::DrawKernelProfile) and the API mix (batches, flushes, readers,
// close, checkpointer);
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
#include <string>
#include <vector>

#include "core/wal/wal.h"
#include "scenarios/kit/clock_swarm.h"
#include "scenarios/kit/crash_rounds.h"
#include "scenarios/kit/disk_swarm.h"
#include "scenarios/wal/wal_scenarios.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios {

// The node the WAL runs on: the fault rules name it.
inline constexpr sim::NodeId kWalNode = 1;

// Damage to durable segments after the final recovery was checked
// (wal_damage.cc): each must be reported (DataLoss, or an I/O error for an
// unreadable sector), never hidden. Only damage the format can tell from a
// crash is drawn (core/wal/FORMAT.md, known limits): a lost or cut-short
// newest segment, or a lost first one, leaves no trace a reader could see.
enum class DurableDamage : uint8_t {
  kNone,
  kFlipNewest,       // a bit of a newest-segment record that a later batch vouches for
  kLatentSector,     // a sector of a segment becomes unreadable
  kLoseSegment,      // a segment after the first, followed by one holding records, is lost
  kTruncateSegment,  // a segment followed by one holding records is cut short
};

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
  DurableDamage damage = DurableDamage::kNone;  // when corrupt_sealed_segment is not drawn
  sim::NodeClock clock;                 // the WAL node's clock (kit::DrawNodeClock)
  // Every fault kind this seed enabled, as the coverage names it.
  std::vector<std::string> enabled_faults;
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
