// tests/core/replication/follower_state_test.cc — the follower's apply
// decisions: in-sequence appends, gaps, duplicates, overlaps, the resend
// rate limit, durability and the committed prefix.
#include <gtest/gtest.h>

#include "core/replication/follower_state.h"

namespace faultline::replication {
namespace {

constexpr int64_t kResendNs = 100;

TEST(FollowerState, TakesAnAppendThatContinuesTheLog) {
  FollowerState state(/*durable_sequence=*/0, kResendNs);
  const auto d = state.OnAppend(1, 3, 0, 3, 0);
  EXPECT_EQ(d.skip, 0u);
  EXPECT_EQ(d.take, 3u);
  EXPECT_FALSE(d.ack_now);  // the ack waits for durability
  EXPECT_FALSE(d.resend_from.has_value());
  EXPECT_EQ(state.appended_sequence(), 3u);
  EXPECT_EQ(state.durable_sequence(), 0u);
}

TEST(FollowerState, AGapAsksForAResendFromTheExpectedSequence) {
  FollowerState state(5, kResendNs);
  const auto d = state.OnAppend(8, 2, 0, 9, 0);
  EXPECT_EQ(d.take, 0u);
  ASSERT_TRUE(d.resend_from.has_value());
  EXPECT_EQ(*d.resend_from, 6u);
  EXPECT_EQ(state.appended_sequence(), 5u);
  EXPECT_EQ(state.counters().gaps, 1u);
}

TEST(FollowerState, RepeatedGapsAreRateLimitedPerPosition) {
  FollowerState state(5, kResendNs);
  EXPECT_TRUE(state.OnAppend(8, 1, 0, 8, 0).resend_from.has_value());
  EXPECT_FALSE(state.OnAppend(9, 1, 0, 9, 50).resend_from.has_value());
  EXPECT_TRUE(state.OnAppend(9, 1, 0, 9, 100).resend_from.has_value());  // interval passed
  EXPECT_EQ(state.counters().resends_suppressed, 1u);
  // A new position is asked for at once.
  EXPECT_EQ(state.OnAppend(6, 1, 0, 9, 101).take, 1u);
  EXPECT_EQ(*state.OnAppend(9, 1, 0, 9, 102).resend_from, 7u);
}

TEST(FollowerState, ADuplicateIsSkippedAndAckedAtOnce) {
  FollowerState state(0, kResendNs);
  state.OnAppend(1, 4, 0, 4, 0);
  state.OnDurable(4);
  const auto d = state.OnAppend(2, 3, 0, 4, 0);
  EXPECT_EQ(d.take, 0u);
  EXPECT_TRUE(d.ack_now);
  EXPECT_EQ(state.counters().entries_skipped, 3u);
  EXPECT_EQ(state.appended_sequence(), 4u);
}

TEST(FollowerState, AnOverlapTakesOnlyTheNewSuffix) {
  FollowerState state(0, kResendNs);
  state.OnAppend(1, 4, 0, 4, 0);
  const auto d = state.OnAppend(3, 5, 0, 7, 0);  // 3..7, of which 3 and 4 are here
  EXPECT_EQ(d.skip, 2u);
  EXPECT_EQ(d.take, 3u);
  EXPECT_EQ(state.appended_sequence(), 7u);
}

TEST(FollowerState, HeartbeatsAckOrRevealAGap) {
  FollowerState state(3, kResendNs);
  auto d = state.OnAppend(4, 0, 2, 3, 0);
  EXPECT_TRUE(d.ack_now);
  EXPECT_FALSE(d.resend_from.has_value());
  d = state.OnAppend(4, 0, 2, 6, 0);  // the leader has more than we do
  EXPECT_FALSE(d.ack_now);
  EXPECT_EQ(*d.resend_from, 4u);
  EXPECT_EQ(state.counters().heartbeats, 2u);
}

TEST(FollowerState, CommittedIsTheLeadersCommitCappedByWhatIsDurableHere) {
  FollowerState state(0, kResendNs);
  state.OnAppend(1, 5, 3, 5, 0);
  EXPECT_EQ(state.committed_sequence(), 0u);  // nothing durable yet
  state.OnDurable(2);
  EXPECT_EQ(state.committed_sequence(), 2u);
  state.OnDurable(5);
  EXPECT_EQ(state.committed_sequence(), 3u);
  state.OnAppend(6, 0, 1, 5, 0);  // a stale commit index never lowers it
  EXPECT_EQ(state.committed_sequence(), 3u);
}

TEST(FollowerState, RestartResumesFromTheDurablePosition) {
  FollowerState state(/*durable_sequence=*/10, kResendNs);
  EXPECT_EQ(state.appended_sequence(), 10u);
  EXPECT_EQ(state.OnAppend(11, 1, 0, 11, 0).take, 1u);
  EXPECT_TRUE(state.OnAppend(10, 1, 0, 11, 0).ack_now);
}

TEST(FollowerStateDeathTest, DurablePastAppendedIsABug) {
  FollowerState state(0, kResendNs);
  EXPECT_DEATH(state.OnDurable(1), "durable past what was appended");
}

}  // namespace
}  // namespace faultline::replication
