// tests/scenarios/wal/wal_scenarios_test.cc — the WAL scenarios pass a fixed
// sweep of seeds with the production WAL, replay bit for bit, and report
// fault coverage.
#include "scenarios/wal/wal_scenarios.h"

#include <gtest/gtest.h>

#include "harness/gtest_seeds.h"
#include "scenarios/registry.h"
#include "spdlog/spdlog.h"

namespace faultline::scenarios {
namespace {

// The WAL logs its fail-stops and repairs, and these runs provoke plenty.
const bool kQuietLogs = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

TEST(WalScenariosTest, Registered) {
  EXPECT_NE(FindScenario("demo"), nullptr);
  EXPECT_NE(FindScenario("wal_crash"), nullptr);
  EXPECT_NE(FindScenario("wal_fsync_failure"), nullptr);
  EXPECT_NE(FindScenario("wal_rotation_retention"), nullptr);
}

TEST(WalScenariosTest, WalCrashPassesSeeds) {
  harness::ExpectSeedsPass(*FindScenario("wal_crash"), 200);
}

TEST(WalScenariosTest, WalRotationRetentionPassesSeeds) {
  harness::ExpectSeedsPass(*FindScenario("wal_rotation_retention"), 200);
}

TEST(WalScenariosTest, WalFsyncFailurePassesSeeds) {
  harness::ExpectSeedsPass(*FindScenario("wal_fsync_failure"), 200);
}

TEST(WalScenariosTest, SameSeedSameTraceHash) {
  for (WalScenarioKind kind : {WalScenarioKind::kCrash, WalScenarioKind::kFsyncFailure,
                               WalScenarioKind::kRotationRetention}) {
    for (uint64_t seed : {1u, 77u, 4242u}) {
      const ScenarioResult a = RunWalScenario(kind, ScenarioOptions{.seed = seed});
      const ScenarioResult b = RunWalScenario(kind, ScenarioOptions{.seed = seed});
      EXPECT_EQ(a.run.trace_hash, b.run.trace_hash) << static_cast<int>(kind) << " " << seed;
      EXPECT_EQ(a.faults_injected, b.faults_injected);
      EXPECT_EQ(a.violation, b.violation);
    }
  }
}

TEST(WalScenariosTest, ReportsFaultCoverage) {
  // Over a few seeds every crash moment and the main crash outcomes occur.
  std::map<std::string, uint64_t> total;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const ScenarioResult result = RunWalScenario(WalScenarioKind::kCrash, ScenarioOptions{.seed = seed});
    for (const auto& [kind, count] : result.faults_injected) total[kind] += count;
  }
  for (const char* kind : {"crash", "crash_mid_commit", "crash_mid_rotation", "crash_mid_write",
                           "crash_in_recovery", "crash_at_time", "torn_write", "dropped_write"}) {
    EXPECT_GT(total[kind], 0u) << kind;
  }
  std::map<std::string, uint64_t> fsync_total;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const ScenarioResult result =
        RunWalScenario(WalScenarioKind::kFsyncFailure, ScenarioOptions{.seed = seed});
    for (const auto& [kind, count] : result.faults_injected) fsync_total[kind] += count;
  }
  EXPECT_GT(fsync_total["sync_eio"], 0u);
  EXPECT_GT(fsync_total["wal_fail_stop"], 0u);
}

// The workloads use the whole API under faults: over a few seeds of each
// scenario, every call's rule renders a verdict (the trace names each).
TEST(WalScenariosTest, WorkloadsUseTheWholeApi) {
  for (WalScenarioKind kind : {WalScenarioKind::kCrash, WalScenarioKind::kFsyncFailure,
                               WalScenarioKind::kRotationRetention}) {
    std::map<std::string, int> verdicts;
    for (uint64_t seed = 0; seed < 30; ++seed) {
      const ScenarioResult result =
          RunWalScenario(kind, ScenarioOptions{.seed = seed, .record_trace = true});
      ASSERT_TRUE(result.passed()) << result.violation;
      for (const char* what : {" batch\n", " flush\n", " reader\n", " new reader\n",
                               " release\n", " reader after close\n", " append after close\n",
                               " durable future\n", " opened\n", " format\n"}) {
        if (result.trace_dump.find(what) != std::string::npos) ++verdicts[what];
      }
    }
    for (const char* what : {" batch\n", " flush\n", " reader\n", " new reader\n",
                             " release\n", " durable future\n", " opened\n", " format\n"}) {
      EXPECT_GT(verdicts[what], 0) << static_cast<int>(kind) << what;
    }
    // A Close while writers append, and the calls refused after it.
    EXPECT_GT(verdicts[" append after close\n"] + verdicts[" reader after close\n"], 0)
        << static_cast<int>(kind);
  }
}

}  // namespace
}  // namespace faultline::scenarios
