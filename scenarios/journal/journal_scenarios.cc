// scenarios/journal/journal_scenarios.cc — the registry entries of the
// journal scenarios (journal_scenarios.h); the run is journal_world.cc.
#include "scenarios/journal/journal_scenarios.h"

#include <memory>

#include "scenarios/journal/journal_world.h"

namespace faultline::scenarios {

ScenarioResult RunJournalScenario(JournalScenarioKind kind, const ScenarioOptions& options,
                                  const JournalScenarioHooks& hooks) {
  // Large (scheduler, disk, checker): off the caller's (maybe fiber) stack.
  auto world = std::make_unique<journal_internal::JournalWorld>(kind, options, hooks);
  return world->Run();
}

Scenario JournalCheckpointCrashScenario() {
  return Scenario{
      .name = "journal_checkpoint_crash",
      .description = "a KV journal checkpointing under crashes at every checkpoint stage and in "
                     "recovery, plus deliberate snapshot damage; checks snapshot atomicity "
                     "after every recovery",
      .run = [](const ScenarioOptions& options) {
        return RunJournalScenario(JournalScenarioKind::kCheckpointCrash, options);
      },
  };
}

Scenario JournalFsyncFailureScenario() {
  return Scenario{
      .name = "journal_fsync_failure",
      .description = "syncs and directory syncs fail with EIO, snapshot and log writes with "
                     "ENOSPC, reads with EIO; the journal must fail-stop and recover in process; "
                     "snapshot atomicity checked after every recovery and crash",
      .run = [](const ScenarioOptions& options) {
        return RunJournalScenario(JournalScenarioKind::kFsyncFailure, options);
      },
  };
}

}  // namespace faultline::scenarios
