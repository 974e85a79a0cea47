// Tests for the Wal's lifecycle edges: options the recovery could not reopen,
// a Wal destroyed while its flusher is inside a rotation and the directory
// reopened at once (one Wal per directory; the old flusher acknowledges
// nothing after its abandonment), and Close() racing the destruction.
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/errors.h"
#include "core/runtime/future.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"
#include "tests/core/wal/steered_file_system.h"
#include "tests/core/wal/wal_test_util.h"

namespace faultline::wal::testing {
namespace {

constexpr size_t kPayloadBytes = 100;

// One record fills a segment: the next append rotates.
WalOptions OneRecordSegments() {
  WalOptions options = SmallOptions();
  options.segment_size_bytes = format::kSegmentHeaderBytes + format::FrameBytes(kPayloadBytes);
  return options;
}

// Yields until `done` holds (bounded).
bool YieldUntil(sim::Scheduler& s, const std::function<bool()>& done) {
  for (int i = 0; i < 1000 && !done(); ++i) s.Yield();
  return done();
}

TEST(WalLifecycle, SegmentSizeTheRecoveryCannotReadIsRefused) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WalOptions options = SmallOptions();
    options.segment_size_bytes = (2ull << 30);  // above what recovery reads back
    auto wal = Wal::Open(fs, s, kDir, options);
    EXPECT_TRUE(absl::IsInvalidArgument(wal.status())) << wal.status();
  });
}

TEST(WalLifecycle, SegmentCountTheRecoveryCannotReadIsRefused) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WalOptions options = SmallOptions();
    options.max_segments = static_cast<uint32_t>(format::kMaxSegments) + 1;
    EXPECT_TRUE(absl::IsInvalidArgument(Wal::Open(fs, s, kDir, options).status()));
    options.max_segments = 0;
    EXPECT_TRUE(absl::IsInvalidArgument(Wal::Open(fs, s, kDir, options).status()));
    options.max_segments = 1;  // Release never frees the active segment: a full log forever
    EXPECT_TRUE(absl::IsInvalidArgument(Wal::Open(fs, s, kDir, options).status()));
  });
}

// The writer stops with ResourceExhausted rather than create a segment past
// the limit; every acknowledged record stays readable, and after a reopen
// and a Release the log goes on.
TEST(WalLifecycle, TheWriterRefusesASegmentPastTheCountLimit) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WalOptions options = OneRecordSegments();
    options.max_segments = 3;
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    for (uint64_t i = 1; i <= 3; ++i) {
      auto appended = (*wal)->Append(PayloadFor(i, kPayloadBytes));
      ASSERT_TRUE(appended.ok());
      ASSERT_EQ(appended->durable.Get().value(), i);
    }
    auto refused = (*wal)->Append(PayloadFor(4, kPayloadBytes));
    ASSERT_TRUE(refused.ok());
    EXPECT_TRUE(absl::IsResourceExhausted(refused->durable.Get().status()))
        << refused->durable.Get().status();
    EXPECT_TRUE(absl::IsResourceExhausted((*wal)->Close()));
    wal->reset();

    auto reopened = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ(ReadAll(**reopened, 1).size(), 3u);
    ASSERT_TRUE((*reopened)->Release(3).ok());
    auto appended = (*reopened)->Append(PayloadFor(4, kPayloadBytes));
    ASSERT_TRUE(appended.ok());
    EXPECT_EQ(appended->durable.Get().value(), 4u);
    EXPECT_TRUE((*reopened)->Close().ok());
  });
}

// The old Wal's flusher is parked in the directory sync of a rotation when
// the Wal is destroyed and the directory reopened. Whatever each side
// acknowledges must be what the log holds: one payload per sequence.
TEST(WalLifecycle, OneWalPerDirectoryAndNoAcknowledgementAfterAbandonment) {
  FakeFileSystem base;
  std::vector<std::pair<uint64_t, std::string>> acked;  // sequence, payload
  RunInSim([&](sim::Scheduler& s) {
    SteeredFileSystem fs(base, s);
    const WalOptions options = OneRecordSegments();
    auto old_wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(old_wal.ok()) << old_wal.status();
    auto first = (*old_wal)->Append(PayloadFor(1, kPayloadBytes));
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first->durable.Get().value(), 1u);
    acked.emplace_back(1, PayloadFor(1, kPayloadBytes));
    fs.ParkNextSyncDir(kDir);
    auto old_second = (*old_wal)->Append(PayloadFor(2, kPayloadBytes));  // rotates, parks
    ASSERT_TRUE(old_second.ok());
    ASSERT_TRUE(YieldUntil(s, [&] { return fs.parked(); }));
    old_wal->reset();  // destroyed while its flusher is parked

    auto new_wal = Wal::Open(fs, s, kDir, options);
    if (new_wal.ok()) {
      auto appended = (*new_wal)->Append(std::string(kPayloadBytes, 'N'));
      ASSERT_TRUE(appended.ok());
      const absl::StatusOr<uint64_t>& durable = appended->durable.Get();
      if (durable.ok()) acked.emplace_back(*durable, std::string(kPayloadBytes, 'N'));
      ASSERT_TRUE((*new_wal)->Close().ok());
    } else {
      EXPECT_TRUE(absl::IsFailedPrecondition(new_wal.status())) << new_wal.status();
    }
    fs.Release();
    const absl::StatusOr<uint64_t>& old_durable = old_second->durable.Get();
    if (old_durable.ok()) {
      acked.emplace_back(*old_durable, PayloadFor(2, kPayloadBytes));
    } else {
      EXPECT_TRUE(absl::IsCancelled(old_durable.status())) << old_durable.status();
    }

    // Once the old flusher has gone, the directory opens again.
    auto last = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(last.ok()) << last.status();
    const std::vector<Record> records = ReadAll(**last, 1);
    for (const auto& [sequence, payload] : acked) {
      ASSERT_GE(records.size(), sequence) << "acknowledged record " << sequence << " is gone";
      EXPECT_EQ(records[sequence - 1].payload, payload)
          << "acknowledged record " << sequence << " was overwritten";
    }
    EXPECT_TRUE((*last)->Close().ok());
  });
}

// A fiber waits in Close() while the Wal is destroyed under it: the records
// it was flushing are cancelled, and Close says so.
TEST(WalLifecycle, CloseReportsCancelledWhenTheWalIsDestroyedUnderIt) {
  FakeFileSystem base;
  absl::Status close_status;
  runtime::Future<uint64_t> queued;
  RunInSim([&](sim::Scheduler& s) {
    SteeredFileSystem fs(base, s);
    auto wal = Wal::Open(fs, s, kDir, OneRecordSegments());
    ASSERT_TRUE(wal.ok()) << wal.status();
    auto first = (*wal)->Append(PayloadFor(1, kPayloadBytes));
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first->durable.Get().value(), 1u);
    fs.ParkNextSyncDir(kDir);
    ASSERT_TRUE((*wal)->Append(PayloadFor(2, kPayloadBytes)).ok());  // rotates, parks
    ASSERT_TRUE(YieldUntil(s, [&] { return fs.parked(); }));
    auto third = (*wal)->Append(PayloadFor(3, kPayloadBytes));  // queued behind it
    ASSERT_TRUE(third.ok());
    queued = third->durable;
    Wal* raw = wal->get();
    bool close_called = false;
    runtime::JoinHandle closer = runtime::Spawn(s, "closer", [&] {
      close_called = true;
      close_status = raw->Close();  // parks until the flusher exits
    });
    ASSERT_TRUE(YieldUntil(s, [&] { return close_called; }));
    wal->reset();
    fs.Release();
    closer.Join();
  });
  ASSERT_TRUE(queued.ready());
  EXPECT_TRUE(absl::IsCancelled(queued.Get().status())) << queued.Get().status();
  EXPECT_TRUE(absl::IsCancelled(close_status)) << close_status;
}

// Close() returns only once nothing of the Wal touches the directory any
// more: a Release in flight (parked in its directory sync) is waited for, so
// that the directory opens again as soon as Close has returned.
TEST(WalLifecycle, CloseWaitsForAReleaseInFlightAndTheDirectoryOpensAgain) {
  FakeFileSystem base;
  RunInSim([&](sim::Scheduler& s) {
    SteeredFileSystem fs(base, s);
    const WalOptions options = OneRecordSegments();
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    for (uint64_t n = 1; n <= 3; ++n) {  // three segments
      auto appended = (*wal)->Append(PayloadFor(n, kPayloadBytes));
      ASSERT_TRUE(appended.ok());
      ASSERT_TRUE(appended->durable.Get().ok());
    }
    fs.ParkNextSyncDir(kDir);
    absl::Status released;
    runtime::JoinHandle releaser =
        runtime::Spawn(s, "releaser", [&] { released = (*wal)->Release(3); });
    ASSERT_TRUE(YieldUntil(s, [&] { return fs.parked(); }));
    bool closed = false;
    runtime::JoinHandle closer = runtime::Spawn(s, "closer", [&] {
      EXPECT_TRUE((*wal)->Close().ok());
      closed = true;
      // The owner reopens as soon as Close has returned.
      auto reopened = Wal::Open(fs, s, kDir, options);
      ASSERT_TRUE(reopened.ok()) << reopened.status();
      EXPECT_EQ((*reopened)->first_sequence(), 3u);
      EXPECT_TRUE((*reopened)->Close().ok());
    });
    for (int i = 0; i < 100; ++i) s.Yield();
    EXPECT_FALSE(closed) << "Close returned while a Release was still removing segments";
    fs.Release();
    closer.Join();
    releaser.Join();
    EXPECT_TRUE(released.ok()) << released;
  });
}

}  // namespace
}  // namespace faultline::wal::testing
