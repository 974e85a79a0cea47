// scenarios/demo/demo.h — "demo": the runtime under crashes, with a checker.
//
// Three nodes each run a pipeline: producers send numbered items through a
// bounded Channel to consumers, which tally them under a Mutex, with seeded
// think times. A nemesis crashes random nodes at random virtual times and
// restarts them; every incarnation starts its pipeline from scratch. The
// checker: an incarnation that runs to completion consumed every item its
// producers sent exactly once (nothing lost, nothing repeated), and every
// node eventually completes one. It exercises the scheduler's seeded
// interleavings, timers, crash unwinding and restarts; the storage and
// network scenarios build on the same shape.
#pragma once

#include "scenarios/scenario.h"

namespace faultline::scenarios {

Scenario DemoScenario();

// Runs the demo once; also usable directly from tests.
ScenarioResult RunDemo(const ScenarioOptions& options);

}  // namespace faultline::scenarios
