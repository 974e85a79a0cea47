// scenarios/registry.cc — the scenario list (see registry.h).
#include "scenarios/registry.h"

#include "scenarios/demo/demo.h"
#include "scenarios/net/net_echo.h"
#include "scenarios/wal/wal_scenarios.h"

namespace faultline::scenarios {

const std::vector<Scenario>& AllScenarios() {
  static const std::vector<Scenario> scenarios = {
      DemoScenario(),
      WalCrashScenario(),
      WalFsyncFailureScenario(),
      WalRotationRetentionScenario(),
      NetEchoScenario(),
  };
  return scenarios;
}

const Scenario* FindScenario(std::string_view name) {
  for (const Scenario& scenario : AllScenarios()) {
    if (scenario.name == name) return &scenario;
  }
  return nullptr;
}

}  // namespace faultline::scenarios
