// reports/failure_summary.h — failing seeds as a person reads them: each
// failure worded once, and a sweep's failures grouped by the invariant they
// broke, each group pointing to its simplest seed.
//
// A sweep with a planted bug can fail hundreds of seeds the same way; one
// block per seed buries the one worth replaying. The console shows one
// group per invariant instead (the full list stays in the JSON and JUnit
// reports), led by the seed that injected the fewest faults, then took the
// fewest steps: the shortest story to read in its trace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "reports/seed_result.h"

namespace faultline::reports {

// What a failed seed broke, worded once: for a checker's violation its
// detail without the redundant "<checker> violated: " lead and without the
// trailing "; trace events: ..." and "; faults injected: ..." (each has its
// own line); for other failures "<outcome>: <detail>" ("timeout: ...",
// "worker crashed: ...").
std::string FailureStatement(const SeedResult& result);

// The trace events a checker's violation points at ("#169 acknowledged
// sequence 12, #185 the crash that lost it": its "; trace events: ..."
// part), or "" if it names none.
std::string TraceEventsOf(const SeedResult& result);

// The invariant a failed seed broke, the key failures are grouped by: for a
// violation, its statement up to " at " or the first ':' (the checker's rule
// name, e.g. "clean-recovery", "prefix"); otherwise the outcome ("timeout",
// "worker crashed", "deadlock", ...).
std::string InvariantOf(const SeedResult& result);

// Faults the seed injected, of every kind.
uint64_t FaultCount(const SeedResult& result);

// One seed's failure: "FAIL <scenario> seed=<hex>" then its statement, the
// trace events it points at (if any), faults and steps, trace hash and
// replay command, one per indented line.
// Free text is made safe with ConsoleText.
std::string FailureBlock(const SeedResult& result);

struct FailureGroup {
  std::string invariant;
  std::vector<const SeedResult*> seeds;  // in the order given
  const SeedResult* simplest = nullptr;  // fewest faults, then steps; first on a tie
};

// The failed results among `results`, grouped by InvariantOf: most seeds
// first, then in order of first appearance. The pointers are into `results`.
std::vector<FailureGroup> GroupFailures(const std::vector<SeedResult>& results);

// The console summary of `groups`: per group a line with its seed count and
// the first `examples` seeds, then the FailureBlock of its simplest seed.
std::string FailureGroupsText(const std::vector<FailureGroup>& groups, size_t examples = 3);

}  // namespace faultline::reports
