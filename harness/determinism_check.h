// harness/determinism_check.h — does a seed replay identically in two
// separate processes?
//
// Same seed + same binary must give the same trace in any process: no
// pointer values, salted hashes, uninitialised memory or real time may leak
// into a decision. The check runs `faultline replay <scenario> --seed S
// --trace` twice as fresh processes and compares the traces line by line;
// the first differing line is the first event where the runs diverged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace faultline::harness {

struct Divergence {
  uint64_t line_number = 0;  // 1-based line of the trace output
  std::string first_run;     // that line in each run ("<end of output>" if missing)
  std::string second_run;
};

// The path of the running executable.
absl::StatusOr<std::string> SelfExecutable();

// Runs the replay twice with `binary`; nullopt if the outputs are identical.
// An error if a process could not be started.
absl::StatusOr<std::optional<Divergence>> CheckSeedDeterminism(const std::string& binary,
                                                               const std::string& scenario,
                                                               uint64_t seed);

// The first line at which `a` and `b` differ, if any.
std::optional<Divergence> FirstDifferingLine(const std::string& a, const std::string& b);

}  // namespace faultline::harness
