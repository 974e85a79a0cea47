// harness/explore_command.h — `faultline explore <scenario>`: the exhaustive
// crash-state exploration of a scenario's small fixed configuration
// (scenarios/wal/wal_explore.h for wal_crash, the one scenario that has it).
//
// Prints one line per crash point (states checked of the point's total, and
// whether its space was exhausted), then a summary: points exhausted of
// points explored, states checked and states checked per wall-clock second,
// and for a violation its message and the command that replays that one
// crash state. Exit 0: no violation; 1: a violation; 2: a scenario without
// an exploration, or a --point/--state outside its space.
#pragma once

#include "harness/cli_args.h"

namespace faultline::harness {

int ExploreCommand(const CliArgs& args);

}  // namespace faultline::harness
