// scenarios/wal/wal_explore.h — exhaustive crash exploration of the WAL
// (`faultline explore wal_crash`): every crash state at every I/O operation
// of a small, fixed workload, checked like the wal_crash scenario checks.
//
// The swarm draws one crash state per crash; states that need several
// unlikely decisions at once (a batch write with a hole: a later sector
// kept, an earlier one lost) come up in a tiny share of seeds. Here:
//
// WORKLOAD (fixed; the seed picks only payload sizes and the WAL's salt).
// One node opens a brand-new WAL with 512-byte sectors and 8 KiB segments
// on a 512-byte-sector disk, and appends kExploreRecords records of 100-2099
// bytes in pairs (two Appends, then wait for the second's durability), so
// batches hold one or two records, span one to nine sectors (a torn batch
// may keep a later sector and lose an earlier one: a hole), and the log
// rotates twice. Then it closes the WAL.
//
// CRASH POINTS. Point k is "power loss just before the k-th I/O call of
// the node takes effect" (a crash arm, sim/disk/fault_injector.h, counting
// every operation: opens, writes, syncs, dir syncs, reads of the recovery
// that creates the log). Points run from 1 until the workload completes
// before its arm fires, or until ExploreOptions::max_points.
//
// STATES. At each point the disk's pending operations are enumerated
// (sim::disk::EnumerateCrashStates, at most kExploreStateBound states), plus
// one garbage representative (GarbageCrashState), and checked in the
// varied order of kit::VariedCrashStateOrder, at most states_per_point of
// them. State i of point k is the i-th in that order: it depends on the
// seed only, so `--point K --state I` replays it exactly.
//
// CHECK. Each state is loaded into a fresh simulation; the WAL recovers it,
// every record is read back and handed to the DurabilityChecker that
// watched the workload up to the crash (what was issued and acknowledged);
// the WAL is then reopened and the second recovery must agree. A point is
// EXHAUSTED when its enumeration was complete and every state was checked.
//
// Deterministic: no wall clock; ExploreOptions::out_of_time is the caller's
// (the CLI's --time-budget), and the only thing that may end a run early.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "scenarios/wal/wal_scenarios.h"

namespace faultline::scenarios {

inline constexpr uint32_t kExploreRecords = 16;
inline constexpr uint32_t kExploreStateBound = 4096;  // enumerated per point
inline constexpr uint32_t kExploreMaxPoints = 1000;   // bounds a run

struct ExploreOptions {
  uint64_t seed = 1;
  uint32_t max_points = kExploreMaxPoints;       // 1 ..= kExploreMaxPoints
  uint32_t states_per_point = kExploreStateBound;  // >= 1
  // Replay: check only this point, and (if set) only this state of it.
  std::optional<uint32_t> only_point;
  std::optional<uint32_t> only_state;
  // Asked between states; true stops the run (counted as not exhausted).
  std::function<bool()> out_of_time;
  // Receives one line per point as it finishes (optional).
  std::function<void(std::string_view line)> print;
};

struct ExplorePoint {
  uint32_t point = 0;
  uint32_t states_total = 0;    // enumerated + the garbage state, if distinct
  uint32_t states_checked = 0;
  bool enumeration_complete = false;
  bool exhausted() const { return enumeration_complete && states_checked == states_total; }
};

struct ExploreReport {
  std::vector<ExplorePoint> points;
  uint64_t states_checked = 0;
  bool all_points_reached = false;  // the workload completed before an arm fired
  bool stopped_by_time = false;
  // The first violation, if any, and where (a violation of the workload
  // itself, before the crash, has no state: violation_state 0 and
  // violation_in_workload).
  std::optional<std::string> violation;
  uint32_t violation_point = 0;
  uint32_t violation_state = 0;
  bool violation_in_workload = false;
  uint32_t points_exhausted() const;
};

// Explores the small WAL workload under `hooks` (tests pass buggy WALs;
// only wrap_file_system is used). InvalidArgument: only_point is past the
// workload's last I/O call, or only_state past the point's states.
absl::StatusOr<ExploreReport> ExploreWal(const ExploreOptions& options,
                                         const WalScenarioHooks& hooks = {});

}  // namespace faultline::scenarios
