// scenarios/scenario.h — what a named scenario is.
//
// A scenario is a workload, a fault profile and checkers, run on one seeded
// simulation. Its defaults make one run take milliseconds, so a sweep can run
// thousands of seeds. Everything a run decides comes from the seed: running
// the same scenario with the same seed (same binary) replays it bit for bit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "sim/scheduler/scheduler.h"

namespace faultline::scenarios {

struct ScenarioOptions {
  uint64_t seed = 0;
  bool record_trace = false;  // keep trace events for a dump
  sim::SchedulerOptions scheduler;  // budgets, stack size (seed is set from `seed`)
};

struct ScenarioResult {
  sim::RunResult run;            // outcome, trace hash, steps, virtual end time
  std::string violation;         // the invariant that failed, empty if none
  // Fault coverage: how many faults of each kind the run injected, by name
  // (a std::map, so output order never depends on hashing).
  std::map<std::string, uint64_t> faults_injected;
  // The fault kinds this seed's swarm enabled (named as in faults_injected):
  // a sweep flags a kind enabled in some seeds that never fired in any.
  std::set<std::string> faults_enabled;
  std::string trace_dump;        // one line per event, when record_trace

  bool passed() const { return run.ok() && violation.empty(); }
};

struct Scenario {
  std::string name;
  std::string description;
  std::function<ScenarioResult(const ScenarioOptions&)> run;
};

}  // namespace faultline::scenarios
