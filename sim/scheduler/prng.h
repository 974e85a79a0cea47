// sim/scheduler/prng.h — the simulation's only source of randomness.
//
// xoshiro256** seeded through SplitMix64, with our own distributions: the
// std::*_distribution classes and std::shuffle differ between standard
// libraries, and a seed must replay bit for bit on any machine. No floating
// point decides anything: every draw that matters is an integer.
//
// Streams: each subsystem draws from its own stream derived from the master
// seed, so a change in how many numbers one subsystem draws does not shift
// any other. Append new streams at the end; never insert or renumber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/types/span.h"
#include "core/base/check.h"

namespace faultline::sim {

// 128-bit integers for exact wide products (a GCC/Clang extension).
__extension__ using Uint128 = unsigned __int128;
__extension__ using Int128 = __int128;

enum class Stream : uint64_t {
  kScheduler = 0,  // which runnable fiber runs next
  kDisk = 1,       // storage faults and latencies
  kNetwork = 2,    // message faults and latencies
  kWorkload = 3,   // what the scenario's clients do
  kSwarm = 4,      // which fault kinds are enabled, at what rates
  kCrash = 5,      // when nodes crash and restart
  // Append new streams here, and bump kStreamCount.
};
inline constexpr size_t kStreamCount = 6;

// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator used only to expand
// seeds into xoshiro state.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// xoshiro256** (Blackman, Vigna 2018).
class Prng {
 public:
  explicit Prng(uint64_t seed);
  // The generator for `stream` under `master_seed`.
  static Prng ForStream(uint64_t master_seed, Stream stream);

  uint64_t NextU64() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound), bound >= 1, unbiased (Lemire 2019).
  uint64_t Below(uint64_t bound) {
    FAULTLINE_CHECK(bound >= 1);
    Uint128 product = static_cast<Uint128>(NextU64()) * bound;
    uint64_t low = static_cast<uint64_t>(product);
    if (low < bound) {
      const uint64_t threshold = -bound % bound;
      while (low < threshold) {
        product = static_cast<Uint128>(NextU64()) * bound;
        low = static_cast<uint64_t>(product);
      }
    }
    return static_cast<uint64_t>(product >> 64);
  }

  // Uniform in [low, high], low <= high.
  int64_t Between(int64_t low, int64_t high) {
    FAULTLINE_CHECK(low <= high);
    const uint64_t span = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    if (span == UINT64_MAX) return static_cast<int64_t>(NextU64());
    return static_cast<int64_t>(static_cast<uint64_t>(low) + Below(span + 1));
  }

  // True with probability numerator/denominator (integers: no float decides).
  bool Chance(uint64_t numerator, uint64_t denominator) {
    FAULTLINE_CHECK(denominator >= 1 && numerator <= denominator);
    return Below(denominator) < numerator;
  }
  // True with probability ppm / 1e6.
  bool ChancePpm(uint32_t ppm) { return Chance(ppm, 1'000'000); }

  // Uniform double in [0, 1) from 53 random bits. For reporting and for
  // building integer distributions only.
  double NextDouble() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

  // Exponentially distributed integer with the given mean (>= 0), capped at
  // 64 * mean. Computed in fixed point with integer arithmetic only, so it is
  // identical on every machine and libm.
  int64_t Exponential(int64_t mean);

  // Fisher–Yates shuffle.
  template <typename T>
  void Shuffle(absl::Span<T> items) {
    for (size_t i = items.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(Below(i));
      std::swap(items[i - 1], items[j]);
    }
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace faultline::sim
