// Tests for sim/scheduler/prng: reproducibility, stream independence, and the
// shape of our own distributions.
#include "sim/scheduler/prng.h"

#include <array>
#include <cstdint>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace faultline::sim {
namespace {

TEST(SplitMix64, MatchesTheReferenceSequence) {
  // First outputs of SplitMix64 seeded with 0 (published test vector).
  SplitMix64 generator(0);
  EXPECT_EQ(generator.Next(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(generator.Next(), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(generator.Next(), 0x06C45D188009454Full);
}

TEST(Prng, SameSeedSameSequence) {
  Prng a(42), b(42), c(43);
  bool differs_from_other_seed = false;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.NextU64();
    EXPECT_EQ(x, b.NextU64());
    differs_from_other_seed |= (x != c.NextU64());
  }
  EXPECT_TRUE(differs_from_other_seed);
}

TEST(Prng, StreamsAreIndependentOfEachOthersDraws) {
  // Drawing more from the disk stream must not shift the network stream.
  Prng disk_a = Prng::ForStream(7, Stream::kDisk);
  Prng net_a = Prng::ForStream(7, Stream::kNetwork);
  for (int i = 0; i < 100; ++i) disk_a.NextU64();
  Prng net_b = Prng::ForStream(7, Stream::kNetwork);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(net_a.NextU64(), net_b.NextU64());
  EXPECT_NE(Prng::ForStream(7, Stream::kDisk).NextU64(),
            Prng::ForStream(7, Stream::kNetwork).NextU64());
}

RC_GTEST_PROP(Prng, BelowStaysInRange, (uint64_t seed, uint64_t bound)) {
  RC_PRE(bound >= 1);
  Prng prng(seed);
  for (int i = 0; i < 64; ++i) RC_ASSERT(prng.Below(bound) < bound);
}

RC_GTEST_PROP(Prng, BetweenIsInclusive, (uint64_t seed, int32_t low, uint16_t width)) {
  Prng prng(seed);
  const int64_t high = int64_t{low} + width;
  for (int i = 0; i < 64; ++i) {
    const int64_t value = prng.Between(low, high);
    RC_ASSERT(value >= low);
    RC_ASSERT(value <= high);
  }
}

TEST(Prng, BelowIsRoughlyUniform) {
  Prng prng(1);
  std::array<int, 6> counts{};
  const int draws = 600'000;
  for (int i = 0; i < draws; ++i) ++counts[prng.Below(6)];
  for (int count : counts) {
    EXPECT_GT(count, 99'000);  // expected 100,000; sd ~ 290
    EXPECT_LT(count, 101'000);
  }
}

TEST(Prng, ChanceMatchesItsProbability) {
  Prng prng(2);
  int hits = 0;
  for (int i = 0; i < 1'000'000; ++i) hits += prng.ChancePpm(250'000) ? 1 : 0;
  EXPECT_GT(hits, 248'000);
  EXPECT_LT(hits, 252'000);
  EXPECT_FALSE(prng.Chance(0, 10));
  EXPECT_TRUE(prng.Chance(10, 10));
}

TEST(Prng, ExponentialHasTheRightMeanAndTail) {
  Prng prng(3);
  const int64_t mean = 1'000'000;
  const int draws = 400'000;
  int64_t sum = 0;
  int above_three_means = 0;
  for (int i = 0; i < draws; ++i) {
    const int64_t value = prng.Exponential(mean);
    ASSERT_GE(value, 0);
    ASSERT_LE(value, 64 * mean);
    sum += value;
    above_three_means += value > 3 * mean ? 1 : 0;
  }
  const double observed_mean = static_cast<double>(sum) / draws;
  EXPECT_NEAR(observed_mean, mean, mean * 0.01);
  // P(X > 3 mean) = e^-3 ~ 0.0498.
  EXPECT_NEAR(above_three_means / static_cast<double>(draws), 0.0498, 0.002);
  EXPECT_EQ(prng.Exponential(0), 0);
}

TEST(Prng, ShuffleIsAPermutationAndSeedDependent) {
  std::vector<int> a(50), b(50);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 0);
  Prng pa(9), pb(10);
  pa.Shuffle(absl::MakeSpan(a));
  pb.Shuffle(absl::MakeSpan(b));
  EXPECT_NE(a, b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
}

}  // namespace
}  // namespace faultline::sim
