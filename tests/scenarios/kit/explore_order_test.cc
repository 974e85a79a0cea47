// tests/scenarios/kit/explore_order_test.cc — the varied order of crash
// states: a permutation, extremes and the garbage state first, and early
// decisions varied before late ones.
#include "scenarios/kit/explore_order.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

namespace faultline::scenarios::kit {
namespace {

TEST(VariedCrashStateOrder, IsAPermutationForEveryCount) {
  for (uint32_t count = 0; count < 70; ++count) {
    for (bool garbage : {false, true}) {
      std::vector<uint32_t> order = VariedCrashStateOrder(count, garbage);
      std::sort(order.begin(), order.end());
      std::vector<uint32_t> expected(count + (garbage ? 1 : 0));
      std::iota(expected.begin(), expected.end(), 0u);
      EXPECT_EQ(order, expected) << count << " " << garbage;
    }
  }
}

TEST(VariedCrashStateOrder, ExtremesThenGarbageThenHalves) {
  // 10 states: 0 and 9 first, the garbage state (10), then the middle
  // 1..8 by bit-reversed rank: 1, 5, 3, 7, 2, 6, 4, 8.
  EXPECT_EQ(VariedCrashStateOrder(10, true),
            (std::vector<uint32_t>{0, 9, 10, 1, 5, 3, 7, 2, 6, 4, 8}));
  EXPECT_EQ(VariedCrashStateOrder(1, true), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(VariedCrashStateOrder(0, true), (std::vector<uint32_t>{0}));
}

}  // namespace
}  // namespace faultline::scenarios::kit
