// tests/scenarios/checkers/api_rules_test.cc — each API rule accepts what
// wal.h promises and fires, naming itself, when the promise is broken.
#include "scenarios/checkers/api_rules.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace faultline::scenarios {
namespace {

using ::testing::HasSubstr;

const ApiRules kRules([] { return std::string("crash=1"); });

void ExpectViolation(const absl::Status& status, const std::string& rule, uint64_t sequence) {
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat(rule, " at sequence ", sequence, ":")));
  EXPECT_THAT(std::string(status.message()), HasSubstr("faults injected: crash=1"));
}

TEST(ApiRulesTest, FutureResolution) {
  EXPECT_TRUE(kRules.FutureResolved(7, 7, 7, true).ok());
  EXPECT_TRUE(kRules.FutureResolved(7, 7, 9, true).ok());
  ExpectViolation(kRules.FutureResolved(7, 5, 9, true), "durable-value", 7);
  ExpectViolation(kRules.FutureResolved(7, 7, 6, true), "durable-covers", 7);
  ExpectViolation(kRules.FutureResolved(7, 7, 7, false), "future-order", 7);
}

TEST(ApiRulesTest, DurableSequenceMovesForwardWithinIssued) {
  EXPECT_TRUE(kRules.DurableMoved(3, 5, 5).ok());
  ExpectViolation(kRules.DurableMoved(5, 3, 5), "durable-monotone", 3);
  ExpectViolation(kRules.DurableMoved(3, 6, 5), "durable-monotone", 6);
}

TEST(ApiRulesTest, BatchesAreConsecutive) {
  EXPECT_TRUE(kRules.BatchAssigned(4, 6, 3).ok());
  ExpectViolation(kRules.BatchAssigned(4, 7, 3), "batch-consecutive", 4);
  ExpectViolation(kRules.BatchAssigned(4, 3, 1), "batch-consecutive", 4);
}

TEST(ApiRulesTest, FlushAndCloseMakeEverythingBeforeThemDurable) {
  EXPECT_TRUE(kRules.Flushed("Flush", absl::OkStatus(), 8, 8).ok());
  EXPECT_TRUE(kRules.Flushed("Flush", absl::DataLossError("eio"), 8, 2).ok());
  ExpectViolation(kRules.Flushed("Flush", absl::OkStatus(), 8, 7), "flush-durable", 8);
  ExpectViolation(kRules.Flushed("Close", absl::OkStatus(), 8, 7), "close-flushes", 8);
}

TEST(ApiRulesTest, ClosedAndStoppedLogsRefuse) {
  EXPECT_TRUE(kRules.AfterClose("Append", absl::FailedPreconditionError("closed")).ok());
  ExpectViolation(kRules.AfterClose("Append", absl::OkStatus()), "closed-refuses", 0);
  const absl::Status stopped = absl::DataLossError("sync failed");
  EXPECT_TRUE(kRules.FutureFailed(5, stopped, stopped).ok());
  EXPECT_TRUE(kRules.FutureFailed(5, absl::CancelledError("gone"), absl::OkStatus()).ok());
  ExpectViolation(kRules.FutureFailed(5, stopped, absl::OkStatus()), "fail-stop-health", 5);
  EXPECT_TRUE(kRules.AppendAfterFailure(stopped, absl::FailedPreconditionError("x")).ok());
  EXPECT_TRUE(kRules.AppendAfterFailure(absl::OkStatus(), absl::OkStatus()).ok());
  ExpectViolation(kRules.AppendAfterFailure(stopped, absl::OkStatus()), "fail-stop-health", 0);
}

TEST(ApiRulesTest, Readers) {
  EXPECT_TRUE(kRules.ReaderReturned(4, 4, 4).ok());
  ExpectViolation(kRules.ReaderReturned(5, 4, 9), "reader-order", 5);
  ExpectViolation(kRules.ReaderReturned(5, 5, 4), "reader-durable", 5);
  EXPECT_TRUE(kRules.NewReaderAnswered(3, 3, 9, absl::OkStatus()).ok());
  EXPECT_TRUE(kRules.NewReaderAnswered(10, 3, 9, absl::OkStatus()).ok());
  EXPECT_TRUE(kRules.NewReaderAnswered(2, 3, 9, absl::NotFoundError("released")).ok());
  EXPECT_TRUE(kRules.NewReaderAnswered(11, 3, 9, absl::OutOfRangeError("past")).ok());
  ExpectViolation(kRules.NewReaderAnswered(2, 3, 9, absl::OkStatus()), "reader-range", 2);
  ExpectViolation(kRules.NewReaderAnswered(11, 3, 9, absl::OkStatus()), "reader-range", 11);
  ExpectViolation(kRules.NewReaderAnswered(5, 3, 9, absl::NotFoundError("x")), "reader-range", 5);
}

TEST(ApiRulesTest, OpenReadsBackEverythingRetained) {
  EXPECT_TRUE(kRules.Opened(3, 9, 9, 7, 9).ok());
  EXPECT_TRUE(kRules.Opened(5, 4, 4, 0, 4).ok());  // an empty log
  ExpectViolation(kRules.Opened(3, 8, 9, 6, 8), "open-reads-back", 8);
  ExpectViolation(kRules.Opened(3, 9, 9, 6, 9), "open-reads-back", 3);
  ExpectViolation(kRules.Opened(3, 9, 9, 6, 8), "open-reads-back", 3);
}

TEST(ApiRulesTest, ReleaseRemovesOnlyBelowItsBound) {
  EXPECT_TRUE(kRules.Released(10, 1, 8).ok());
  EXPECT_TRUE(kRules.Released(10, 1, 10).ok());
  EXPECT_TRUE(kRules.Released(3, 1, 1).ok());  // nothing wholly below 3
  ExpectViolation(kRules.Released(10, 1, 11), "release-bound", 10);
  ExpectViolation(kRules.Released(10, 5, 4), "release-bound", 4);
}

}  // namespace
}  // namespace faultline::scenarios
