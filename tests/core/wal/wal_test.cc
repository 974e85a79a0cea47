// Tests for core/wal/wal: append and read back, group commit, fail-stop after
// EIO, rotation and release, the flush interval, and every bad input.
#include "core/wal/wal.h"

#include <cstdio>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/io/errors.h"
#include "core/runtime/future.h"
#include "core/runtime/spawn.h"
#include "tests/core/wal/wal_test_util.h"

namespace faultline::wal::testing {
namespace {

using ::testing::HasSubstr;

TEST(Wal, AppendFlushReadBackAndReopen) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    ASSERT_TRUE(wal.ok()) << wal.status();
    EXPECT_TRUE((*wal)->recovery().created_segment);
    EXPECT_EQ((*wal)->durable_sequence(), 0u);
    for (uint64_t i = 1; i <= 10; ++i) {
      auto appended = (*wal)->Append(PayloadFor(i, 10 + i));
      ASSERT_TRUE(appended.ok()) << appended.status();
      EXPECT_EQ(appended->first_sequence, i);
      EXPECT_EQ(appended->last_sequence, i);
    }
    ASSERT_TRUE((*wal)->Flush().ok());
    EXPECT_EQ((*wal)->durable_sequence(), 10u);
    std::vector<Record> records = ReadAll(**wal, 1);
    ASSERT_EQ(records.size(), 10u);
    for (uint64_t i = 1; i <= 10; ++i) {
      EXPECT_EQ(records[i - 1].sequence, i);
      EXPECT_EQ(records[i - 1].payload, PayloadFor(i, 10 + i));
    }
    EXPECT_EQ(ReadAll(**wal, 7).size(), 4u);
    EXPECT_EQ(ReadAll(**wal, 11).size(), 0u);
    ASSERT_TRUE((*wal)->Close().ok());

    auto reopened = Wal::Open(fs, s, kDir, SmallOptions());
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ((*reopened)->recovery().records, 10u);
    EXPECT_EQ((*reopened)->recovery().truncated_bytes, 0u);
    EXPECT_EQ((*reopened)->durable_sequence(), 10u);
    auto next = (*reopened)->Append("after reopen");
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(next->first_sequence, 11u);
    EXPECT_EQ(next->durable.Get().value(), 11u);
    EXPECT_EQ(ReadAll(**reopened, 1).size(), 11u);
    EXPECT_TRUE((*reopened)->Close().ok());
  });
}

TEST(Wal, AppendBatchGetsConsecutiveSequencesAndOneFuture) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    ASSERT_TRUE(wal.ok());
    std::vector<std::string_view> payloads = {"a", "bb", "ccc"};
    auto appended = (*wal)->AppendBatch(payloads);
    ASSERT_TRUE(appended.ok());
    EXPECT_EQ(appended->first_sequence, 1u);
    EXPECT_EQ(appended->last_sequence, 3u);
    EXPECT_EQ(appended->durable.Get().value(), 3u);
    EXPECT_EQ((*wal)->durable_sequence(), 3u);
    std::vector<Record> records = ReadAll(**wal, 2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].payload, "bb");
    EXPECT_TRUE((*wal)->Close().ok());
  });
}

// Futures complete in sequence order: whenever one is ready, all before it are.
TEST(Wal, GroupCommitCompletesFuturesInSequenceOrder) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    fs.set_sync_latency_ns(s, 200 * io::kNanosPerMicro);
    WalOptions options = SmallOptions();
    options.max_batch_records = 7;  // several batches
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok());
    std::vector<runtime::Future<uint64_t>> futures;
    for (uint64_t i = 1; i <= 100; ++i) {
      auto appended = (*wal)->Append(PayloadFor(i, 20));
      ASSERT_TRUE(appended.ok());
      futures.push_back(appended->durable);
    }
    for (size_t i = 0; i < futures.size(); ++i) {
      const absl::StatusOr<uint64_t>& result = futures[i].Get();
      ASSERT_TRUE(result.ok());
      EXPECT_EQ(*result, i + 1);
      bool ready_prefix = true;
      for (size_t j = 0; j < futures.size(); ++j) {
        if (futures[j].ready() && !ready_prefix) ADD_FAILURE() << "future " << j << " ready early";
        ready_prefix = ready_prefix && futures[j].ready();
      }
      EXPECT_GE((*wal)->durable_sequence(), i + 1);
    }
    EXPECT_GE((*wal)->stats().batches, 100u / 7);
    EXPECT_TRUE((*wal)->Close().ok());
  });
}

TEST(Wal, SixtyFourAppendersShareSyncs) {
  for (uint64_t seed : {1, 2, 3}) {
    FakeFileSystem fs;
    uint64_t acknowledged = 0;
    WalStats stats;
    RunInSim(
        [&](sim::Scheduler& s) {
          fs.set_sync_latency_ns(s, 500 * io::kNanosPerMicro);
          auto opened = Wal::Open(fs, s, kDir, SmallOptions());
          ASSERT_TRUE(opened.ok());
          Wal& wal = **opened;
          std::vector<runtime::JoinHandle> appenders;
          for (int a = 0; a < 64; ++a) {
            appenders.push_back(runtime::Spawn(s, "appender", [&, a] {
              for (int i = 0; i < 8; ++i) {
                auto appended = wal.Append(PayloadFor(static_cast<uint64_t>(a * 100 + i), 32));
                ASSERT_TRUE(appended.ok());
                const absl::StatusOr<uint64_t>& durable = appended->durable.Get();
                ASSERT_TRUE(durable.ok()) << durable.status();
                EXPECT_EQ(*durable, appended->last_sequence);
                EXPECT_GE(wal.durable_sequence(), *durable);
                ++acknowledged;
              }
            }));
          }
          for (auto& appender : appenders) appender.Join();
          stats = wal.stats();
          EXPECT_EQ(wal.durable_sequence(), 64u * 8);
          EXPECT_EQ(ReadAll(wal, 1).size(), 64u * 8);
          EXPECT_TRUE(wal.Close().ok());
        },
        seed);
    std::printf("[ info     ] seed %llu: 64 appenders, %llu records in %llu batches (%llu file syncs)\n",
                static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(stats.records_written),
                static_cast<unsigned long long>(stats.batches),
                static_cast<unsigned long long>(stats.file_syncs));
    EXPECT_EQ(acknowledged, 64u * 8);
    EXPECT_EQ(stats.records_written, 64u * 8);
    // Every appender waits for durability before its next append, so a batch
    // holds at most 64 records; with syncs slower than appends, most do.
    EXPECT_LE(stats.batches, 64u * 8 / 8) << "seed " << seed;
    EXPECT_LT(stats.file_syncs, 64u * 8 / 4) << "seed " << seed;
  }
}

TEST(Wal, FlushIntervalHoldsABatchOpenUntilItPasses) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WalOptions options = SmallOptions();
    options.flush_interval_ns = 5 * io::kNanosPerMilli;
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok());
    const int64_t start_ns = s.NowNs();
    auto first = (*wal)->Append("one");
    s.SleepFor(io::kNanosPerMilli);
    auto second = (*wal)->Append("two");
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_TRUE(second->durable.Get().ok());
    EXPECT_GE(s.NowNs() - start_ns, options.flush_interval_ns);
    EXPECT_EQ((*wal)->stats().batches, 1u);  // both waited for the same batch
    // Flush() does not wait for the interval.
    const int64_t before_ns = s.NowNs();
    ASSERT_TRUE((*wal)->Append("three").ok());
    ASSERT_TRUE((*wal)->Flush().ok());
    EXPECT_LT(s.NowNs() - before_ns, options.flush_interval_ns);
    EXPECT_EQ((*wal)->durable_sequence(), 3u);
    EXPECT_TRUE((*wal)->Close().ok());
  });
}

TEST(Wal, AFullQueueIsFlushedWithoutWaitingForTheInterval) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WalOptions options = SmallOptions();
    options.max_queued_records = 3;
    options.max_batch_records = 100;
    options.flush_interval_ns = io::kNanosPerSecond;
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok());
    const int64_t start_ns = s.NowNs();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*wal)->Append("x").ok());
    auto fourth = (*wal)->Append("x");  // waits for space: the flusher must not idle
    ASSERT_TRUE(fourth.ok());
    ASSERT_TRUE((*wal)->Flush().ok());
    EXPECT_LT(s.NowNs() - start_ns, options.flush_interval_ns);
    EXPECT_EQ((*wal)->durable_sequence(), 4u);
    EXPECT_TRUE((*wal)->Close().ok());
  });
}

TEST(Wal, BackPressureBoundsTheQueue) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    fs.set_sync_latency_ns(s, io::kNanosPerMilli);
    WalOptions options = SmallOptions();
    options.max_queued_records = 4;
    options.max_batch_records = 2;
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok());
    runtime::Future<uint64_t> last;
    for (int i = 0; i < 40; ++i) {
      auto appended = (*wal)->Append("x");
      ASSERT_TRUE(appended.ok());
      // Never more than the queue bound ahead of the durable point, plus one
      // batch being written.
      EXPECT_LE((*wal)->last_sequence() - (*wal)->durable_sequence(), 4u + 2u);
      last = appended->durable;
    }
    EXPECT_EQ(last.Get().value(), 40u);
    auto too_many = (*wal)->AppendBatch(std::vector<std::string_view>(5, "y"));
    EXPECT_TRUE(absl::IsInvalidArgument(too_many.status())) << too_many.status();
    EXPECT_TRUE((*wal)->Close().ok());
  });
}

// Flush waits for everything queued before it, however many batches that
// takes, for every fiber that calls it; a failure on the way is what it
// returns.
TEST(Wal, FlushWaitsForEveryEarlierRecordAndReportsTheFailure) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    fs.set_sync_latency_ns(s, 100 * io::kNanosPerMicro);
    WalOptions options = SmallOptions();
    options.max_batch_records = 3;  // 10 records: four batches
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok());
    for (uint64_t i = 1; i <= 10; ++i) ASSERT_TRUE((*wal)->Append(PayloadFor(i, 50)).ok());
    std::vector<absl::Status> flushed(3);
    std::vector<runtime::JoinHandle> flushers;
    for (size_t f = 0; f < flushed.size(); ++f) {
      flushers.push_back(runtime::Spawn(s, "flusher", [&, f] { flushed[f] = (*wal)->Flush(); }));
    }
    for (auto& flusher : flushers) flusher.Join();
    for (const absl::Status& status : flushed) EXPECT_TRUE(status.ok()) << status;
    EXPECT_EQ((*wal)->durable_sequence(), 10u);
    EXPECT_EQ((*wal)->stats().batches, 4u);
    EXPECT_EQ(ReadAll(**wal, 1).size(), 10u);

    // The second of the next batches fails: Flush reports that failure.
    for (uint64_t i = 11; i <= 16; ++i) ASSERT_TRUE((*wal)->Append(PayloadFor(i, 50)).ok());
    fs.FailSyncAfter(2);
    const absl::Status status = (*wal)->Flush();
    EXPECT_TRUE(io::IsIoError(status)) << status;
    EXPECT_EQ((*wal)->durable_sequence(), 13u);
    EXPECT_TRUE(io::IsIoError((*wal)->Close()));
  });
}

// A rotation splits the batch that reaches the segment's end in two. The
// appenders of the two halves must not stay out of step, taking turns with
// half-size batches for good: the flusher lets every runnable appender
// queue its record before it takes a batch. (FIFO order, as in production.)
TEST(Wal, GroupCommitRejoinsAfterARotationSplitsABatch) {
  constexpr int kAppenders = 16;
  constexpr int kRecordsEach = 200;
  constexpr size_t kPayloadBytes = 100;
  const uint64_t frame_bytes = format::FrameBytes(kPayloadBytes);
  FakeFileSystem fs;
  RunInSim(
      [&](sim::Scheduler& s) {
        fs.set_sync_latency_ns(s, 100 * io::kNanosPerMicro);
        WalOptions options = SmallOptions();
        // 40 full batches, then room for 5 more records: the 41st batch splits.
        options.segment_size_bytes =
            format::kSegmentHeaderBytes + (40 * kAppenders + 5) * frame_bytes;
        auto wal = Wal::Open(fs, s, kDir, options);
        ASSERT_TRUE(wal.ok());
        std::vector<runtime::JoinHandle> appenders;
        for (int a = 0; a < kAppenders; ++a) {
          appenders.push_back(runtime::Spawn(s, "appender", [&, a] {
            for (int i = 0; i < kRecordsEach; ++i) {
              auto appended = (*wal)->Append(PayloadFor(static_cast<uint64_t>(a), kPayloadBytes));
              ASSERT_TRUE(appended.ok());
              ASSERT_TRUE(appended->durable.Get().ok());
            }
          }));
        }
        for (auto& appender : appenders) appender.Join();
        const WalStats stats = (*wal)->stats();
        EXPECT_GE(stats.rotations, 4u);
        // Per segment: 40 full batches and one split in two. Out of step,
        // every batch after the first split would be 5 or 11 records.
        const double records_per_batch =
            static_cast<double>(stats.records_written) / static_cast<double>(stats.batches);
        EXPECT_GE(records_per_batch, 14.0) << stats.batches << " batches";
        EXPECT_TRUE((*wal)->Close().ok());
      },
      /*seed=*/1, /*fifo=*/true);
}

TEST(Wal, FailStopAfterSyncError) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    fs.set_sync_latency_ns(s, 100 * io::kNanosPerMicro);
    WalOptions options = SmallOptions();
    options.max_batch_records = 2;
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->Append("durable one").ok());
    ASSERT_TRUE((*wal)->Flush().ok());
    fs.FailSyncAfter(1);
    std::vector<runtime::Future<uint64_t>> futures;
    for (int i = 0; i < 6; ++i) {
      auto appended = (*wal)->Append("doomed");
      ASSERT_TRUE(appended.ok());
      futures.push_back(appended->durable);
    }
    for (auto& future : futures) {
      const absl::StatusOr<uint64_t>& result = future.Get();
      EXPECT_FALSE(result.ok());
      EXPECT_TRUE(io::IsIoError(result.status())) << result.status();
    }
    EXPECT_EQ((*wal)->durable_sequence(), 1u);  // nothing acknowledged after EIO
    EXPECT_TRUE(io::IsIoError((*wal)->health()));
    auto later = (*wal)->Append("later");
    EXPECT_TRUE(absl::IsFailedPrecondition(later.status())) << later.status();
    EXPECT_THAT(std::string(later.status().message()), HasSubstr("reopen"));
    EXPECT_FALSE((*wal)->Flush().ok());
    EXPECT_FALSE((*wal)->Release(100).ok());
    EXPECT_TRUE(io::IsIoError((*wal)->Close()));

    // The owner reopens: the durable record is there, the failed ones are not
    // (the writer cut them back), and appends work again.
    auto reopened = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ((*reopened)->durable_sequence(), 1u);
    std::vector<Record> records = ReadAll(**reopened, 1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].payload, "durable one");
    auto again = (*reopened)->Append("again");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->durable.Get().value(), 2u);
    EXPECT_TRUE((*reopened)->Close().ok());
  });
}

TEST(Wal, FailStopAfterWriteError) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    ASSERT_TRUE(wal.ok());
    fs.FailWriteAfter(1);
    auto appended = (*wal)->Append("doomed");
    ASSERT_TRUE(appended.ok());
    EXPECT_TRUE(io::IsIoError(appended->durable.Get().status()));
    EXPECT_EQ((*wal)->durable_sequence(), 0u);
    EXPECT_TRUE(absl::IsFailedPrecondition((*wal)->Append("later").status()));
    EXPECT_FALSE((*wal)->Close().ok());
  });
}

TEST(Wal, RotationKeepsSegmentsSmallAndReaderCrossesThem) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WalOptions options = SmallOptions();
    options.segment_size_bytes = 200;  // header 32 + 2 frames of 64
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok());
    const uint64_t dir_syncs_before = fs.dir_sync_calls();
    for (uint64_t i = 1; i <= 50; ++i) {
      auto appended = (*wal)->Append(PayloadFor(i, 40));
      ASSERT_TRUE(appended.ok());
      if (i % 3 == 0) {
        ASSERT_TRUE(appended->durable.Get().ok());
      }
    }
    ASSERT_TRUE((*wal)->Flush().ok());
    const WalStats stats = (*wal)->stats();
    EXPECT_GE(stats.rotations, 20u);
    // Every new segment's directory entry was synced.
    EXPECT_GE(fs.dir_sync_calls() - dir_syncs_before, stats.rotations);
    std::vector<std::string> files = fs.Files();
    EXPECT_EQ(files.size(), stats.rotations + 1);
    for (const std::string& file : files) EXPECT_LE(fs.Bytes(file).size(), 200u) << file;

    std::vector<Record> all = ReadAll(**wal, 1);
    ASSERT_EQ(all.size(), 50u);
    for (uint64_t i = 1; i <= 50; ++i) EXPECT_EQ(all[i - 1].payload, PayloadFor(i, 40));
    std::vector<Record> tail = ReadAll(**wal, 17);
    ASSERT_EQ(tail.size(), 34u);
    EXPECT_EQ(tail.front().sequence, 17u);

    // Release: segments wholly below 20 go, the one holding 20 stays.
    ASSERT_TRUE((*wal)->Release(20).ok());
    EXPECT_LE((*wal)->first_sequence(), 20u);
    EXPECT_GT((*wal)->first_sequence(), 17u);
    EXPECT_FALSE(fs.HasFile(SegmentPath(1)));
    EXPECT_TRUE(absl::IsNotFound((*wal)->NewReader(1).status()));
    const uint64_t first = (*wal)->first_sequence();
    EXPECT_EQ(ReadAll(**wal, first).size(), 51u - first);
    // Releasing everything keeps the segment being written.
    ASSERT_TRUE((*wal)->Release(1000).ok());
    EXPECT_EQ(fs.Files().size(), 1u);
    EXPECT_TRUE((*wal)->Close().ok());

    auto reopened = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ((*reopened)->durable_sequence(), 50u);
    const uint64_t kept_first = (*reopened)->first_sequence();
    EXPECT_EQ(ReadAll(**reopened, kept_first).size(), 51u - kept_first);
    EXPECT_TRUE((*reopened)->Close().ok());
  });
}

TEST(Wal, OversizeRecordGetsASegmentOfItsOwn) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WalOptions options = SmallOptions();
    options.segment_size_bytes = 100;
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->Append("small").ok());
    ASSERT_TRUE((*wal)->Append(std::string(500, 'L')).ok());
    ASSERT_TRUE((*wal)->Append("small again").ok());
    ASSERT_TRUE((*wal)->Flush().ok());
    std::vector<Record> records = ReadAll(**wal, 1);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[1].payload.size(), 500u);
    EXPECT_EQ(fs.Files().size(), 3u);
    EXPECT_TRUE((*wal)->Close().ok());
  });
}

TEST(Wal, BadInputsAreClearErrors) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WalOptions options = SmallOptions();
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok());
    EXPECT_TRUE(absl::IsInvalidArgument((*wal)->Append("").status()));
    auto oversize = (*wal)->Append(std::string(options.max_record_bytes + 1, 'x'));
    EXPECT_TRUE(absl::IsInvalidArgument(oversize.status()));
    EXPECT_THAT(std::string(oversize.status().message()), HasSubstr("max_record_bytes"));
    EXPECT_TRUE(absl::IsInvalidArgument((*wal)->AppendBatch({}).status()));
    std::vector<std::string_view> with_empty = {"a", ""};
    EXPECT_TRUE(absl::IsInvalidArgument((*wal)->AppendBatch(with_empty).status()));
    EXPECT_EQ((*wal)->last_sequence(), 0u);  // nothing was queued
    EXPECT_TRUE(absl::IsOutOfRange((*wal)->NewReader(5).status()));
    EXPECT_TRUE((*wal)->Close().ok());
    EXPECT_TRUE((*wal)->Close().ok());  // idempotent
    EXPECT_TRUE(absl::IsFailedPrecondition((*wal)->Append("late").status()));
    EXPECT_TRUE(absl::IsFailedPrecondition((*wal)->Flush()));
    EXPECT_TRUE(absl::IsFailedPrecondition((*wal)->NewReader(1).status()));

    WalOptions bad = options;
    bad.max_record_bytes = 0;
    EXPECT_TRUE(absl::IsInvalidArgument(Wal::Open(fs, s, kDir, bad).status()));
    bad = options;
    bad.segment_size_bytes = 10;
    EXPECT_TRUE(absl::IsInvalidArgument(Wal::Open(fs, s, kDir, bad).status()));
    bad = options;
    bad.max_queued_bytes = options.max_record_bytes - 1;
    EXPECT_TRUE(absl::IsInvalidArgument(Wal::Open(fs, s, kDir, bad).status()));
    EXPECT_TRUE(absl::IsInvalidArgument(Wal::Open(fs, s, "/abs", options).status()));
    EXPECT_TRUE(absl::IsInvalidArgument(Wal::Open(fs, s, "a/../b", options).status()));
  });
}

TEST(Wal, SequenceNumbersRunOutCleanly) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WalOptions options = SmallOptions();
    options.initial_sequence = UINT64_MAX - 1;
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    auto last = (*wal)->Append("the last one");
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(last->durable.Get().value(), UINT64_MAX - 1);
    EXPECT_TRUE(absl::IsOutOfRange((*wal)->Append("one too many").status()));
    EXPECT_TRUE((*wal)->Close().ok());
    auto reopened = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ((*reopened)->durable_sequence(), UINT64_MAX - 1);
    EXPECT_EQ(ReadAll(**reopened, UINT64_MAX - 1).size(), 1u);
    EXPECT_TRUE((*reopened)->Close().ok());
  });
}

TEST(Wal, ForeignFileInTheDirectoryIsRefused) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    ASSERT_TRUE(fs.CreateDir(kDir).ok());
    fs.SetBytes(std::string(kDir) + "/notes.txt", "hello");
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    EXPECT_TRUE(absl::IsFailedPrecondition(wal.status())) << wal.status();
    EXPECT_THAT(std::string(wal.status().message()), HasSubstr("notes.txt"));
  });
}

TEST(Wal, SegmentFromAFutureVersionIsRefused) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    ASSERT_TRUE(fs.CreateDir(kDir).ok());
    std::string header = format::EncodeSegmentHeader(1, 0);
    header[8] = 9;  // version 9
    fs.SetBytes(SegmentPath(1), header);
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    EXPECT_TRUE(absl::IsFailedPrecondition(wal.status())) << wal.status();
    EXPECT_THAT(std::string(wal.status().message()), HasSubstr("version 9"));
  });
}

TEST(Wal, DestroyedWithoutCloseCancelsPendingAndTheFlusherExits) {
  FakeFileSystem fs;
  runtime::Future<uint64_t> pending;
  RunInSim([&](sim::Scheduler& s) {
    fs.set_sync_latency_ns(s, io::kNanosPerMilli);
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->Append("in flight").ok());
    s.Yield();
    for (int i = 0; i < 5; ++i) {
      auto appended = (*wal)->Append("queued");
      ASSERT_TRUE(appended.ok());
      pending = appended->durable;
    }
    wal->reset();  // never parks; the run still completes (no fiber left behind)
  });
  ASSERT_TRUE(pending.ready());
  EXPECT_TRUE(absl::IsCancelled(pending.Get().status())) << pending.Get().status();
}

}  // namespace
}  // namespace faultline::wal::testing
