// harness/cli_args.h — parsing the `faultline` command line.
//
// Kept apart from main() so that every malformed input has a unit test:
// bad usage is reported as an error message and exit code 2, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/trace_filter.h"

namespace faultline::harness {

enum class Command { kHelp, kList, kRun, kReplay, kCheckDeterminism, kExplore };

struct CliArgs {
  Command command = Command::kHelp;
  std::string scenario;          // a scenario name, or "all" (run only)
  std::string help_topic;        // help: the command to explain, or empty for all
  uint64_t first_seed = 0;       // --seed S, or --first-seed S with --seeds
  uint64_t seed_count = 1;       // --seeds N
  bool trace = false;            // --trace: print the trace, one event a line
  // run and replay: --trace-kind K,..., --trace-node NAME, --trace-from-ns T
  // and --trace-until-ns T choose the lines shown (each implies --trace); by
  // default all but the scheduler's own events.
  TraceFilter trace_filter = DefaultTraceFilter();
  // --log-level trace|debug|info|warn|error|off. Sweeps (run, with more than
  // one seed, and check-determinism) default to off; one-seed runs to warn.
  std::string log_level;
  int jobs = 1;                  // --jobs J: worker processes for sweeps
  int64_t time_budget_ns = 0;    // --time-budget SECONDS: wall time for a sweep; 0 = none
  // --seed-timeout-s SECONDS (run, check-determinism): wall time one seed may
  // take before it is killed and recorded as a "timeout" failure. replay has
  // no limit: it is for debugging.
  int64_t seed_timeout_ns = 60'000'000'000;
  std::string json_path;         // --json FILE: JSON lines, one per seed
  std::string junit_path;        // --junit FILE: JUnit XML
  // --all-failures (run): print every failing seed as it is found, not only
  // the summary grouped by invariant.
  bool all_failures = false;
  // --require-coverage (run): a fault kind that some seed's swarm enabled
  // but that fired in no seed of its scenario fails the run (exit 5); the
  // sweep warns about it either way.
  bool require_coverage = false;
  // explore: --ops N (the most crash points, 0 = the scenario's bound),
  // --states-per-point M (0 = every enumerated state), and the replay of one
  // crash state, --point K [--state I].
  uint32_t explore_ops = 0;
  uint32_t states_per_point = 0;
  std::optional<uint32_t> explore_point;
  std::optional<uint32_t> explore_state;
};

// The most seeds one --seeds (or FAULTLINE_SEEDS) may ask for.
inline constexpr uint64_t kMaxSeedCount = 100'000'000;

// Parses a seed: decimal, or hexadecimal with a 0x prefix, fitting 64 bits.
absl::StatusOr<uint64_t> ParseSeed(const std::string& text);

// Parses argv[1..]. InvalidArgument with a message fit for the user on any
// unknown command or option, missing or malformed value.
absl::StatusOr<CliArgs> ParseCliArgs(const std::vector<std::string>& args);

// The usage text of every command.
std::string UsageText();

// The usage text of one command (`faultline help <command>`); empty if
// `command` names none.
std::string CommandUsageText(const std::string& command);

}  // namespace faultline::harness
