// tests/scenarios/replication/replication_checker_test.cc — the replication
// checker on hand-built histories: each invariant passes a correct history
// and names the replica and sequence of a broken one.
#include "scenarios/checkers/replication_checker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace faultline::scenarios::checkers {
namespace {

ReplicationChecker ThreeReplicas() { return ReplicationChecker({"n1", "n2", "n3"}); }

TEST(ReplicationCheckerTest, InSequenceAppliesAcrossARestartPass) {
  ReplicationChecker checker = ThreeReplicas();
  ASSERT_TRUE(checker.OnRecovered(1, 0).ok());
  EXPECT_TRUE(checker.OnApply(1, 1, "a").ok());
  EXPECT_TRUE(checker.OnApply(1, 2, "b").ok());
  checker.OnDurableClaim(1, 1);
  ASSERT_TRUE(checker.OnRecovered(1, 1).ok());  // entry 2 was lost with the crash
  EXPECT_TRUE(checker.OnApply(1, 2, "b").ok());
}

TEST(ReplicationCheckerTest, AGapARepeatAndOtherBytesAreNamed) {
  ReplicationChecker checker = ThreeReplicas();
  ASSERT_TRUE(checker.OnRecovered(2, 0).ok());
  ASSERT_TRUE(checker.OnApply(2, 1, "a").ok());
  const absl::Status gap = checker.OnApply(2, 3, "c");
  EXPECT_NE(gap.message().find("n3 applied sequence 3 where 2 was due (a gap)"),
            std::string::npos) << gap;

  ReplicationChecker repeat = ThreeReplicas();
  ASSERT_TRUE(repeat.OnRecovered(1, 0).ok());
  ASSERT_TRUE(repeat.OnApply(1, 1, "a").ok());
  repeat.OnDurableClaim(1, 1);
  ASSERT_TRUE(repeat.OnRecovered(1, 1).ok());
  EXPECT_NE(repeat.OnApply(1, 1, "a").message().find("(a repeat)"), std::string::npos);

  ReplicationChecker bytes = ThreeReplicas();
  ASSERT_TRUE(bytes.OnRecovered(1, 0).ok());
  ASSERT_TRUE(bytes.OnApply(1, 1, "a").ok());
  ASSERT_TRUE(bytes.OnRecovered(1, 0).ok());
  EXPECT_FALSE(bytes.OnApply(1, 1, "x").ok());  // applied again with other bytes
}

TEST(ReplicationCheckerTest, ARecoveryBelowTheDurableClaimFails) {
  ReplicationChecker checker = ThreeReplicas();
  checker.OnDurableClaim(1, 5);
  const absl::Status status = checker.OnRecovered(1, 4);
  EXPECT_NE(status.message().find("n2 recovered its log through 4 but had claimed 5"),
            std::string::npos) << status;
}

TEST(ReplicationCheckerTest, CommittedMustBeDurableOnAMajority) {
  ReplicationChecker checker = ThreeReplicas();
  checker.OnDurableClaim(0, 3);
  checker.OnDurableClaim(1, 3);
  EXPECT_TRUE(checker.OnCommitted(3, "c").ok());
  // n2's claim covered sequence 3 when it was committed; a later recovery
  // of n2 below it is a broken claim, and with only n1 holding it the
  // committed entry is no longer on a majority either.
  ReplicationChecker lone = ThreeReplicas();
  lone.OnDurableClaim(0, 3);
  lone.OnDurableClaim(1, 2);
  const absl::Status status = lone.OnCommitted(3, "c");
  EXPECT_NE(status.message().find("sequence 3 was reported committed but a majority's logs "
                                  "hold only through 2"),
            std::string::npos) << status;
}

TEST(ReplicationCheckerTest, CommittedBytesNeverChangeAndMatchWhatWasApplied) {
  ReplicationChecker checker = ThreeReplicas();
  ASSERT_TRUE(checker.OnRecovered(2, 0).ok());
  checker.OnDurableClaim(0, 1);
  ASSERT_TRUE(checker.OnApply(2, 1, "a").ok());
  checker.OnDurableClaim(2, 1);
  EXPECT_FALSE(checker.OnCommitted(1, "b").ok());  // n3 applied other bytes at 1
  ReplicationChecker twice = ThreeReplicas();
  twice.OnDurableClaim(0, 1);
  twice.OnDurableClaim(1, 1);
  ASSERT_TRUE(twice.OnCommitted(1, "a").ok());
  EXPECT_FALSE(twice.OnCommitted(1, "b").ok());
}

TEST(ReplicationCheckerTest, FinalLogsMustHoldCommittedAndEqualTheLeaders) {
  ReplicationChecker checker = ThreeReplicas();
  checker.OnDurableClaim(0, 2);
  checker.OnDurableClaim(1, 2);
  ASSERT_TRUE(checker.OnCommitted(2, "b").ok());
  EXPECT_TRUE(checker.CheckFinalLogs({{"a", "b"}, {"a", "b"}, {"a", "b"}}).ok());
  const absl::Status lost = checker.CheckFinalLogs({{"a", "b"}, {"a", "b"}, {"a"}});
  EXPECT_NE(lost.message().find("n3 lacks committed sequence 2"), std::string::npos) << lost;
  EXPECT_FALSE(checker.CheckFinalLogs({{"a", "b", "c"}, {"a", "b", "x"}, {"a", "b"}}).ok());
  EXPECT_FALSE(checker.CheckFinalLogs({{"a", "b"}, {"a", "b", "c"}, {"a", "b"}}).ok());
}

}  // namespace
}  // namespace faultline::scenarios::checkers
