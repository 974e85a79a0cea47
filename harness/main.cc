// harness/main.cc — the `faultline` command: list, run and replay scenarios.
//
// Every failing seed is printed with the one command that replays it. The
// harness (unlike core/) may read the real clock: it reports seeds per
// second of wall time.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/str_format.h"
#include "harness/cli_args.h"
#include "scenarios/registry.h"
#include "sim/scheduler/sim_log.h"

namespace faultline::harness {
namespace {

struct ScenarioTally {
  uint64_t seeds = 0;
  uint64_t failures = 0;
  std::map<std::string, uint64_t> faults;
  double wall_seconds = 0;
};

std::string Hex(uint64_t value) { return absl::StrFormat("0x%016x", value); }

std::string FailureReason(const scenarios::ScenarioResult& result) {
  if (!result.violation.empty()) return result.violation;
  return absl::StrFormat("%s: %s", sim::OutcomeName(result.run.outcome), result.run.detail);
}

std::string FaultSummary(const std::map<std::string, uint64_t>& faults) {
  if (faults.empty()) return "none";
  std::string text;
  for (const auto& [kind, count] : faults) {
    absl::StrAppendFormat(&text, "%s%s=%d", text.empty() ? "" : " ", kind, count);
  }
  return text;
}

int RunSeeds(const CliArgs& args) {
  std::vector<const scenarios::Scenario*> selected;
  if (args.scenario == "all") {
    for (const auto& scenario : scenarios::AllScenarios()) selected.push_back(&scenario);
  } else if (const scenarios::Scenario* scenario = scenarios::FindScenario(args.scenario)) {
    selected.push_back(scenario);
  } else {
    std::cerr << "faultline: unknown scenario '" << args.scenario << "' (see 'faultline list')\n";
    return 2;
  }
  const bool single = args.seed_count == 1;
  std::map<std::string, ScenarioTally> tallies;
  uint64_t total_seeds = 0, total_failures = 0;
  for (const scenarios::Scenario* scenario : selected) {
    ScenarioTally& tally = tallies[scenario->name];
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < args.seed_count; ++i) {
      const uint64_t seed = args.first_seed + i;  // wraps around 2^64 by design
      scenarios::ScenarioOptions options{.seed = seed, .record_trace = args.trace};
      scenarios::ScenarioResult result = scenario->run(options);
      ++tally.seeds;
      for (const auto& [kind, count] : result.faults_injected) tally.faults[kind] += count;
      if (args.trace) std::cout << result.trace_dump;
      if (!result.passed()) {
        ++tally.failures;
        std::cout << absl::StrFormat(
            "FAIL %s seed=%s\n  violated: %s\n  faults injected: %s\n  trace hash: %s\n"
            "  replay: faultline replay %s --seed %s --trace --log-level debug\n",
            scenario->name, Hex(seed), FailureReason(result), FaultSummary(result.faults_injected),
            Hex(result.run.trace_hash), scenario->name, Hex(seed));
      } else if (single) {
        std::cout << absl::StrFormat(
            "%s seed=%s passed: trace hash %s, %d steps, %.6fs virtual, faults: %s\n",
            scenario->name, Hex(seed), Hex(result.run.trace_hash), result.run.steps,
            static_cast<double>(result.run.end_time_ns) / 1e9,
            FaultSummary(result.faults_injected));
      }
    }
    tally.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    total_seeds += tally.seeds;
    total_failures += tally.failures;
  }
  if (!single) {
    std::cout << absl::StrFormat("%-24s %10s %9s %12s  %s\n", "scenario", "seeds", "failures",
                                 "seeds/s", "faults injected");
    for (const auto& [name, tally] : tallies) {
      std::cout << absl::StrFormat("%-24s %10d %9d %12.0f  %s\n", name, tally.seeds, tally.failures,
                                   tally.wall_seconds > 0 ? tally.seeds / tally.wall_seconds : 0.0,
                                   FaultSummary(tally.faults));
    }
  }
  std::cout << absl::StrFormat("faultline: %d seeds, %d failed\n", total_seeds, total_failures);
  return total_failures == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<CliArgs> parsed = ParseCliArgs(args);
  if (!parsed.ok()) {
    std::cerr << "faultline: " << parsed.status().message() << "\n" << UsageText();
    return 2;
  }
  sim::InstallSimLogger(spdlog::level::from_str(parsed->log_level));
  switch (parsed->command) {
    case Command::kHelp:
      std::cout << UsageText();
      return 0;
    case Command::kList:
      for (const auto& scenario : scenarios::AllScenarios()) {
        std::cout << absl::StrFormat("%-24s %s\n", scenario.name, scenario.description);
      }
      return 0;
    case Command::kRun:
    case Command::kReplay:
      return RunSeeds(*parsed);
  }
  return 2;
}

}  // namespace
}  // namespace faultline::harness

int main(int argc, char** argv) { return faultline::harness::Main(argc, argv); }
