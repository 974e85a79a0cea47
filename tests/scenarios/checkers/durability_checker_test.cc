// tests/scenarios/checkers/durability_checker_test.cc — the durability checker on
// hand-built histories: ones every correct log may produce (must pass), and
// one per invariant that a broken log produces (must fail, naming the
// invariant, the sequence and the faults so far). Plus a RapidCheck property
// over random histories.
#include "scenarios/checkers/durability_checker.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "absl/strings/str_cat.h"

namespace faultline::scenarios {
namespace {

using ::testing::HasSubstr;

std::string Payload(uint64_t sequence, int variant = 0) {
  return absl::StrCat("record-", sequence, "-v", variant);
}

// A checker with records first..last issued (payload Payload(s)).
DurabilityChecker Issued(uint64_t first, uint64_t last) {
  DurabilityChecker checker(first, [] { return std::string("crash=2 torn_write=1"); });
  for (uint64_t s = first; s <= last; ++s) EXPECT_TRUE(checker.Issue(s, Payload(s)).ok());
  return checker;
}

std::vector<LogRecord> Log(uint64_t first, uint64_t last) {
  std::vector<LogRecord> records;
  for (uint64_t s = first; s <= last; ++s) records.push_back({s, Payload(s)});
  return records;
}

// Expects a violation of `invariant` at `sequence`, with the faults so far.
void ExpectViolation(const absl::Status& status, const std::string& invariant, uint64_t sequence) {
  ASSERT_FALSE(status.ok());
  const std::string message(status.message());
  EXPECT_THAT(message, HasSubstr(absl::StrCat(invariant, " at sequence ", sequence, ":")));
  EXPECT_THAT(message, HasSubstr("faults injected: crash=2 torn_write=1"));
}

// --- an unprovable loss (a misdirected write of the newest batch) ----------

TEST(DurabilityCheckerTest, UnprovableLossIsExcusedDownToTheLastVouchedRecord) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.Acknowledge(6).ok());
  checker.ExcuseUnprovableLoss(4);
  EXPECT_TRUE(checker.CheckRecovery(1, Log(1, 4)).ok());
  EXPECT_EQ(checker.last_acked(), 4u);  // the lost records are forgotten
  EXPECT_EQ(checker.last_issued(), 4u);
}

TEST(DurabilityCheckerTest, UnprovableLossBelowTheVouchedRecordIsAViolation) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.Acknowledge(6).ok());
  checker.ExcuseUnprovableLoss(4);
  ExpectViolation(checker.CheckRecovery(1, Log(1, 3)), "prefix", 4);
}

TEST(DurabilityCheckerTest, UnprovableLossMayShortenAReopen) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.Acknowledge(6).ok());
  ASSERT_TRUE(checker.CheckRecovery(1, Log(1, 6)).ok());
  ExpectViolation(checker.CheckReopen(1, Log(1, 5)), "idempotent-recovery", 6);
  checker.ExcuseUnprovableLoss(5);
  EXPECT_TRUE(checker.CheckReopen(1, Log(1, 5)).ok());
  EXPECT_EQ(checker.last_acked(), 5u);
  EXPECT_TRUE(checker.CheckReopen(1, Log(1, 5)).ok());  // the shorter log is the one now
}

TEST(DurabilityCheckerTest, UnprovableLossExcuseIsSpentByOneRecovery) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.Acknowledge(5).ok());
  checker.ExcuseUnprovableLoss(2);
  ASSERT_TRUE(checker.CheckRecovery(1, Log(1, 6)).ok());
  for (uint64_t s = 7; s <= 8; ++s) ASSERT_TRUE(checker.Issue(s, Payload(s)).ok());
  ASSERT_TRUE(checker.Acknowledge(8).ok());
  ExpectViolation(checker.CheckRecovery(1, Log(1, 7)), "prefix", 8);
}

// --- histories that must pass ---------------------------------------------

TEST(DurabilityCheckerTest, AcceptsEveryEndBetweenAckedAndIssued) {
  for (uint64_t end = 3; end <= 6; ++end) {
    DurabilityChecker checker = Issued(1, 6);
    ASSERT_TRUE(checker.Acknowledge(3).ok());
    EXPECT_TRUE(checker.CheckRecovery(1, Log(1, end)).ok()) << end;
    EXPECT_TRUE(checker.CheckReopen(1, Log(1, end)).ok()) << end;
  }
}

TEST(DurabilityCheckerTest, AcceptsAnEmptyLogWhenNothingWasAcknowledged) {
  DurabilityChecker checker = Issued(1, 4);
  EXPECT_TRUE(checker.CheckRecovery(1, {}).ok());
  EXPECT_EQ(checker.last_issued(), 0u);
}

TEST(DurabilityCheckerTest, RebasesSoLostSequencesCanBeReissued) {
  DurabilityChecker checker = Issued(10, 15);
  ASSERT_TRUE(checker.Acknowledge(11).ok());
  ASSERT_TRUE(checker.CheckRecovery(10, Log(10, 12)).ok());
  EXPECT_EQ(checker.last_issued(), 12u);
  EXPECT_EQ(checker.last_acked(), 12u);  // what recovery returned is durable now
  // Sequence 13 is handed out again, with another payload.
  ASSERT_TRUE(checker.Issue(13, Payload(13, 1)).ok());
  ASSERT_TRUE(checker.Acknowledge(13).ok());
  std::vector<LogRecord> log = Log(10, 12);
  log.push_back({13, Payload(13, 1)});
  EXPECT_TRUE(checker.CheckRecovery(10, log).ok());
}

TEST(DurabilityCheckerTest, AcceptsAReleasedPrefixAndAResurrectedSegment) {
  DurabilityChecker checker = Issued(1, 8);
  ASSERT_TRUE(checker.Acknowledge(8).ok());
  checker.NoteRelease(5);
  EXPECT_TRUE(checker.CheckRecovery(5, Log(5, 8)).ok());  // released exactly
  EXPECT_TRUE(checker.CheckRecovery(3, Log(3, 8)).ok());  // a removal undone by a crash
  EXPECT_TRUE(checker.CheckRecovery(1, Log(1, 8)).ok());  // nothing removed yet
}

TEST(DurabilityCheckerTest, AcceptsFailuresAfterTheLastAck) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.Acknowledge(2).ok());
  EXPECT_TRUE(checker.AcknowledgeFailed(4).ok());
  EXPECT_TRUE(checker.AcknowledgeFailed(3).ok());
  EXPECT_TRUE(checker.Acknowledge(2).ok());  // a late observer of an earlier ack
}

TEST(DurabilityCheckerTest, AcceptsDataLossOnlyAfterDeliberateCorruption) {
  DurabilityChecker checker = Issued(1, 4);
  checker.NoteCorruption({.sequence = 2, .file = "0001.wal", .offset_bytes = 57});
  EXPECT_TRUE(checker.CheckRecoveryError(
                         absl::DataLossError("segment wal/0001.wal offset 57: bad checksum"))
                  .ok());
}

// A refusal is accepted only when it points at the damage: the file and the
// offset where the damaged frame starts, so an operator can repair by hand.
TEST(DurabilityCheckerTest, DataLossMustNameTheDamagedFileAndOffset) {
  DurabilityChecker checker = Issued(1, 4);
  checker.NoteCorruption({.sequence = 2, .file = "0001.wal", .offset_bytes = 57});
  ExpectViolation(checker.CheckRecoveryError(absl::DataLossError("bad checksum")),
                  "clean-recovery", 1);
  ExpectViolation(checker.CheckRecoveryError(absl::DataLossError("wal/0002.wal offset 57: x")),
                  "clean-recovery", 1);
  ExpectViolation(checker.CheckRecoveryError(absl::DataLossError("wal/0001.wal offset 570: x")),
                  "clean-recovery", 1);
  ExpectViolation(checker.CheckRecoveryError(absl::DataLossError("wal/0001.wal offset 5: x")),
                  "clean-recovery", 1);
  // FailedPrecondition only when the version field was hit.
  ExpectViolation(checker.CheckRecoveryError(absl::FailedPreconditionError("wal/0001.wal v3")),
                  "clean-recovery", 1);
  DurabilityChecker version = Issued(1, 4);
  version.NoteCorruption({.sequence = 1, .file = "0001.wal", .in_version_field = true});
  EXPECT_TRUE(version.CheckRecoveryError(absl::FailedPreconditionError("wal/0001.wal v3")).ok());
}

TEST(DurabilityCheckerTest, ReadsMustReturnTheIssuedPayload) {
  DurabilityChecker checker = Issued(1, 3);
  EXPECT_TRUE(checker.CheckRead(2, Payload(2)).ok());
  ExpectViolation(checker.CheckRead(2, "xx"), "reader", 2);
  ExpectViolation(checker.CheckRead(4, Payload(4)), "reader", 4);
}

// --- one failing history per invariant --------------------------------------

TEST(DurabilityCheckerTest, LostAcknowledgedRecordViolatesPrefix) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.Acknowledge(4).ok());
  ExpectViolation(checker.CheckRecovery(1, Log(1, 3)), "prefix", 4);
}

// A trace as the checker sees it through its hooks: an event counter and
// the crashes of the checked node.
struct FakeTrace {
  uint64_t next_event = 0;
  std::vector<uint64_t> crashes;

  DurabilityChecker::TraceHooks Hooks() {
    return {.next_event = [this] { return next_event; },
            .crashes_since = [this](uint64_t after) {
              std::vector<uint64_t> since;
              for (uint64_t crash : crashes) {
                if (crash > after) since.push_back(crash);
              }
              return since;
            }};
  }
};

TEST(DurabilityCheckerTest, ALostRecordsVerdictNamesItsAcknowledgementAndTheCrash) {
  FakeTrace trace;
  DurabilityChecker checker = Issued(1, 6);
  checker.set_trace_hooks(trace.Hooks());
  trace.next_event = 10;
  ASSERT_TRUE(checker.Acknowledge(2).ok());
  trace.next_event = 17;
  ASSERT_TRUE(checker.Acknowledge(4).ok());
  trace.crashes = {5, 25};  // one before the acknowledgement, one after
  trace.next_event = 40;
  const absl::Status lost = checker.CheckRecovery(1, Log(1, 3));
  ExpectViolation(lost, "prefix", 4);
  EXPECT_THAT(lost.message(),
              HasSubstr("; trace events: #17 acknowledged sequence 4, #25 the crash that lost it; "
                        "faults injected: "));
}

TEST(DurabilityCheckerTest, AVerdictNamesEveryCrashSinceTheLastGoodRecovery) {
  FakeTrace trace;
  DurabilityChecker checker = Issued(1, 6);
  checker.set_trace_hooks(trace.Hooks());
  trace.next_event = 3;
  ASSERT_TRUE(checker.Acknowledge(4).ok());
  trace.next_event = 8;
  ASSERT_TRUE(checker.CheckRecovery(1, Log(1, 5)).ok());  // survived the crash at 6
  trace.crashes = {6, 12, 20};
  trace.next_event = 30;
  const absl::Status lost = checker.CheckRecovery(1, Log(1, 3));
  ExpectViolation(lost, "prefix", 4);
  EXPECT_THAT(lost.message(),
              HasSubstr("; trace events: #3 acknowledged sequence 4, crashes #12 #20 since the "
                        "last recovery that kept it (one of them lost it); "));

  DurabilityChecker failing = Issued(1, 3);
  failing.set_trace_hooks(trace.Hooks());
  trace.next_event = 31;
  ASSERT_TRUE(failing.Acknowledge(1).ok());
  trace.crashes.push_back(33);
  const absl::Status error = failing.CheckRecoveryError(absl::InternalError("boom"));
  ExpectViolation(error, "clean-recovery", 2);
  EXPECT_THAT(error.message(), HasSubstr("; trace events: #33 the last crash; "));
}

TEST(DurabilityCheckerTest, WithoutTraceHooksAVerdictNamesNoEvents) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.Acknowledge(4).ok());
  const absl::Status lost = checker.CheckRecovery(1, Log(1, 3));
  ExpectViolation(lost, "prefix", 4);
  EXPECT_THAT(lost.message(), ::testing::Not(HasSubstr("trace events")));
}

TEST(DurabilityCheckerTest, GapViolatesPrefix) {
  DurabilityChecker checker = Issued(1, 6);
  std::vector<LogRecord> log = Log(1, 2);
  log.push_back({4, Payload(4)});
  ExpectViolation(checker.CheckRecovery(1, log), "prefix", 3);
}

TEST(DurabilityCheckerTest, MissingStartViolatesPrefix) {
  DurabilityChecker checker = Issued(1, 6);
  ExpectViolation(checker.CheckRecovery(3, Log(3, 4)), "prefix", 1);
}

TEST(DurabilityCheckerTest, CorruptPayloadIsReported) {
  DurabilityChecker checker = Issued(1, 5);
  std::vector<LogRecord> log = Log(1, 5);
  log[2].payload[0] ^= 1;
  ExpectViolation(checker.CheckRecovery(1, log), "no-corrupt", 3);
}

TEST(DurabilityCheckerTest, TruncatedPayloadIsCorrupt) {
  DurabilityChecker checker = Issued(1, 5);
  std::vector<LogRecord> log = Log(1, 5);
  log[4].payload.pop_back();
  ExpectViolation(checker.CheckRecovery(1, log), "no-corrupt", 5);
}

TEST(DurabilityCheckerTest, PhantomRecordIsReported) {
  DurabilityChecker checker = Issued(1, 5);
  std::vector<LogRecord> log = Log(1, 5);
  log.push_back({6, "never issued"});
  ExpectViolation(checker.CheckRecovery(1, log), "no-phantom", 6);
}

TEST(DurabilityCheckerTest, RecordBeforeTheFirstIssuedIsAPhantom) {
  DurabilityChecker checker = Issued(5, 7);
  std::vector<LogRecord> log = {{4, "old"}};
  for (const LogRecord& record : Log(5, 7)) log.push_back(record);
  ExpectViolation(checker.CheckRecovery(4, log), "no-phantom", 4);
}

TEST(DurabilityCheckerTest, EmptyLogThatStartsPastTheIssuedRecordsIsAPhantom) {
  // Everything was released, and the empty log claims records up to 999
  // existed: its next record would be 1000, not 4.
  DurabilityChecker checker = Issued(1, 3);
  ASSERT_TRUE(checker.Acknowledge(3).ok());
  checker.NoteRelease(4);
  EXPECT_TRUE(checker.CheckRecovery(4, {}).ok());  // released exactly: empty at 4
  ExpectViolation(checker.CheckRecovery(1000, {}), "no-phantom", 999);
  ExpectViolation(checker.CheckReopen(1000, {}), "idempotent-recovery", 4);
}

TEST(DurabilityCheckerTest, DuplicateIsReported) {
  DurabilityChecker checker = Issued(1, 5);
  std::vector<LogRecord> log = Log(1, 3);
  log.push_back({3, Payload(3)});
  ExpectViolation(checker.CheckRecovery(1, log), "no-duplicate", 3);
}

TEST(DurabilityCheckerTest, ReleasedTooMuchViolatesRetention) {
  DurabilityChecker checker = Issued(1, 8);
  ASSERT_TRUE(checker.Acknowledge(8).ok());
  checker.NoteRelease(4);
  ExpectViolation(checker.CheckRecovery(6, Log(6, 8)), "retained", 4);
}

TEST(DurabilityCheckerTest, ReopenThatDiffersViolatesIdempotence) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.Acknowledge(2).ok());
  ASSERT_TRUE(checker.CheckRecovery(1, Log(1, 5)).ok());
  ExpectViolation(checker.CheckReopen(1, Log(1, 4)), "idempotent-recovery", 5);
}

TEST(DurabilityCheckerTest, AckAfterAFailedSyncViolatesFailStop) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.AcknowledgeFailed(4).ok());
  ExpectViolation(checker.Acknowledge(5), "fail-stop", 5);
}

TEST(DurabilityCheckerTest, FailureOfAnAcknowledgedRecordViolatesFailStop) {
  DurabilityChecker checker = Issued(1, 6);
  ASSERT_TRUE(checker.Acknowledge(5).ok());
  ExpectViolation(checker.AcknowledgeFailed(3), "fail-stop", 3);
}

TEST(DurabilityCheckerTest, AckOfAnUnissuedRecordIsAPhantom) {
  DurabilityChecker checker = Issued(1, 3);
  ExpectViolation(checker.Acknowledge(4), "phantom-ack", 4);
}

TEST(DurabilityCheckerTest, OutOfOrderIssueIsReported) {
  DurabilityChecker checker = Issued(1, 3);
  ExpectViolation(checker.Issue(5, "x"), "issue-order", 5);
}

TEST(DurabilityCheckerTest, AcceptsAStaleAckOfTheRecordTheLogStillHolds) {
  // Records 1..4 issued by a Wal instance that is then destroyed; a reopen
  // recovers 1..3; the new instance reissues 4 with another payload.
  DurabilityChecker checker = Issued(1, 4);
  ASSERT_TRUE(checker.CheckRecovery(1, Log(1, 3)).ok());
  ASSERT_TRUE(checker.Issue(4, Payload(4, 1)).ok());
  ASSERT_TRUE(checker.AcknowledgeRecord(4, Payload(4, 1), /*stale=*/false).ok());
  // The destroyed instance's acknowledgement of 3 arrives late: fine.
  EXPECT_TRUE(checker.AcknowledgeRecord(3, Payload(3), /*stale=*/true).ok());
  EXPECT_EQ(checker.last_acked(), 4u);
}

TEST(DurabilityCheckerTest, TwoPayloadsAcknowledgedForOneSequenceAreReported) {
  DurabilityChecker checker = Issued(1, 4);
  ASSERT_TRUE(checker.CheckRecovery(1, Log(1, 3)).ok());
  ASSERT_TRUE(checker.Issue(4, Payload(4, 1)).ok());
  ASSERT_TRUE(checker.AcknowledgeRecord(4, Payload(4, 1), /*stale=*/false).ok());
  // The destroyed instance acknowledges its own record 4 as well.
  ExpectViolation(checker.AcknowledgeRecord(4, Payload(4), /*stale=*/true),
                  "one-payload-per-sequence", 4);
  // A stale acknowledgement past what the reopen recovered is one too.
  DurabilityChecker other = Issued(1, 4);
  ASSERT_TRUE(other.CheckRecovery(1, Log(1, 2)).ok());
  ExpectViolation(other.AcknowledgeRecord(3, Payload(3), /*stale=*/true),
                  "one-payload-per-sequence", 3);
}

TEST(DurabilityCheckerTest, CloseThatHidesFailedRecordsIsReported) {
  DurabilityChecker checker = Issued(1, 3);
  EXPECT_TRUE(checker.CheckClose(absl::OkStatus(), 0).ok());
  EXPECT_TRUE(checker.CheckClose(absl::CancelledError("destroyed"), 2).ok());
  ExpectViolation(checker.CheckClose(absl::OkStatus(), 2), "honest-close", 1);
}

TEST(DurabilityCheckerTest, RecoveryErrorWithoutCorruptionIsReported) {
  DurabilityChecker checker = Issued(1, 3);
  ASSERT_TRUE(checker.Acknowledge(3).ok());
  ExpectViolation(checker.CheckRecoveryError(absl::DataLossError("bad magic")), "clean-recovery",
                  4);
  checker.NoteCorruption({.sequence = 2, .file = "0001.wal"});
  // Corruption excuses DataLoss, not other errors.
  ExpectViolation(checker.CheckRecoveryError(absl::InternalError("confused")), "clean-recovery", 4);
}

// --- property ------------------------------------------------------------------

// For any history (n issued, k acknowledged), a recovered prefix [1, end] is
// accepted exactly when k <= end <= n, and the checker's model follows it.
RC_GTEST_PROP(DurabilityCheckerProperty, PrefixAcceptedIffBetweenAckedAndIssued, ()) {
  const uint64_t issued = *rc::gen::inRange<uint64_t>(0, 40);
  const uint64_t acked = *rc::gen::inRange<uint64_t>(0, issued + 1);
  const uint64_t end = *rc::gen::inRange<uint64_t>(0, 45);
  DurabilityChecker checker(1);
  for (uint64_t s = 1; s <= issued; ++s) RC_ASSERT(checker.Issue(s, Payload(s)).ok());
  if (acked > 0) RC_ASSERT(checker.Acknowledge(acked).ok());
  std::vector<LogRecord> log;
  for (uint64_t s = 1; s <= end; ++s) log.push_back({s, Payload(s)});
  const absl::Status status = checker.CheckRecovery(1, log);
  RC_ASSERT(status.ok() == (acked <= end && end <= issued));
  if (status.ok()) {
    RC_ASSERT(checker.last_issued() == end);
    RC_ASSERT(checker.last_acked() == end);
    RC_ASSERT(checker.CheckReopen(1, log).ok());
  }
}

}  // namespace
}  // namespace faultline::scenarios
