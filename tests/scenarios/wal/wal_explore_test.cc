// tests/scenarios/wal/wal_explore_test.cc — the WAL's exhaustive crash
// exploration: the real WAL passes every crash state of the small workload,
// and WALs made buggy by a decorator are caught, at a point and state that
// replay alone reproduces.
#include "scenarios/wal/wal_explore.h"

#include <memory>

#include <gtest/gtest.h>

#include "spdlog/spdlog.h"
#include "tests/scenarios/buggy_file_systems.h"

namespace faultline::scenarios {
namespace {

const bool kQuiet = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

template <typename Decorator>
WalScenarioHooks Wrap() {
  WalScenarioHooks hooks;
  hooks.wrap_file_system = [](io::FileSystem& inner,
                              const wal::WalOptions&) -> std::unique_ptr<io::FileSystem> {
    return std::make_unique<Decorator>(inner);
  };
  return hooks;
}

TEST(WalExplore, RealWalPassesEveryStateOfEveryPoint) {
  absl::StatusOr<ExploreReport> report = ExploreWal({.seed = 1});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->violation.has_value()) << *report->violation;
  EXPECT_TRUE(report->all_points_reached);
  ASSERT_GT(report->points.size(), 20u);  // opens, writes, syncs, rotations
  EXPECT_EQ(report->points_exhausted(), report->points.size());
  uint64_t garbage_points = 0;
  for (const ExplorePoint& point : report->points) {
    garbage_points += point.states_total > 2 ? 1 : 0;
  }
  EXPECT_GT(garbage_points, 0u);
  EXPECT_GT(report->states_checked, report->points.size());
}

TEST(WalExplore, SameSeedSameCounts) {
  absl::StatusOr<ExploreReport> first = ExploreWal({.seed = 7, .max_points = 12});
  absl::StatusOr<ExploreReport> second = ExploreWal({.seed = 7, .max_points = 12});
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_EQ(first->points.size(), second->points.size());
  for (size_t i = 0; i < first->points.size(); ++i) {
    EXPECT_EQ(first->points[i].states_total, second->points[i].states_total);
  }
  EXPECT_EQ(first->states_checked, second->states_checked);
}

TEST(WalExplore, CatchesAckBeforeSyncAndReplaysTheState) {
  const WalScenarioHooks buggy = Wrap<testing::AckBeforeSyncFileSystem>();
  absl::StatusOr<ExploreReport> report = ExploreWal({.seed = 1}, buggy);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->violation.has_value());
  EXPECT_FALSE(report->violation_in_workload);
  EXPECT_NE(report->violation->find("durability violated"), std::string::npos)
      << *report->violation;
  // The replay checks that one state and finds the same violation.
  absl::StatusOr<ExploreReport> replay =
      ExploreWal({.seed = 1, .only_point = report->violation_point,
                  .only_state = report->violation_state},
                 buggy);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->states_checked, 1u);
  ASSERT_TRUE(replay->violation.has_value());
  EXPECT_EQ(*replay->violation, *report->violation);
  // The same state passes with the real WAL.
  absl::StatusOr<ExploreReport> real = ExploreWal(
      {.seed = 1, .only_point = report->violation_point, .only_state = report->violation_state});
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_FALSE(real->violation.has_value());
}

// Extremes come first: even one state per point (everything pending
// dropped) finds the acknowledgement before the sync.
TEST(WalExplore, OneStatePerPointStillCatchesAckBeforeSync) {
  absl::StatusOr<ExploreReport> report = ExploreWal(
      {.seed = 1, .states_per_point = 1}, Wrap<testing::AckBeforeSyncFileSystem>());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->violation.has_value());
  EXPECT_EQ(report->violation_state, 0u);
}

TEST(WalExplore, CatchesASkippedRotationDirSync) {
  absl::StatusOr<ExploreReport> report =
      ExploreWal({.seed = 1}, Wrap<testing::NoRotationDirSyncFileSystem>());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->violation.has_value());
}

TEST(WalExplore, StatesPerPointBoundsEachPoint) {
  absl::StatusOr<ExploreReport> report =
      ExploreWal({.seed = 1, .max_points = 20, .states_per_point = 2});
  ASSERT_TRUE(report.ok()) << report.status();
  bool some_not_exhausted = false;
  for (const ExplorePoint& point : report->points) {
    EXPECT_LE(point.states_checked, 2u);
    some_not_exhausted |= !point.exhausted();
  }
  EXPECT_TRUE(some_not_exhausted);
  EXPECT_FALSE(report->all_points_reached);
}

TEST(WalExplore, ReplayOutsideTheSpaceIsInvalidArgument) {
  EXPECT_TRUE(absl::IsInvalidArgument(ExploreWal({.seed = 1, .only_point = 999}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ExploreWal({.seed = 1, .only_point = 1, .only_state = 100000}).status()));
}

}  // namespace
}  // namespace faultline::scenarios
