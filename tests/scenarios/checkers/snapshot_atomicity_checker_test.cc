// tests/scenarios/checkers/snapshot_atomicity_checker_test.cc — the
// snapshot-atomicity checker on hand-built histories: what it accepts, what
// it rejects, and how it rebases.
#include "scenarios/checkers/snapshot_atomicity_checker.h"

#include <gtest/gtest.h>

namespace faultline::scenarios {
namespace {

// Digests of the model after 0..3 records: put a=1, put b=2, delete a.
struct History {
  uint64_t d[4];
  History() {
    StateDigest s;
    d[0] = s.value();
    s.Add("a", "1");
    d[1] = s.value();
    s.Add("b", "2");
    d[2] = s.value();
    s.Remove("a", "1");
    d[3] = s.value();
  }
};

SnapshotAtomicityChecker Issued(const History& h) {
  SnapshotAtomicityChecker checker([] { return std::string("crash=1"); });
  for (uint64_t k = 1; k <= 3; ++k) EXPECT_TRUE(checker.Issue(k, h.d[k]).ok());
  return checker;
}

TEST(StateDigest, DependsOnEntriesNotOrder) {
  StateDigest a, b;
  a.Add("x", "1");
  a.Add("y", "2");
  b.Add("y", "2");
  b.Add("x", "1");
  EXPECT_EQ(a.value(), b.value());
  StateDigest c;
  c.Add("xy", "");
  StateDigest e;
  e.Add("x", "y");
  EXPECT_NE(c.value(), e.value());
}

TEST(SnapshotAtomicityChecker, AcceptsAnyStateBetweenAckedAndIssued) {
  const History h;
  for (uint64_t k = 1; k <= 3; ++k) {
    SnapshotAtomicityChecker checker = Issued(h);
    ASSERT_TRUE(checker.Acknowledge(1).ok());
    EXPECT_TRUE(checker.CheckRecovered(k, h.d[k]).ok()) << k;
    EXPECT_EQ(checker.last_issued(), k);  // rebased
    EXPECT_EQ(checker.last_acked(), k);
  }
}

TEST(SnapshotAtomicityChecker, RejectsLostAcknowledgedRecords) {
  const History h;
  SnapshotAtomicityChecker checker = Issued(h);
  ASSERT_TRUE(checker.Acknowledge(2).ok());
  const absl::Status status = checker.CheckRecovered(1, h.d[1]);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("durability"), std::string::npos);
  EXPECT_NE(status.message().find("crash=1"), std::string::npos);
}

TEST(SnapshotAtomicityChecker, RejectsAMixOfStates) {
  const History h;
  SnapshotAtomicityChecker checker = Issued(h);
  // Claims 3 records, holds the state after 2 (a snapshot without its suffix).
  absl::Status status = checker.CheckRecovered(3, h.d[2]);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("atomicity"), std::string::npos);
  EXPECT_NE(status.message().find("after 2 records"), std::string::npos);
  StateDigest never;
  never.Add("b", "3");
  status = checker.CheckRecovered(3, never.value());
  EXPECT_NE(status.message().find("never had"), std::string::npos);
}

TEST(SnapshotAtomicityChecker, RejectsPhantomsAndOutOfOrderIssues) {
  const History h;
  SnapshotAtomicityChecker checker = Issued(h);
  EXPECT_FALSE(checker.CheckRecovered(4, h.d[3]).ok());
  EXPECT_FALSE(checker.Acknowledge(4).ok());
  EXPECT_FALSE(checker.Issue(6, 0).ok());
}

TEST(SnapshotAtomicityChecker, RecoveryErrorsOnlyForDamageNamingTheFile) {
  SnapshotAtomicityChecker checker(nullptr);
  const absl::Status loss = absl::DataLossError("journal verify j/snapshot-5.snap: bad");
  EXPECT_FALSE(checker.CheckRecoveryError(loss).ok());
  checker.NoteDamage("j/snapshot-7.snap");
  EXPECT_FALSE(checker.CheckRecoveryError(loss).ok());
  checker.NoteDamage("j/snapshot-5.snap");
  EXPECT_TRUE(checker.CheckRecoveryError(loss).ok());
  EXPECT_FALSE(checker.CheckRecoveryError(absl::InternalError("j/snapshot-5.snap")).ok());
}

TEST(SnapshotAtomicityChecker, RecoveryErrorIsAViolationWhenAnOlderStateWasKept) {
  SnapshotAtomicityChecker checker(nullptr);
  checker.NoteDamage("j/snapshot-5.snap", /*older_state_kept=*/true);
  const absl::Status error =
      checker.CheckRecoveryError(absl::DataLossError("journal verify j/snapshot-5.snap: bad"));
  EXPECT_FALSE(error.ok());
  EXPECT_NE(error.message().find("fallback"), std::string::npos) << error;
}

}  // namespace
}  // namespace faultline::scenarios
