// scenarios/kit/world.cc — see world.h.
#include "scenarios/kit/world.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace faultline::scenarios::kit {
namespace {

sim::SchedulerOptions SchedulerOptionsFor(const ScenarioOptions& options) {
  sim::SchedulerOptions scheduler_options = options.scheduler;
  scheduler_options.seed = options.seed;
  scheduler_options.record_trace = options.record_trace;
  return scheduler_options;
}

}  // namespace

World::World(const ScenarioOptions& options)
    : scheduler_(SchedulerOptionsFor(options)), record_trace_(options.record_trace) {}

bool World::Check(const absl::Status& status, std::string_view what, sim::TraceField a,
                  sim::TraceField b) {
  if (status.ok()) {
    scheduler_.Record(sim::TraceKind::kCheck, a, b, what);
    return true;
  }
  Fail(std::string(status.message()));
  return false;
}

void World::Fail(std::string_view violation) {
  if (violation_.empty()) {
    violation_ = std::string(violation);
    scheduler_.Record(sim::TraceKind::kCheck, {"violated", 1}, {}, violation_);
    spdlog::debug("violation: {}", violation_);
  }
  over_ = true;
  scheduler_.Stop("invariant violated");
}

void World::End(std::string_view reason) {
  over_ = true;
  scheduler_.Stop(reason);
}

void World::StartNemesis(absl::AnyInvocable<void() &&> body) {
  scheduler_.StartFiber("nemesis", std::move(body));
}

ScenarioResult World::Run() {
  ScenarioResult result;
  result.run = scheduler_.Run();
  scheduler_.Shutdown();
  result.violation = violation_;
  result.faults_injected = coverage_.Snapshot();
  result.faults_enabled.insert(coverage_.enabled().begin(), coverage_.enabled().end());
  if (record_trace_) {
    for (const sim::TraceEvent& event : scheduler_.trace().events()) {
      absl::StrAppend(&result.trace_dump, event.Format(scheduler_.NodeName(event.node)), "\n");
    }
  }
  return result;
}

}  // namespace faultline::scenarios::kit
