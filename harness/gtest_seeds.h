// harness/gtest_seeds.h — run a scenario over seeds from a GoogleTest test.
//
//   TEST(Wal, SurvivesCrashes) {
//     faultline::harness::ExpectSeedsPass(*faultline::scenarios::FindScenario("demo"), 200);
//   }
//
// Which seeds: FAULTLINE_SEED=S runs that one seed; FAULTLINE_SEEDS=N runs
// seeds 0..N-1 (FAULTLINE_FIRST_SEED=S shifts the range); otherwise seeds
// 0..default_seed_count-1. Each failing seed becomes a test failure that
// names the violated invariant and the command that replays it. The seeds
// run in a sweep worker process (sweep.h): a seed that crashes, ends the
// process (even with exit(0)) or runs past 60 s of wall time fails the test
// instead of ending or hanging it.
#pragma once

#include <cstdint>

#include "scenarios/scenario.h"

namespace faultline::harness {

void ExpectSeedsPass(const scenarios::Scenario& scenario, uint64_t default_seed_count);

}  // namespace faultline::harness
