// sim/scheduler/node_clock.cc — see node_clock.h.
#include "sim/scheduler/node_clock.h"

#include <cstdint>
#include <limits>

#include "core/base/check.h"

namespace faultline::sim {
namespace {

__extension__ using Wide = __int128;
constexpr Wide kMillion = 1'000'000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// floor(a / b) for b > 0.
Wide FloorDiv(Wide a, Wide b) {
  const Wide q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

int64_t Saturate(Wide value) { return value >= kMax ? kMax : static_cast<int64_t>(value); }

}  // namespace

int64_t NodeClock::LocalAt(int64_t virtual_ns) const {
  FAULTLINE_CHECK(valid() && virtual_ns >= 0);
  const Wide t = virtual_ns;
  return Saturate(offset_ns + t + FloorDiv(t * drift_ppm, kMillion));
}

int64_t NodeClock::VirtualAt(int64_t local_ns) const {
  FAULTLINE_CHECK(valid());
  if (local_ns == kMax) return kMax;
  if (LocalAt(0) >= local_ns) return 0;
  // The first guess inverts the formula without its floor; local time is
  // non-decreasing in virtual time, so a few steps settle it.
  Wide t = FloorDiv((static_cast<Wide>(local_ns) - offset_ns) * kMillion,
                        kMillion + drift_ppm);
  if (t >= kMax) return kMax;
  if (t < 0) t = 0;
  for (int step = 0; LocalAt(static_cast<int64_t>(t)) < local_ns; ++step) {
    FAULTLINE_CHECK(step < 4);
    if (++t >= kMax) return kMax;
  }
  for (int step = 0; t > 0 && LocalAt(static_cast<int64_t>(t - 1)) >= local_ns; ++step) {
    FAULTLINE_CHECK(step < 4);
    --t;
  }
  return static_cast<int64_t>(t);
}

}  // namespace faultline::sim
