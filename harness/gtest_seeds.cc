// harness/gtest_seeds.cc — see gtest_seeds.h.
#include "harness/gtest_seeds.h"

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "harness/cli_args.h"
#include "harness/sweep.h"
#include "reports/seed_result.h"

namespace faultline::harness {
namespace {

// The value of an environment variable parsed as a seed, or `fallback`.
// A malformed value fails the test rather than silently running defaults.
uint64_t SeedFromEnvironment(const char* name, uint64_t fallback, bool* present) {
  const char* text = std::getenv(name);
  *present = text != nullptr;
  if (text == nullptr) return fallback;
  absl::StatusOr<uint64_t> value = ParseSeed(text);
  if (!value.ok()) {
    ADD_FAILURE() << name << ": " << value.status().message();
    return fallback;
  }
  return *value;
}

}  // namespace

void ExpectSeedsPass(const scenarios::Scenario& scenario, uint64_t default_seed_count) {
  bool single = false, counted = false, shifted = false;
  const uint64_t only_seed = SeedFromEnvironment("FAULTLINE_SEED", 0, &single);
  const uint64_t count = SeedFromEnvironment("FAULTLINE_SEEDS", default_seed_count, &counted);
  const uint64_t first = SeedFromEnvironment("FAULTLINE_FIRST_SEED", 0, &shifted);
  // As the command line: no vacuous pass over zero seeds, no silent wrap.
  if (!single && (count == 0 || count > kMaxSeedCount)) {
    ADD_FAILURE() << "FAULTLINE_SEEDS (or the default) must be a count from 1 to " << kMaxSeedCount
                  << ", got " << count;
    return;
  }
  if (!single && count - 1 > UINT64_MAX - first) {
    ADD_FAILURE() << "FAULTLINE_FIRST_SEED=" << reports::Hex64(first) << " with " << count
                  << " seeds runs past 2^64-1";
    return;
  }
  // In a worker process, as a sweep: a seed that crashes, or ends the process
  // even with exit(0) (which would pass the test binary), or hangs, is a
  // test failure, never the end of the test.
  SweepOptions options{.scenarios = {&scenario}, .first_seed = single ? only_seed : first,
                       .seed_count = single ? 1 : count};
  const SweepOutcome outcome = RunSweep(options, [](const reports::SeedResult& result) {
    ADD_FAILURE() << result.scenario << " seed " << reports::Hex64(result.seed) << ": "
                  << result.outcome << ": " << result.detail
                  << "\n  trace hash: " << reports::Hex64(result.trace_hash)
                  << "\n  replay: " << result.ReplayCommand();
  });
  if (!outcome.error.empty()) {
    ADD_FAILURE() << scenario.name << ": " << outcome.error << "; " << outcome.seeds_not_run
                  << " seeds not run";
  }
}

}  // namespace faultline::harness
