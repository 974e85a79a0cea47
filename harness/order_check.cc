// harness/order_check.cc — see order_check.h.
#include "harness/order_check.h"

#include <algorithm>

#include "core/base/check.h"
#include "harness/sweep.h"

namespace faultline::harness {

std::vector<OrderMismatch> CheckInProcessOrders(const scenarios::Scenario& scenario,
                                                uint64_t first_seed, uint64_t seed_count,
                                                int64_t seed_timeout_ns) {
  std::vector<OrderMismatch> mismatches;
  for (uint64_t offset = 0; offset < seed_count; offset += kOrderCheckBlockSeeds) {
    const uint64_t block = std::min(kOrderCheckBlockSeeds, seed_count - offset);
    auto run = [&](bool descending) {
      return RunSweep({.scenarios = {&scenario}, .first_seed = first_seed + offset,
                       .seed_count = block, .jobs = 1, .seed_timeout_ns = seed_timeout_ns,
                       .keep_passed = true, .descending = descending},
                      [](const reports::SeedResult&) {});
    };
    const SweepOutcome ascending = run(false);
    const SweepOutcome descending = run(true);
    FAULTLINE_CHECK_MSG(ascending.error.empty() && descending.error.empty(),
                        "the order check could not start its worker process");
    // Both hold every seed of the block, sorted by seed.
    FAULTLINE_CHECK(ascending.results.size() == block && descending.results.size() == block);
    for (uint64_t i = 0; i < block; ++i) {
      const reports::SeedResult& up = ascending.results[i];
      const reports::SeedResult& down = descending.results[i];
      FAULTLINE_CHECK(up.seed == down.seed);
      if (up.trace_hash != down.trace_hash || up.outcome != down.outcome) {
        mismatches.push_back({.seed = up.seed, .ascending_hash = up.trace_hash,
                              .descending_hash = down.trace_hash,
                              .ascending_outcome = up.outcome,
                              .descending_outcome = down.outcome});
      }
    }
  }
  return mismatches;
}

}  // namespace faultline::harness
