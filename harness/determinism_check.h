// harness/determinism_check.h — does a seed replay identically in two
// separate processes?
//
// Same seed + same binary must give the same trace in any process: no
// pointer values, salted hashes, uninitialised memory or real time may leak
// into a decision. The check runs `faultline replay <scenario> --seed S
// --trace` twice as fresh processes and compares the traces line by line;
// the first differing line is the first event where the runs diverged. A
// replay that runs past the per-seed wall-clock limit is killed, and the seed
// reported as timed out rather than compared.
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

struct SeedCheck {
  std::optional<Divergence> divergence;  // nullopt: the two runs printed the same
  bool timed_out = false;                // a run passed the limit; nothing compared
};

// Runs the replay twice with `binary`, each run limited to `timeout_ns` of
// wall time (> 0). An error if a process could not be started.
absl::StatusOr<SeedCheck> CheckSeedDeterminism(const std::string& binary,
                                               const std::string& scenario, uint64_t seed,
                                               int64_t timeout_ns);

// The first line at which `a` and `b` differ, if any.
std::optional<Divergence> FirstDifferingLine(const std::string& a, const std::string& b);

}  // namespace faultline::harness
