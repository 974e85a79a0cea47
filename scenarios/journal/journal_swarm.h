// scenarios/journal/journal_swarm.h — the journal scenarios' per-seed
// choices (internal to scenarios/journal).
#pragma once

#include <cstdint>

#include "core/journal/journal.h"
#include "scenarios/journal/journal_scenarios.h"
#include "scenarios/kit/crash_rounds.h"
#include "scenarios/kit/disk_swarm.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios::journal_internal {

inline constexpr sim::NodeId kJournalNode = 1;

// What the verifying incarnation does to the newest snapshot once the final
// recovery has been checked (journal_checkpoint_crash).
enum class SnapshotDamage : uint8_t { kNone, kBitFlip, kUnreadableSector };

struct JournalSwarm {
  kit::DiskSwarm disk;          // plus, for journal_fsync_failure, EIO/ENOSPC rules and rates
  kit::CrashRoundsPlan nemesis;
  journal::JournalOptions journal;
  int records_per_incarnation = 0;
  uint32_t keys = 0;            // the key space: small, so puts overwrite and deletes hit
  uint32_t max_value_bytes = 0;
  uint32_t delete_one_in = 0;   // a record is a delete with probability 1/delete_one_in
  int64_t max_think_ns = 0;     // the writer's pause between records
  int64_t checkpoint_period_ns = 0;
  SnapshotDamage damage = SnapshotDamage::kNone;
  // Before the final recovery, a crash's leftover is planted: a tmp file
  // named for the record after the newest snapshot, holding that snapshot's
  // bytes with one bit flipped (journal_checkpoint_crash). Recovery must
  // remove it unread.
  bool leftover_tmp = false;
};

JournalSwarm DrawJournalSwarm(JournalScenarioKind kind, sim::Prng& swarm, sim::Prng& crash);

}  // namespace faultline::scenarios::journal_internal
