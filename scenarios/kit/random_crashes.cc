// scenarios/kit/random_crashes.cc — see random_crashes.h.
#include "scenarios/kit/random_crashes.h"

#include <spdlog/spdlog.h>

#include "core/base/check.h"

namespace faultline::scenarios::kit {

void RunRandomCrashes(World& world, const std::vector<std::unique_ptr<Node>>& nodes,
                      const RandomCrashesPlan& plan) {
  FAULTLINE_CHECK(!nodes.empty() && plan.max_rounds >= 0);
  sim::Scheduler& scheduler = world.scheduler();
  sim::Prng& crash = world.prng(sim::Stream::kCrash);
  const int rounds = static_cast<int>(crash.Below(static_cast<uint64_t>(plan.max_rounds) + 1));
  for (int round = 0; round < rounds && !world.over(); ++round) {
    scheduler.SleepFor(crash.Between(1, plan.max_gap_ns));
    Node& victim = *nodes[crash.Below(nodes.size())];
    if (victim.finished() || !victim.alive()) continue;
    spdlog::debug("nemesis: crashing {}", scheduler.NodeName(victim.id()));
    victim.CrashNow(plan.label, /*coverage_kind=*/"");
    scheduler.SleepFor(crash.Between(1, plan.max_down_ns));
    spdlog::debug("nemesis: restarting {}", scheduler.NodeName(victim.id()));
    victim.Restart(Life::kWork);
  }
  for (const auto& node : nodes) node->WaitForCrashOrFinish();
  if (!world.over()) scheduler.Stop(plan.done_reason);
}

}  // namespace faultline::scenarios::kit
