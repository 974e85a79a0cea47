// scenarios/kit/explore_order.h — the order in which an exhaustive crash
// exploration checks the crash states of one crash point.
//
// The crash enumerator (sim/disk/crash_enumerator.h) walks the crash
// decisions depth first, option 0 first: its list starts with "everything
// dropped" and then varies the LAST pending op's sectors before touching
// the earlier ops. Checking a bounded prefix of that list would test many
// tears of one write and nothing else. Instead, given the `count`
// enumerated states (index 0 = all dropped, count - 1 = the last decision
// sequence, every op at its highest option) and whether a garbage
// representative follows them (index `count`), the order is:
//   1. the two extremes: index 0, then count - 1;
//   2. the garbage representative;
//   3. the rest (1 .. count - 2) in bit-reversed order of their rank, which
//      splits the depth-first list in halves, quarters, eighths...: states
//      whose early decisions differ come before neighbours that differ only
//      in the last sector.
// Deterministic: it depends on `count` and `with_garbage` only.
#pragma once

#include <cstdint>
#include <vector>

namespace faultline::scenarios::kit {

std::vector<uint32_t> VariedCrashStateOrder(uint32_t count, bool with_garbage);

}  // namespace faultline::scenarios::kit
