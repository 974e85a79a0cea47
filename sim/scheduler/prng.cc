// sim/scheduler/prng.cc — seeding and the integer exponential (see prng.h).
#include "sim/scheduler/prng.h"

#include <bit>

namespace faultline::sim {

Prng::Prng(uint64_t seed) {
  SplitMix64 expander(seed);
  for (uint64_t& word : state_) word = expander.Next();
  // xoshiro's all-zero state is a fixed point; SplitMix64 never yields four
  // zeros in a row, but the invariant is cheap to state.
  FAULTLINE_CHECK((state_[0] | state_[1] | state_[2] | state_[3]) != 0);
}

Prng Prng::ForStream(uint64_t master_seed, Stream stream) {
  // Mix the stream index in through SplitMix64 so that neighbouring seeds
  // and neighbouring streams give unrelated states.
  SplitMix64 mixer(master_seed ^ (0xD1B54A32D192ED03ull * (static_cast<uint64_t>(stream) + 1)));
  return Prng(mixer.Next());
}

int64_t Prng::Exponential(int64_t mean) {
  FAULTLINE_CHECK(mean >= 0);
  if (mean == 0) return 0;
  // -ln(U) for U uniform in (0, 1], in Q32 fixed point:
  //   U = m * 2^-e with m in [1, 2)  =>  -ln U = e*ln2 - ln m,
  // and ln m = 2 atanh((m-1)/(m+1)) = 2 (s + s^3/3 + s^5/5 + ...), s <= 1/3.
  const uint64_t bits = (NextU64() >> 11) + 1;  // U = bits * 2^-53, in (0, 1]
  const int leading = std::countl_zero(bits);   // >= 10 (bits <= 2^53)
  const int exponent = leading - 10;            // U = m * 2^-exponent
  // m in Q32: bits normalised so its top bit is at position 32.
  const uint64_t m_q32 = (bits << leading) >> 31;  // [2^32, 2^33)
  const int64_t one_q32 = int64_t{1} << 32;
  const int64_t numerator = static_cast<int64_t>(m_q32) - one_q32;
  const int64_t denominator = static_cast<int64_t>(m_q32) + one_q32;
  const int64_t s_q32 = static_cast<int64_t>(
      (static_cast<Int128>(numerator) << 32) / denominator);  // [0, 1/3) in Q32
  const int64_t s2_q32 = (s_q32 * s_q32) >> 32;
  int64_t term_q32 = s_q32;
  int64_t series_q32 = 0;
  for (int k = 1; k <= 21; k += 2) {  // s^21 < 2^-33: below Q32 resolution
    series_q32 += term_q32 / k;
    term_q32 = (term_q32 * s2_q32) >> 32;
  }
  const int64_t ln2_q32 = 2977044472;  // round(ln 2 * 2^32)
  int64_t minus_ln_u_q32 = exponent * ln2_q32 - 2 * series_q32;
  if (minus_ln_u_q32 < 0) minus_ln_u_q32 = 0;
  // Cap at 64 * mean (probability e^-64: never in practice) to bound delays.
  const int64_t cap_q32 = int64_t{64} << 32;
  if (minus_ln_u_q32 > cap_q32) minus_ln_u_q32 = cap_q32;
  const Uint128 scaled =
      static_cast<Uint128>(minus_ln_u_q32) * static_cast<uint64_t>(mean);
  return static_cast<int64_t>(scaled >> 32);
}

}  // namespace faultline::sim
