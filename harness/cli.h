// harness/cli.h — the `faultline` command line over a list of scenarios.
//
// The command is a function of its arguments and the scenarios it may run,
// so that the shipped binary (every registered scenario) and test binaries
// (the registered ones plus deliberately hostile test-only scenarios that
// hang, print or corrupt the worker protocol) share one implementation.
#pragma once

#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace faultline::harness {

// The exit code when every seed passed but a --json/--junit report could not
// be written in full (a failed seed's 1 takes precedence; the message is
// printed either way).
inline constexpr int kExitReportWriteFailed = 4;
// A fault kind was enabled but never fired (run --require-coverage).
inline constexpr int kExitCoverageMissing = 5;

// Runs argv[1..] (`args`) over `scenarios` and returns the process exit code
// (0 all passed, 1 a seed failed, 2 bad usage, 3 non-determinism, 4 a report
// could not be written; see UsageText()). `scenarios` must outlive the call;
// its order is the order of `list` and `run all`.
int RunCli(const std::vector<std::string>& args, const std::vector<scenarios::Scenario>& scenarios);

}  // namespace faultline::harness
