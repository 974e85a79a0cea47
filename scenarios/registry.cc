// scenarios/registry.cc — the scenario list (see registry.h).
#include "scenarios/registry.h"

#include <utility>

#include "scenarios/demo/demo.h"
#include "scenarios/net/net_echo.h"
#include "scenarios/journal/journal_scenarios.h"
#include "scenarios/replication/repl_scenarios.h"
#include "scenarios/sqlite/sqlite_scenarios.h"
#include "scenarios/wal/wal_scenarios.h"

namespace faultline::scenarios {

const std::vector<Scenario>& AllScenarios() {
  static const std::vector<Scenario> scenarios = {
      DemoScenario(),
      WalCrashScenario(),
      WalFsyncFailureScenario(),
      WalRotationRetentionScenario(),
      NetEchoScenario(),
      JournalCheckpointCrashScenario(),
      JournalFsyncFailureScenario(),
      ReplReorderScenario(),
      ReplPartitionScenario(),
      ReplCrashScenario(),
      sqlite::SqliteCrashScenario(),
      sqlite::SqliteFsyncFailureScenario(),
  };
  return scenarios;
}

const std::vector<Scenario>& KnownScenarios() {
  static const std::vector<Scenario> known = [] {
    std::vector<Scenario> all = AllScenarios();
    for (Scenario& variant : sqlite::SqliteVariantScenarios()) all.push_back(std::move(variant));
    return all;
  }();
  return known;
}

const Scenario* FindScenario(std::string_view name) {
  for (const Scenario& scenario : KnownScenarios()) {
    if (scenario.name == name) return &scenario;
  }
  return nullptr;
}

}  // namespace faultline::scenarios
