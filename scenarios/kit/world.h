// scenarios/kit/world.h — one seeded run of a scenario: the scheduler, the
// verdicts, the fault coverage and the result.
//
// A World is the part every scenario shares. It builds the scheduler from
// the ScenarioOptions (seed, trace recording, budgets), records checker
// verdicts in the trace, ends the run at the first violation, counts fault
// coverage, and turns the finished run into a ScenarioResult (with the trace
// dump when asked). Nodes (node.h) and the crash-round nemesis
// (crash_rounds.h) are built on it; the scenario brings the workload, the
// faults and the checkers. scenarios/README.md shows how to write one.
//
// Verdicts: Check() records every verdict as a TraceKind::kCheck event, so a
// checker's decisions are part of the trace hash. The first failed check
// becomes the run's violation and stops the run; over() then tells every
// fiber of the scenario to wind down (a scenario can also end a run early
// without a violation, with End()).
//
// Not thread-safe (nothing in a simulation is). Large: keep it off fiber
// stacks (scenarios allocate their world on the heap).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "scenarios/kit/coverage.h"
#include "scenarios/scenario.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::scenarios::kit {

class World {
 public:
  explicit World(const ScenarioOptions& options);
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  sim::Scheduler& scheduler() { return scheduler_; }
  sim::Prng& prng(sim::Stream stream) { return scheduler_.prng(stream); }
  FaultCoverage& coverage() { return coverage_; }

  // --- verdicts ------------------------------------------------------------
  // Records a checker's verdict. ok: a kCheck event (a, b, what) — callers
  // put what the checker knows there (e.g. last acknowledged and issued
  // sequence). Not ok: Fail(status.message()). Returns status.ok().
  bool Check(const absl::Status& status, std::string_view what, sim::TraceField a = {},
             sim::TraceField b = {});
  // Records `violation` (the first one wins), ends the run.
  void Fail(std::string_view violation);
  // Ends the run without a violation (e.g. a deliberate corruption was
  // reported as it should be: nothing more to check).
  void End(std::string_view reason);
  // A violation was found or End() was called: fibers should wind down.
  bool over() const { return over_; }
  const std::string& violation() const { return violation_; }

  // --- running ---------------------------------------------------------------
  // Starts the nemesis (or any fiber of the simulator's own node).
  void StartNemesis(absl::AnyInvocable<void() &&> body);
  // Runs the scheduler until the run ends, unwinds every fiber left (while
  // the objects they use still exist), and returns the result: outcome,
  // violation, fault coverage and, when the options asked for it, the trace.
  ScenarioResult Run();

 private:
  sim::Scheduler scheduler_;
  const bool record_trace_;
  FaultCoverage coverage_;
  std::string violation_;
  bool over_ = false;
};

}  // namespace faultline::scenarios::kit
