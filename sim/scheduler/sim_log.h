// sim/scheduler/sim_log.h — spdlog stamped with simulated time and node.
//
// Production code logs through spdlog's default logger as usual. In
// simulation the default logger is replaced by one whose lines start with the
// virtual time and node of the fiber that logged, so a replayed run's log
// reads in simulated time ("[    0.012000000s n1] wal: rotated ..."). No
// real timestamps appear, so logs of two replays are identical.
#pragma once

#include <spdlog/common.h>

namespace faultline::sim {

// Installs the stamped logger as spdlog's default logger, writing to stderr,
// at `level` (sweeps use warn or off; replays use debug or trace).
void InstallSimLogger(spdlog::level::level_enum level);

}  // namespace faultline::sim
