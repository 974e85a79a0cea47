// tests/scenarios/sqlite/sqlite_scenarios_test.cc — what the SQLite
// scenarios must show: configurations SQLite documents as durable pass a
// fixed sweep; synchronous=OFF is caught losing acknowledged commits within
// a bounded number of seeds; an unknown configuration is a clear error; a
// seed's run does not depend on the runs before it in the process.
#include <sqlite3.h>

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "harness/gtest_seeds.h"
#include "scenarios/registry.h"
#include "scenarios/sqlite/sqlite_config.h"
#include "scenarios/sqlite/sqlite_device.h"
#include "scenarios/sqlite/sqlite_scenarios.h"
#include "scenarios/sqlite/sqlite_schema_verdict.h"

namespace faultline::scenarios::sqlite {
namespace {

TEST(SqliteScenariosTest, DurableConfigurationsPassAFixedSweep) {
  harness::ExpectSeedsPass(*FindScenario("sqlite_crash"), 300);
  harness::ExpectSeedsPass(*FindScenario("sqlite_crash.wal.full"), 100);
  harness::ExpectSeedsPass(*FindScenario("sqlite_crash.delete.extra"), 100);
}

TEST(SqliteScenariosTest, FsyncFailuresPassAFixedSweep) {
  harness::ExpectSeedsPass(*FindScenario("sqlite_fsync_failure"), 300);
}

// The first seed (from 0) whose run fails with a violation starting with
// `prefix`, or -1 within `max_seeds`.
int64_t FirstSeedViolating(const Scenario& scenario, std::string_view prefix, int64_t max_seeds) {
  for (int64_t seed = 0; seed < max_seeds; ++seed) {
    const ScenarioResult result = scenario.run({.seed = static_cast<uint64_t>(seed)});
    if (result.violation.rfind(prefix, 0) == 0) return seed;
  }
  return -1;
}

TEST(SqliteScenariosTest, SynchronousOffIsCaughtLosingAcknowledgedCommits) {
  for (const char* name : {"sqlite_crash.wal.off", "sqlite_crash.delete.off"}) {
    const int64_t first = FirstSeedViolating(*FindScenario(name), "lost-commit", 20);
    EXPECT_GE(first, 0) << name << ": no acknowledged commit lost in 20 seeds";
  }
}

// Documented as not durable across a power loss, and caught so.
TEST(SqliteScenariosTest, WalNormalMayRollBackACommit) {
  EXPECT_GE(FirstSeedViolating(*FindScenario("sqlite_crash.wal.normal"), "lost-commit", 50), 0);
}

TEST(SqliteScenariosTest, UnknownConfigurationIsAClearError) {
  const absl::StatusOr<SqliteConfig> parsed = ParseConfig("wal.sometimes");
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status()));
  EXPECT_NE(parsed.status().message().find("unknown SQLite configuration 'wal.sometimes'"),
            std::string::npos);
  EXPECT_FALSE(ParseConfig("").ok());
  EXPECT_FALSE(ParseConfig("wal").ok());
  EXPECT_FALSE(ParseConfig("wal.full.extra").ok());
  EXPECT_EQ(FindScenario("sqlite_crash.wal.sometimes"), nullptr);
  for (const SqliteConfig& config : AllConfigs()) {
    const absl::StatusOr<SqliteConfig> round_trip = ParseConfig(ConfigName(config));
    ASSERT_TRUE(round_trip.ok()) << ConfigName(config);
    EXPECT_EQ(ConfigName(*round_trip), ConfigName(config));
  }
}

TEST(SqliteScenariosTest, VariantsAreNamedButNotInRunAll) {
  for (const Scenario& scenario : AllScenarios()) EXPECT_TRUE(scenario.in_all) << scenario.name;
  const Scenario* variant = FindScenario("sqlite_fsync_failure.truncate.normal");
  ASSERT_NE(variant, nullptr);
  EXPECT_FALSE(variant->in_all);
  ASSERT_NE(FindScenario("sqlite_fsync_restart"), nullptr);
  EXPECT_FALSE(FindScenario("sqlite_fsync_restart")->in_all);
}

// SQLite keeps process-wide state (its PRNG, its list of VFSes): a seed
// gives the same trace whatever ran before it in the process. (That the
// PRNG's bytes come from the simulation is shown on the disk's bytes by
// SqliteVfsTest.RandomnessComesFromTheSimulation: traces do not hash data.)
TEST(SqliteScenariosTest, ASeedDoesNotDependOnEarlierRuns) {
  const Scenario& scenario = *FindScenario("sqlite_crash.wal.full");
  const uint64_t first = scenario.run({.seed = 5}).run.trace_hash;
  (void)scenario.run({.seed = 6});
  (void)FindScenario("sqlite_crash.delete.extra")->run({.seed = 9});
  EXPECT_EQ(scenario.run({.seed = 5}).run.trace_hash, first);
}

// SQLite is told only what the simulated disk honours: powersafe overwrite
// when a torn write never touches its neighbours, and otherwise the
// physical sector (which a torn write may trash whole) as its sector size.
TEST(SqliteScenariosTest, TheVfsReportsWhatTheDiskHonours) {
  sim::disk::DiskOptions disk;
  disk.atomic_unit_bytes = 512;
  disk.physical_sector_bytes = 4096;
  disk.powersafe_overwrite = true;
  SqliteDevice device = SqliteDeviceOf(disk);
  EXPECT_EQ(device.sector_size_bytes, 512u);
  EXPECT_EQ(device.device_characteristics, SQLITE_IOCAP_POWERSAFE_OVERWRITE);
  disk.powersafe_overwrite = false;
  device = SqliteDeviceOf(disk);
  EXPECT_EQ(device.sector_size_bytes, 4096u);
  EXPECT_EQ(device.device_characteristics & SQLITE_IOCAP_POWERSAFE_OVERWRITE, 0);
  disk.physical_sector_bytes = 0;  // the logical sector is the physical one
  EXPECT_EQ(SqliteDeviceOf(disk).sector_size_bytes, 512u);
  disk.atomic_unit_bytes = 4096;
  EXPECT_EQ(SqliteDeviceOf(disk).sector_size_bytes, 4096u);
}

// A database that vanished after transfers were acknowledged is a lost
// commit, even when the setup's own directory sync had failed (and the
// setup so was never acknowledged): setting the bank up again would hide
// it. (Seen with a VFS that never syncs a new journal's directory.)
TEST(SqliteScenariosTest, AVanishedDatabaseWithAcknowledgedTransfersIsALostCommit) {
  EXPECT_EQ(JudgeSchema(0, false, 0), SchemaVerdict::kSetUp);
  EXPECT_EQ(JudgeSchema(2, false, 0), SchemaVerdict::kCheck);
  EXPECT_EQ(JudgeSchema(2, true, 5), SchemaVerdict::kCheck);
  EXPECT_EQ(JudgeSchema(0, true, 0), SchemaVerdict::kLost);
  EXPECT_EQ(JudgeSchema(1, false, 0), SchemaVerdict::kLost);
  EXPECT_EQ(JudgeSchema(0, false, 3), SchemaVerdict::kLost);
}

}  // namespace
}  // namespace faultline::scenarios::sqlite
