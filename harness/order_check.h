// harness/order_check.h — does a seed's run depend on the seeds run before
// it in the same process?
//
// check-determinism's replays run each seed alone in a fresh process, but a
// sweep worker runs seed after seed. State that outlives a seed (a
// function-local static, a global cache in a scenario or in the code under
// test) makes a seed's trace depend on its predecessors: `--jobs 1` and
// `--jobs 2` disagree, and the printed replay command does not reproduce what
// the sweep saw. This check runs a block of seeds in one worker process in
// ascending order and in another in descending order, so every seed has
// different predecessors in the two runs, and compares each seed's trace
// hash and outcome.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace faultline::harness {

// Seeds per block: bounds the results held at once; a leak that needs more
// than this many predecessors to show goes unseen.
inline constexpr uint64_t kOrderCheckBlockSeeds = 1024;

struct OrderMismatch {
  uint64_t seed = 0;
  uint64_t ascending_hash = 0;   // run after the seeds below it in its block
  uint64_t descending_hash = 0;  // run after the seeds above it in its block
  std::string ascending_outcome;
  std::string descending_outcome;
};

// Runs seeds [first_seed, first_seed + seed_count) of `scenario` in blocks of
// at most kOrderCheckBlockSeeds, each block in one process in ascending and
// in another in descending order, each seed limited to `seed_timeout_ns`.
// Returns the seeds whose hash or outcome differ between the two orders.
std::vector<OrderMismatch> CheckInProcessOrders(const scenarios::Scenario& scenario,
                                                uint64_t first_seed, uint64_t seed_count,
                                                int64_t seed_timeout_ns);

}  // namespace faultline::harness
