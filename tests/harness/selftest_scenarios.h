// tests/harness/selftest_scenarios.h — deliberately hostile scenarios that
// exercise the harness itself: a seed that hangs, a scenario that prints,
// one that writes garbage into the worker protocol, one that inspects the
// file descriptors its worker inherited, one whose failure details hold
// control bytes and UTF-8, one that leaks state between seeds through a
// function-local static; seeds that end their process with exit(0) or
// _exit(0), hang with every signal blocked, close their sweep pipe and hang,
// leave a child process holding the pipe, or tell their pid and hang; a
// scenario whose name a shell would split; one failing every seed on two
// invariants with varied faults and steps; and wal_crash over a WAL planted
// with a bug (tests/scenarios/buggy_file_systems.h).
//
// They are registered only in the test binary `faultline_selftest` (and used
// directly by the harness's unit tests), never in the shipped `faultline`.
#pragma once

#include <vector>

#include "scenarios/scenario.h"

namespace faultline::harness::selftest {

// Seeds equal to 2 mod 4 never finish promptly: they spin (in wall-clock
// sleeps) for kHangSeconds, then pass — a hang bounded only so that a test
// of an unfixed harness ends. Every other seed passes at once.
inline constexpr int kHangSeconds = 30;

// Every scenario above, named selftest_*.
const std::vector<scenarios::Scenario>& SelftestScenarios();

// The registered scenarios followed by SelftestScenarios().
const std::vector<scenarios::Scenario>& AllScenariosWithSelftests();

// Closes every descriptor >= 3 this process holds: a test calls it first,
// so that descriptors its own runner leaked to it do not count against the
// harness in selftest_fd_hygiene.
void CloseInheritedDescriptors();

// The one called `name` among AllScenariosWithSelftests() (FAULTLINE_CHECKed).
const scenarios::Scenario& Selftest(const char* name);

}  // namespace faultline::harness::selftest
