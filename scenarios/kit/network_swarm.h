// scenarios/kit/network_swarm.h — the swarm's network choices for one seed.
//
// Swarm testing (as for the disk, disk_swarm.h): each seed turns on a random
// subset of the network's fault kinds at random rates, so that rare
// combinations get explored instead of every run averaging over everything.
// For a simulated network that means: the latency distribution of its links
// (fixed, uniform or long-tailed), the rates of drop, duplicate, reorder,
// corrupt and delay, and a few rules — partitions (symmetric, one-way, a
// node isolated, a bridge: two nodes cut from each other while the rest
// reach both) and clogs with time windows inside the fault horizon, and
// faults aimed at the nth message of a pair of nodes.
//
// Draws come from the swarm stream in a fixed order: latency, rates,
// partition rules, clog rules, message rules. Append new draws at the end.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/network/sim_network.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios::kit {

// `nodes` (two or more) are the nodes the rules may name; rule windows start
// inside [0, horizon_ns).
sim::net::NetworkFaultPlan DrawNetworkSwarm(sim::Prng& swarm, const std::vector<sim::NodeId>& nodes,
                                            int64_t horizon_ns);

// Faults stop: every partition heals and every clog releases now (rules'
// too, traced), rates and rules are cleared. Latency stays: it is the
// network, not a fault.
void StopNetworkFaults(sim::net::SimNetwork& network);

}  // namespace faultline::scenarios::kit
