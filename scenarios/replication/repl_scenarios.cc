// scenarios/replication/repl_scenarios.cc — the three replication profiles
// and their registered scenarios (see repl_scenarios.h).
#include "scenarios/replication/repl_scenarios.h"

#include <algorithm>

#include "scenarios/replication/repl_profile.h"

namespace faultline::scenarios {
namespace {

constexpr int64_t kMillisecondNs = 1'000'000;

}  // namespace

ProfileSpec DescribeProfile(ReplProfile profile) {
  switch (profile) {
    case ReplProfile::kReorder:
      return ProfileSpec{.profile = profile, .fault_horizon_ns = 100 * kMillisecondNs,
                         .max_crashes = 2, .leader_crash_ppm = 250'000};
    case ReplProfile::kPartition:
      return ProfileSpec{.profile = profile, .fault_horizon_ns = 150 * kMillisecondNs,
                         .max_crashes = 2, .leader_crash_ppm = 250'000};
    case ReplProfile::kCrash:
      return ProfileSpec{.profile = profile, .fault_horizon_ns = 150 * kMillisecondNs,
                         .max_crashes = 6, .leader_crash_ppm = 400'000};
  }
  return ProfileSpec{};
}

void ShapeNetworkPlan(const ProfileSpec& spec, sim::Prng& swarm,
                      const std::vector<sim::NodeId>& nodes, sim::net::NetworkFaultPlan& plan) {
  sim::net::NetFaultRates& rates = plan.rates;
  switch (spec.profile) {
    case ReplProfile::kReorder: {
      rates.reorder_ppm = std::max<uint32_t>(rates.reorder_ppm,
                                             static_cast<uint32_t>(swarm.Between(100'000, 400'000)));
      rates.duplicate_ppm = std::max<uint32_t>(rates.duplicate_ppm,
                                               static_cast<uint32_t>(swarm.Between(20'000, 150'000)));
      if (rates.delay_ppm == 0) {
        rates.delay_ppm = static_cast<uint32_t>(swarm.Between(20'000, 200'000));
        rates.delay_min_ns = 100'000;
        rates.delay_max_ns = swarm.Between(1 * kMillisecondNs, 10 * kMillisecondNs);
      }
      break;
    }
    case ReplProfile::kPartition: {
      // At least one window in which a node (the leader half the time) is cut off.
      sim::net::PartitionRule rule;
      rule.spec.side_a = {swarm.Chance(1, 2) ? nodes[0] : nodes[1 + swarm.Below(nodes.size() - 1)]};
      rule.start_ns = swarm.Between(0, spec.fault_horizon_ns / 2);
      rule.end_ns = rule.start_ns + swarm.Between(spec.fault_horizon_ns / 10, spec.fault_horizon_ns / 2);
      plan.partition_rules.push_back(rule);
      break;
    }
    case ReplProfile::kCrash:
      break;  // the swarm's network as drawn; the crashes are the point
  }
}

Scenario ReplReorderScenario() {
  return Scenario{
      .name = "repl_reorder",
      .description = "a leader and 2 followers (core/replication) replicate 64 records over the "
                     "simulated network with high reorder, duplicate and delay rates on top of "
                     "the swarm's faults, swarm-chosen disk crash models, up to 2 crashes; checks "
                     "gap-free apply, committed => on a majority and never lost, byte equality "
                     "with the leader's log, every corrupted frame rejected, and liveness after "
                     "the heal",
      .run = [](const ScenarioOptions& options) {
        return RunReplication(ReplProfile::kReorder, options);
      },
  };
}

Scenario ReplPartitionScenario() {
  return Scenario{
      .name = "repl_partition",
      .description = "as repl_reorder, with at least one partition isolating a node (the leader "
                     "half the time) on top of the swarm's partitions, clogs and rates",
      .run = [](const ScenarioOptions& options) {
        return RunReplication(ReplProfile::kPartition, options);
      },
  };
}

Scenario ReplCrashScenario() {
  return Scenario{
      .name = "repl_crash",
      .description = "as repl_reorder, with up to 6 crashes (power loss or process crash, the "
                     "leader the victim 40% of the time) settled by the disks' crash models",
      .run = [](const ScenarioOptions& options) {
        return RunReplication(ReplProfile::kCrash, options);
      },
  };
}

}  // namespace faultline::scenarios
