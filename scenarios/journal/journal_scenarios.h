// scenarios/journal/journal_scenarios.h — the journal (core/journal) under
// crashes and storage faults: "journal_checkpoint_crash" and
// "journal_fsync_failure".
//
// One node runs the production journal with the KV state machine on the
// simulated disk (wrapped to keep its last applied sequence, so that a
// record applied twice shows: sequenced_kv_machine.h). A writer fiber puts and deletes keys (one record at a
// time, so the model knows every record's sequence) while a checkpointer
// fiber checkpoints at seeded intervals; the crash-round nemesis crashes the
// node at seeded moments — a random time, a write, a file sync, a directory
// sync, any operation (which lands inside every checkpoint stage: the
// before-crash hook counts the stage in progress) — and in the middle of
// recoveries. Every incarnation recovers the journal twice (the second
// recovery must agree), checks that the machine's last record is the one
// the journal claims, and hands the recovered state to the
// SnapshotAtomicityChecker. A run ends with a crash and a verifying
// recovery.
//
//  journal_checkpoint_crash  crashes only (power loss, process crash, process
//                            crash then power loss); in some seeds the
//                            verifying incarnation then damages the newest
//                            snapshot on purpose — a bit flip, or a sector
//                            that cannot be read — and recovers again: the
//                            result must be the model's state (an older
//                            snapshot and the WAL) or an error naming the file;
//  journal_fsync_failure     file syncs and directory syncs fail with EIO (by
//                            rule and rate), writes fail with ENOSPC by rule
//                            (in a snapshot or the WAL), reads fail with EIO
//                            now and then; the journal must fail-stop and the
//                            node recovers it in process; power losses too.
//
// Swarm: Stream::kSwarm decides the crash moments and kinds, the disk's crash
// outcomes and latencies, the fault rates, the journal's options (WAL segment
// size, snapshots kept, chunk size) and the workload's shape; kCrash the
// crash timing; kWorkload the records; kDisk the disk's decisions.
//
// Coverage: the disk's fault counters, crashes by moment, crashes by the
// checkpoint stage in flight ("crash_in_checkpoint_<stage>"), checkpoints
// done and failed by stage, fail-stops, snapshot fallbacks, deliberate damage.
#pragma once

#include <functional>
#include <memory>

#include "core/io/file_system.h"
#include "scenarios/scenario.h"

namespace faultline::scenarios {

enum class JournalScenarioKind : uint8_t { kCheckpointCrash, kFsyncFailure };

// Test seams; the defaults run the production journal on the plain disk.
struct JournalScenarioHooks {
  // Called once per journal recovery with the node's file system; the
  // journal then uses what it returns, which must forward to `inner` (which
  // outlives it). Tests pass decorators that emulate broken journals
  // (tests/scenarios/buggy_journals.h); never used in the registry.
  std::function<std::unique_ptr<io::FileSystem>(io::FileSystem& inner)> wrap_file_system;
};

ScenarioResult RunJournalScenario(JournalScenarioKind kind, const ScenarioOptions& options,
                                  const JournalScenarioHooks& hooks = {});

Scenario JournalCheckpointCrashScenario();
Scenario JournalFsyncFailureScenario();

}  // namespace faultline::scenarios
