// scenarios/replication/repl_profile.h — what distinguishes repl_reorder,
// repl_partition and repl_crash: the fault horizon, the crash budget, how
// often the leader is the victim, and how the swarm's network plan is
// pushed towards the profile's kind of fault.
#pragma once

#include <cstdint>
#include <vector>

#include "scenarios/replication/repl_scenarios.h"
#include "sim/network/net_plan.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios {

struct ProfileSpec {
  ReplProfile profile = ReplProfile::kReorder;
  int64_t fault_horizon_ns = 0;   // network faults and crashes before this
  int max_crashes = 0;            // crash rounds drawn in [0, max_crashes]
  uint32_t leader_crash_ppm = 0;  // chance a crash round's victim is the leader
};

ProfileSpec DescribeProfile(ReplProfile profile);

// After DrawNetworkSwarm: raises the rates or adds the rules the profile is
// about. Draws from `swarm` (after the swarm's own draws).
void ShapeNetworkPlan(const ProfileSpec& spec, sim::Prng& swarm,
                      const std::vector<sim::NodeId>& nodes, sim::net::NetworkFaultPlan& plan);

}  // namespace faultline::scenarios
