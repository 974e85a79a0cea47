// tests/scenarios/replication/repl_scenarios_test.cc — the replication
// scenarios are registered, pass a fixed sweep of seeds, replay bit for bit,
// and do inject what they are about (crashes of both roles, partitions,
// reordering, corruption).
#include "scenarios/replication/repl_scenarios.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>

#include "harness/gtest_seeds.h"
#include "scenarios/registry.h"

namespace faultline::scenarios {
namespace {

TEST(ReplScenariosTest, RegisteredAndPassSeeds) {
  for (const char* name : {"repl_reorder", "repl_partition", "repl_crash"}) {
    SCOPED_TRACE(name);
    const Scenario* scenario = FindScenario(name);
    ASSERT_NE(scenario, nullptr);
    harness::ExpectSeedsPass(*scenario, 100);  // the CLI sweep runs thousands
  }
}

TEST(ReplScenariosTest, SameSeedSameTraceHashAndCoverage) {
  for (ReplProfile profile : {ReplProfile::kReorder, ReplProfile::kPartition, ReplProfile::kCrash}) {
    for (uint64_t seed : {1u, 77u, 4242u}) {
      const ScenarioResult a = RunReplication(profile, ScenarioOptions{.seed = seed});
      const ScenarioResult b = RunReplication(profile, ScenarioOptions{.seed = seed});
      EXPECT_TRUE(a.passed()) << a.violation << a.run.detail;
      EXPECT_EQ(a.run.trace_hash, b.run.trace_hash) << seed;
      EXPECT_EQ(a.faults_injected, b.faults_injected);
    }
  }
}

// Over a few seeds each profile injects the faults it is named for, and the
// other kinds the swarm chose.
TEST(ReplScenariosTest, ProfilesInjectTheirFaults) {
  std::map<ReplProfile, std::map<std::string, uint64_t>> totals;
  for (ReplProfile profile : {ReplProfile::kReorder, ReplProfile::kPartition, ReplProfile::kCrash}) {
    for (uint64_t seed = 0; seed < 40; ++seed) {
      const ScenarioResult result = RunReplication(profile, ScenarioOptions{.seed = seed});
      ASSERT_TRUE(result.passed()) << seed << ": " << result.violation;
      for (const auto& [kind, count] : result.faults_injected) totals[profile][kind] += count;
    }
  }
  auto& reorder = totals[ReplProfile::kReorder];
  EXPECT_GT(reorder["net_reorder"], 40u * 5);
  EXPECT_GT(reorder["net_reorder"], 2 * totals[ReplProfile::kCrash]["net_reorder"]);
  EXPECT_GT(reorder["net_duplicate"], 40u * 5);
  EXPECT_GT(reorder["net_corrupt"], 0u);
  EXPECT_GE(totals[ReplProfile::kPartition]["net_partition"], 40u);
  auto& crash = totals[ReplProfile::kCrash];
  EXPECT_GT(crash["crash_leader"], 20u);
  EXPECT_GT(crash["crash_follower"], 20u);
  EXPECT_GT(crash["crash_power_loss"], 10u);
  EXPECT_GT(crash["crash_process"], 10u);
}

}  // namespace
}  // namespace faultline::scenarios
