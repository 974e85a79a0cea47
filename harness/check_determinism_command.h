// harness/check_determinism_command.h — `faultline check-determinism`.
//
// Two checks per scenario over the seed range: each seed replayed in two
// fresh processes (determinism_check.h: same binary and seed, same trace),
// and the range run in one process in two orders (order_check.h: a seed's
// trace does not depend on the seeds run before it). Exit 3 on any mismatch,
// else 1 if a replay ran past --seed-timeout-s, else 0.
#pragma once

#include <vector>

#include "harness/cli_args.h"
#include "scenarios/scenario.h"

namespace faultline::harness {

int CheckDeterminismCommand(const CliArgs& args,
                            const std::vector<const scenarios::Scenario*>& selected);

}  // namespace faultline::harness
