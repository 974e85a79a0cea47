// scenarios/kit/clock_swarm.h — the swarm's choice of a node's clock for one
// seed: how far its monotonic clock is from virtual time, and how fast it
// runs (sim/scheduler/node_clock.h).
//
// Half of the seeds keep virtual time. The others give the node an offset
// of up to ten seconds and a drift: in most, what real oscillators show
// (up to +-200 ppm); in one of four, a clock far off (up to +-5%), so that
// timers whose length matters (flush intervals, later retransmits and
// leases) meet a clock that disagrees with everyone else's.
#pragma once

#include "sim/scheduler/node_clock.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios::kit {

sim::NodeClock DrawNodeClock(sim::Prng& swarm);

}  // namespace faultline::scenarios::kit
