// scenarios/registry.h — every scenario, by name.
//
// An explicit list (no static self-registration): the order is fixed, so
// `faultline list` and `run all` are the same on every machine.
#pragma once

#include <string_view>
#include <vector>

#include "scenarios/scenario.h"

namespace faultline::scenarios {

// All scenarios, in a stable order.
const std::vector<Scenario>& AllScenarios();

// AllScenarios() followed by the variants run only by name (Scenario::in_all
// false): what the CLI knows.
const std::vector<Scenario>& KnownScenarios();

// The scenario called `name` (among KnownScenarios()), or nullptr.
const Scenario* FindScenario(std::string_view name);

}  // namespace faultline::scenarios
