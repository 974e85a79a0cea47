// harness/sweep.h — running many seeds, in worker processes.
//
// A sweep runs every (scenario, seed) pair of its range in `jobs` worker
// processes, so that a seed which crashes the process (an abort on a failed
// FAULTLINE_CHECK, a segfault) fails that seed only: the parent records it
// as "worker crashed", starts a fresh worker, and goes on with the next
// seeds. Results are returned in a fixed order (scenario, then seed) whatever
// order the workers finish in.
//
// No seed is ever dropped: each ends as a result (passed, failed, "worker
// crashed", "timeout" when it ran past the per-seed wall-clock limit and its
// worker was killed, "worker protocol error" when its worker wrote a line the
// parent cannot read), or is counted as not run when the time budget ran out
// before it started or no worker process could be started for it — never as
// passed. A seed in progress when the time budget runs out runs on until it
// ends or reaches its limit (the seed timeout, or the whole budget if that
// is shorter): a seed that hangs always fails as a timeout, so a sweep ends
// within its budget plus that limit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "harness/trace_filter.h"
#include "reports/seed_result.h"
#include "scenarios/scenario.h"

namespace faultline::harness {

struct SweepOptions {
  std::vector<const scenarios::Scenario*> scenarios;
  uint64_t first_seed = 0;
  uint64_t seed_count = 1;       // per scenario
  int jobs = 1;                  // worker processes, >= 1
  // Wall time after which no seed starts; 0 = none. Seeds in progress then
  // finish or time out.
  int64_t time_budget_ns = 0;
  // Wall time one seed may take before its worker is killed and the seed
  // recorded as a "timeout" failure; > 0. With a shorter time budget, the
  // budget is the limit.
  int64_t seed_timeout_ns = 60'000'000'000;
  bool keep_passed = false;      // also return passing results (for reports)
  // Each worker runs its seeds last first (with jobs 1: the whole range in
  // descending order), for the in-process order check (order_check.h).
  bool descending = false;
  // Each worker prints each seed's trace (one event a line, the lines
  // `trace_filter` keeps) on stdout before reporting the seed:
  // `run --seed S --trace`.
  bool print_traces = false;
  TraceFilter trace_filter = DefaultTraceFilter();
};

struct SweepOutcome {
  std::vector<reports::SeedResult> results;  // failures, plus passes if keep_passed
  uint64_t seeds_run = 0;
  uint64_t seeds_failed = 0;
  uint64_t seeds_not_run = 0;    // not started when the time budget ran out
  bool time_budget_reached = false;
  // Why the sweep stopped early, or empty: a worker process could not be
  // started (descriptors or processes exhausted). The seeds left are counted
  // in seeds_not_run.
  std::string error;
  // The seeds in progress when the sweep stopped (`error`; outcome "not
  // run"); they are counted in seeds_not_run.
  std::vector<reports::SeedResult> interrupted;
  // Per scenario, in sweep order: seeds run, failures, faults, wall time.
  struct Tally {
    std::string scenario;
    uint64_t seeds = 0;
    uint64_t failures = 0;
    std::map<std::string, uint64_t> faults_injected;
    // Per fault kind: the seeds whose swarm enabled it, and how many of those
    // it fired in (an enabled kind that never fires is a test that never runs).
    std::map<std::string, uint64_t> seeds_enabled;
    std::map<std::string, uint64_t> seeds_fired;
    int64_t wall_time_ns = 0;     // summed over seeds (time each seed took)
    int64_t virtual_time_ns = 0;  // summed over seeds (simulated time)
  };
  std::vector<Tally> tallies;
};

// The detail of a seed that ran past the wall-clock limit.
std::string TimeoutDetail(int64_t seed_timeout_ns);

// Runs one seed in this process. `trace_dump`, if non-null, receives the
// trace (one line per event).
reports::SeedResult RunOneSeed(const scenarios::Scenario& scenario, uint64_t seed,
                               std::string* trace_dump);

// Runs the sweep; `on_failure` is called (in the parent) for each failing
// seed as soon as it is known.
SweepOutcome RunSweep(const SweepOptions& options,
                      const std::function<void(const reports::SeedResult&)>& on_failure);

}  // namespace faultline::harness
