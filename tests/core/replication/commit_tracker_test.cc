// tests/core/replication/commit_tracker_test.cc — the majority commit index.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <vector>

#include "core/replication/commit_tracker.h"

namespace faultline::replication {
namespace {

TEST(CommitTracker, NeedsAMajorityIncludingTheLeader) {
  CommitTracker three(2);
  EXPECT_EQ(three.quorum(), 2u);
  EXPECT_FALSE(three.Update(10, std::vector<uint64_t>{0, 0}));
  EXPECT_TRUE(three.Update(10, std::vector<uint64_t>{4, 0}));
  EXPECT_EQ(three.commit_sequence(), 4u);
  EXPECT_TRUE(three.Update(10, std::vector<uint64_t>{4, 7}));
  EXPECT_EQ(three.commit_sequence(), 7u);

  CommitTracker five(4);
  EXPECT_EQ(five.quorum(), 3u);
  five.Update(9, std::vector<uint64_t>{9, 2, 1, 0});
  EXPECT_EQ(five.commit_sequence(), 2u);
}

TEST(CommitTracker, NeverDecreases) {
  CommitTracker tracker(2);
  tracker.Update(5, std::vector<uint64_t>{5, 5});
  EXPECT_FALSE(tracker.Update(5, std::vector<uint64_t>{1, 1}));
  EXPECT_EQ(tracker.commit_sequence(), 5u);
}

TEST(CommitTracker, ALoneLeaderCommitsWhatIsDurable) {
  CommitTracker alone(0);
  EXPECT_TRUE(alone.Update(3, {}));
  EXPECT_EQ(alone.commit_sequence(), 3u);
}

// The commit index is reached by a majority, and nothing higher is.
RC_GTEST_PROP(CommitTrackerProperty, IsTheHighestMajorityPosition,
              (const std::vector<uint16_t>& raw)) {
  RC_PRE(!raw.empty() && raw.size() <= 9);
  std::vector<uint64_t> positions(raw.begin(), raw.end());
  CommitTracker tracker(positions.size() - 1);
  tracker.Update(positions[0], std::vector<uint64_t>(positions.begin() + 1, positions.end()));
  const uint64_t commit = tracker.commit_sequence();
  const auto reached = [&](uint64_t s) {
    return static_cast<size_t>(std::count_if(positions.begin(), positions.end(),
                                             [s](uint64_t p) { return p >= s; }));
  };
  RC_ASSERT(commit == 0 || reached(commit) >= tracker.quorum());
  RC_ASSERT(reached(commit + 1) < tracker.quorum());
}

}  // namespace
}  // namespace faultline::replication
