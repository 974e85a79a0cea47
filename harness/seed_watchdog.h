// harness/seed_watchdog.h — a wall-clock limit for a seed run in this
// process (`faultline run <scenario> --seed S`).
//
// A seed whose fiber never yields never returns to the harness, so the limit
// cannot be a check between steps: SIGALRM fires after the limit, writes the
// failure text prepared beforehand (async-signal-safe: one write(2)) and
// ends the process with exit code 1. Sweeps do not use this: their parent
// kills a worker that runs past the limit (harness/sweep.h).
#pragma once

#include <cstdint>
#include <string>

namespace faultline::harness {

// Arms the limit: after `timeout_ns` (rounded up to whole seconds) of wall
// time, `failure_text` goes to stdout and the process exits with 1. One
// watchdog at a time; re-arming replaces it.
void ArmSeedWatchdog(const std::string& failure_text, int64_t timeout_ns);

// Cancels the armed limit, if any.
void DisarmSeedWatchdog();

}  // namespace faultline::harness
