// Hostile directories for core/wal/wal: files the Wal did not write, named
// like segments. Sequence 0 is never a record's (initial_sequence >= 1), so a
// segment named after it must not be taken for the start of a log whose
// durable end would then wrap around to 2^64 - 1.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/wal/format.h"
#include "core/wal/wal.h"
#include "tests/core/wal/wal_test_util.h"

namespace faultline::wal::testing {
namespace {

using ::testing::HasSubstr;

TEST(WalHostileDir, SequenceZeroIsNotASegmentName) {
  EXPECT_FALSE(format::ParseSegmentName(format::SegmentName(0)).has_value());
  EXPECT_EQ(format::ParseSegmentName(format::SegmentName(1)), 1u);
}

// An empty file named like the segment of sequence 0 (or one with a valid
// header for sequence 0) is refused like any foreign file, instead of
// opening a log whose durable_sequence() is 2^64 - 1.
TEST(WalHostileDir, SegmentOfSequenceZeroIsRefused) {
  for (const std::string& bytes : {std::string(), format::EncodeSegmentHeader(0, 7)}) {
    FakeFileSystem fs;
    RunInSim([&](sim::Scheduler& s) {
      ASSERT_TRUE(fs.CreateDir(kDir).ok());
      fs.SetBytes(SegmentPath(0), bytes);
      auto wal = Wal::Open(fs, s, kDir, SmallOptions());
      if (wal.ok()) {
        // What the unfixed Wal did: everything "durable" before any append.
        ADD_FAILURE() << "opened; durable_sequence " << (*wal)->durable_sequence()
                      << ", last_sequence " << (*wal)->last_sequence();
        (void)(*wal)->Close();
        return;
      }
      EXPECT_TRUE(absl::IsFailedPrecondition(wal.status())) << wal.status();
      EXPECT_THAT(std::string(wal.status().message()), HasSubstr(format::SegmentName(0)));
    });
  }
}

// The writer never hands out sequence 2^64 - 1 (Append is OutOfRange
// first), so a frame carrying it was not written by a Wal; taking it would
// wrap the next sequence to 0 and the durable end to 2^64 - 1.
TEST(WalHostileDir, RecordOfTheLastSequenceNumberIsRefused) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    ASSERT_TRUE(fs.CreateDir(kDir).ok());
    std::string segment = format::EncodeSegmentHeader(UINT64_MAX, 7);
    format::AppendFrame(&segment, UINT64_MAX, 0, "forged", 7);
    fs.SetBytes(SegmentPath(UINT64_MAX), segment);
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    if (wal.ok()) {
      ADD_FAILURE() << "opened; durable_sequence " << (*wal)->durable_sequence()
                    << ", last_sequence " << (*wal)->last_sequence();
      (void)(*wal)->Close();
      return;
    }
    EXPECT_TRUE(absl::IsDataLoss(wal.status())) << wal.status();
    EXPECT_THAT(std::string(wal.status().message()), HasSubstr(format::SegmentName(UINT64_MAX)));
  });
}

}  // namespace
}  // namespace faultline::wal::testing
