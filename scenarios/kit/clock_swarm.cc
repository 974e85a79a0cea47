// scenarios/kit/clock_swarm.cc — see clock_swarm.h.
#include "scenarios/kit/clock_swarm.h"

namespace faultline::scenarios::kit {

sim::NodeClock DrawNodeClock(sim::Prng& swarm) {
  sim::NodeClock clock;
  if (swarm.Chance(1, 2)) return clock;
  clock.offset_ns = swarm.Between(0, int64_t{10} * 1'000'000'000);
  const int64_t max_drift_ppm = swarm.Chance(1, 4) ? 50'000 : 200;
  clock.drift_ppm = swarm.Between(-max_drift_ppm, max_drift_ppm);
  return clock;
}

}  // namespace faultline::scenarios::kit
