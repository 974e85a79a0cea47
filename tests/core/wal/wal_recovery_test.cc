// Recovery tests for core/wal/wal: a log cut at any byte offset recovers to
// exactly a prefix (RapidCheck), zero and garbage tails are dropped, torn
// unsynced batches are a tail, corruption of acknowledged data is DataLoss
// with the segment and offset, recovery is idempotent, and random crashes
// never lose an acknowledged record.
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/io/errors.h"
#include "core/runtime/spawn.h"
#include "core/wal/format.h"
#include "core/wal/wal.h"
#include "tests/core/wal/wal_test_util.h"

namespace faultline::wal::testing {
namespace {

using ::testing::HasSubstr;

// Writes `payloads` one batch each (so every frame's watermark covers the
// one before it) and closes the Wal.
void WriteLog(FakeFileSystem& fs, sim::Scheduler& s, const WalOptions& options,
              const std::vector<std::string>& payloads) {
  auto wal = Wal::Open(fs, s, kDir, options);
  ASSERT_TRUE(wal.ok()) << wal.status();
  for (const std::string& payload : payloads) {
    auto appended = (*wal)->Append(payload);
    ASSERT_TRUE(appended.ok());
    ASSERT_TRUE(appended->durable.Get().ok());
  }
  ASSERT_TRUE((*wal)->Close().ok());
}

// Opens, reads everything, closes; the status of the first failure.
absl::Status RecoverAll(FakeFileSystem& fs, sim::Scheduler& s, const WalOptions& options,
                        std::vector<Record>* records, RecoveryInfo* info = nullptr) {
  auto wal = Wal::Open(fs, s, kDir, options);
  if (!wal.ok()) return wal.status();
  if (info != nullptr) *info = (*wal)->recovery();
  *records = ReadAll(**wal, (*wal)->first_sequence());
  return (*wal)->Close();
}

std::string PayloadsToString(const std::vector<Record>& records) {
  std::string out;
  for (const Record& r : records) out += std::to_string(r.sequence) + ":" + r.payload + " ";
  return out;
}

RC_GTEST_PROP(WalRecovery, CutAtEveryOffsetRecoversExactlyAPrefix, ()) {
  const auto sizes = *rc::gen::container<std::vector<size_t>>(
      *rc::gen::inRange<size_t>(1, 10), rc::gen::inRange<size_t>(1, 80));
  const uint64_t segment_size_bytes = *rc::gen::element<uint64_t>(120, 250, 1 << 16);
  std::vector<std::string> payloads;
  for (size_t i = 0; i < sizes.size(); ++i) payloads.push_back(PayloadFor(i + 1, sizes[i]));
  WalOptions options = SmallOptions();
  options.segment_size_bytes = segment_size_bytes;

  std::vector<std::string> failures;
  RunInSim([&](sim::Scheduler& s) {
    FakeFileSystem original;
    WriteLog(original, s, options, payloads);
    // The log as (path, bytes) in sequence order.
    std::vector<std::pair<std::string, std::string>> segments;
    for (const std::string& path : original.Files()) segments.emplace_back(path, original.Bytes(path));

    for (size_t seg = 0; seg < segments.size(); ++seg) {
      const uint64_t seg_first = *format::ParseSegmentName(segments[seg].first.substr(4));
      for (size_t cut = 0; cut <= segments[seg].second.size(); ++cut) {
        if (cut == segments[seg].second.size() && seg + 1 < segments.size()) continue;
        FakeFileSystem fs;
        EXPECT_TRUE(fs.CreateDir(kDir).ok());
        for (size_t k = 0; k < seg; ++k) fs.SetBytes(segments[k].first, segments[k].second);
        fs.SetBytes(segments[seg].first, segments[seg].second.substr(0, cut));
        // Expected: every record of earlier segments, and those of this one
        // whose frame ends at or before the cut.
        uint64_t expected = seg_first - 1;
        uint64_t offset = format::kSegmentHeaderBytes;
        for (uint64_t seq = seg_first; seq <= payloads.size(); ++seq) {
          offset += format::FrameBytes(payloads[seq - 1].size());
          if (offset > cut) break;
          expected = seq;
        }
        std::vector<Record> records;
        const absl::Status status = RecoverAll(fs, s, options, &records);
        std::string where = "segment " + std::to_string(seg) + " cut " + std::to_string(cut);
        if (!status.ok()) {
          failures.push_back(where + ": " + status.ToString());
          continue;
        }
        bool prefix = records.size() == expected;
        for (size_t i = 0; prefix && i < records.size(); ++i) {
          prefix = records[i].sequence == i + 1 && records[i].payload == payloads[i];
        }
        if (!prefix) {
          failures.push_back(where + ": want " + std::to_string(expected) + " got " +
                             PayloadsToString(records));
          continue;
        }
        // Idempotent, and the next append continues the prefix durably.
        auto wal = Wal::Open(fs, s, kDir, options);
        if (!wal.ok() || (*wal)->recovery().truncated_bytes != 0 ||
            (*wal)->recovery().removed_empty_segments != 0) {
          failures.push_back(where + ": second recovery repaired again or failed");
          continue;
        }
        auto appended = (*wal)->Append("next");
        if (!appended.ok() || appended->first_sequence != expected + 1 ||
            !appended->durable.Get().ok()) {
          failures.push_back(where + ": append after recovery");
        }
        (void)(*wal)->Close();
        if (failures.size() > 5) return;
      }
    }
  });
  RC_ASSERT(failures.empty());
}

TEST(WalRecovery, ZeroOrGarbageTailIsTruncatedDurably) {
  for (const bool zeros : {true, false}) {
    FakeFileSystem fs;
    RunInSim([&](sim::Scheduler& s) {
      WriteLog(fs, s, SmallOptions(), {"one", "two", "three"});
      std::string tail = zeros ? std::string(700, '\0') : std::string();
      for (int i = 0; !zeros && i < 700; ++i) tail.push_back(static_cast<char>((i * 131 + 7) % 251));
      fs.SetBytes(SegmentPath(1), fs.Bytes(SegmentPath(1)) + tail);
      const size_t good_size = fs.Bytes(SegmentPath(1)).size() - tail.size();
      std::vector<Record> records;
      RecoveryInfo info;
      ASSERT_TRUE(RecoverAll(fs, s, SmallOptions(), &records, &info).ok());
      EXPECT_EQ(records.size(), 3u);
      EXPECT_EQ(info.truncated_bytes, 700u);
      // The truncation was synced before Open returned: a crash now keeps it.
      fs.Crash();
      EXPECT_EQ(fs.Bytes(SegmentPath(1)).size(), good_size);
    });
  }
}

TEST(WalRecovery, TruncationIsSyncedBeforeTheFirstNewAppend) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WriteLog(fs, s, SmallOptions(), {"one", "two"});
    const std::string good = fs.Bytes(SegmentPath(1));
    fs.SetBytes(SegmentPath(1), good + std::string(100, '\xAB'));
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    ASSERT_TRUE(wal.ok());
    // Crash before any append: the durable image is already the cut one.
    fs.Crash();
    EXPECT_EQ(fs.Bytes(SegmentPath(1)), good);
  });
}

TEST(WalRecovery, BitFlipInTheMiddleIsDataLoss) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WriteLog(fs, s, SmallOptions(), {"first record", "second record", "third record"});
    std::string& bytes = fs.Bytes(SegmentPath(1));
    const size_t second_offset = format::kSegmentHeaderBytes + format::FrameBytes(12);
    bytes[second_offset + format::kFrameHeaderBytes + 3] ^= 0x10;  // in "second record"
    std::vector<Record> records;
    const absl::Status status = RecoverAll(fs, s, SmallOptions(), &records);
    EXPECT_TRUE(absl::IsDataLoss(status)) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(format::SegmentName(1)));
    EXPECT_THAT(std::string(status.message()), HasSubstr("offset " + std::to_string(second_offset)));
    // Nothing was repaired: the corrupt file is left for a human.
    EXPECT_EQ(fs.Bytes(SegmentPath(1)).size(), second_offset + format::FrameBytes(13) +
                                                    format::FrameBytes(12));
  });
}

TEST(WalRecovery, TornRecordInsideAnUnsyncedBatchIsATornTail) {
  // A crash tore the first record of a batch that was never synced and kept
  // the later ones: they were written before the torn one was durable, so
  // none of them was acknowledged, and the whole stretch is a torn tail.
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WriteLog(fs, s, SmallOptions(), {"acked"});
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    ASSERT_TRUE(wal.ok());
    std::vector<std::string_view> batch = {"b1", "b2", "b3"};
    auto appended = (*wal)->AppendBatch(batch);
    ASSERT_TRUE(appended.ok() && appended->durable.Get().ok());
    ASSERT_TRUE((*wal)->Close().ok());
    std::string& bytes = fs.Bytes(SegmentPath(1));
    const size_t b1_offset = format::kSegmentHeaderBytes + format::FrameBytes(5);
    bytes[b1_offset + format::kFrameHeaderBytes] ^= 0x01;
    std::vector<Record> records;
    RecoveryInfo info;
    ASSERT_TRUE(RecoverAll(fs, s, SmallOptions(), &records, &info).ok());
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].payload, "acked");
    EXPECT_EQ(info.truncated_bytes, 3 * format::FrameBytes(2));
  });
}

TEST(WalRecovery, CorruptionInAnOlderSegmentOrItsHeaderIsDataLoss) {
  WalOptions options = SmallOptions();
  options.segment_size_bytes = 120;  // one 24-byte payload per segment
  std::vector<std::string> payloads;
  for (int i = 1; i <= 8; ++i) payloads.push_back(PayloadFor(static_cast<uint64_t>(i), 24));
  for (const size_t flip_at : {size_t{5}, format::kSegmentHeaderBytes + 30}) {
    FakeFileSystem fs;
    RunInSim([&](sim::Scheduler& s) {
      WriteLog(fs, s, options, payloads);
      ASSERT_GE(fs.Files().size(), 3u);
      fs.Bytes(SegmentPath(3))[flip_at] ^= 0x04;
      std::vector<Record> records;
      const absl::Status status = RecoverAll(fs, s, options, &records);
      EXPECT_TRUE(absl::IsDataLoss(status)) << status;
      EXPECT_THAT(std::string(status.message()), HasSubstr(format::SegmentName(3)));
    });
  }
}

TEST(WalRecovery, MissingSegmentIsDataLoss) {
  WalOptions options = SmallOptions();
  options.segment_size_bytes = 120;
  std::vector<std::string> payloads;
  for (int i = 1; i <= 8; ++i) payloads.push_back(PayloadFor(static_cast<uint64_t>(i), 24));
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WriteLog(fs, s, options, payloads);
    ASSERT_TRUE(fs.Remove(SegmentPath(3)).ok());
    std::vector<Record> records;
    const absl::Status status = RecoverAll(fs, s, options, &records);
    EXPECT_TRUE(absl::IsDataLoss(status)) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr("missing"));
  });
}

// A segment in the middle cut to less than a header reads like the
// leftover of an interrupted creation, but the log then has a gap: Open
// refuses with DataLoss and leaves every file as it found it, the cut one
// included (an operator repairs the log from what is there).
TEST(WalRecovery, RefusedOpenRemovesNoLeftover) {
  WalOptions options = SmallOptions();
  options.segment_size_bytes = 120;  // one 24-byte payload per segment
  std::vector<std::string> payloads;
  for (int i = 1; i <= 6; ++i) payloads.push_back(PayloadFor(static_cast<uint64_t>(i), 24));
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WriteLog(fs, s, options, payloads);
    ASSERT_TRUE(fs.HasFile(SegmentPath(4)));
    fs.SetBytes(SegmentPath(3), fs.Bytes(SegmentPath(3)).substr(0, 11));
    const std::vector<std::string> files = fs.Files();
    std::vector<Record> records;
    const absl::Status status = RecoverAll(fs, s, options, &records);
    EXPECT_TRUE(absl::IsDataLoss(status)) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(format::SegmentName(4)));
    EXPECT_EQ(fs.Files(), files);
    ASSERT_TRUE(fs.HasFile(SegmentPath(3)));
    EXPECT_EQ(fs.Bytes(SegmentPath(3)).size(), 11u);
  });
}

// The newest segment holding records has a damaged last record, which
// alone would be a torn tail; but a header-only segment after it starts
// past it, so the log has a gap: Open refuses with DataLoss and has not cut
// the damaged segment first.
TEST(WalRecovery, RefusedOpenCutsNoTornTail) {
  WalOptions options = SmallOptions();
  options.segment_size_bytes = 120;  // one 24-byte payload per segment
  std::vector<std::string> payloads;
  for (int i = 1; i <= 3; ++i) payloads.push_back(PayloadFor(static_cast<uint64_t>(i), 24));
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WriteLog(fs, s, options, payloads);
    fs.SetBytes(SegmentPath(4), format::EncodeSegmentHeader(4, 0));
    fs.Bytes(SegmentPath(3))[format::kSegmentHeaderBytes + 30] ^= 0x04;
    const std::string damaged = fs.Bytes(SegmentPath(3));
    std::vector<Record> records;
    const absl::Status status = RecoverAll(fs, s, options, &records);
    EXPECT_TRUE(absl::IsDataLoss(status)) << status;
    EXPECT_EQ(fs.Bytes(SegmentPath(3)), damaged);
  });
}

TEST(WalRecovery, HeaderThatDisagreesWithTheFileNameIsDataLoss) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    ASSERT_TRUE(fs.CreateDir(kDir).ok());
    fs.SetBytes(SegmentPath(1), format::EncodeSegmentHeader(2, 0));
    std::vector<Record> records;
    EXPECT_TRUE(absl::IsDataLoss(RecoverAll(fs, s, SmallOptions(), &records)));
  });
}

TEST(WalRecovery, TornNewSegmentIsRemovedAndTheLogContinues) {
  WalOptions options = SmallOptions();
  options.segment_size_bytes = 120;
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WriteLog(fs, s, options, {PayloadFor(1, 24), PayloadFor(2, 24)});
    // A crash during the creation of the next segment left half a header.
    fs.SetBytes(SegmentPath(3), format::EncodeSegmentHeader(3, 0).substr(0, 11));
    auto wal = Wal::Open(fs, s, kDir, options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    EXPECT_TRUE((*wal)->recovery().removed_empty_segments != 0);
    EXPECT_FALSE(fs.HasFile(SegmentPath(3)));
    auto appended = (*wal)->Append(PayloadFor(3, 24));
    ASSERT_TRUE(appended.ok());
    EXPECT_EQ(appended->durable.Get().value(), 3u);
    EXPECT_EQ(ReadAll(**wal, 1).size(), 3u);
    ASSERT_TRUE((*wal)->Close().ok());
    // A bad header with records after it is not a torn creation.
    std::string& bytes = fs.Bytes(SegmentPath(3));
    ASSERT_GT(bytes.size(), format::kSegmentHeaderBytes);
    bytes[0] = 'X';
    EXPECT_TRUE(absl::IsDataLoss(Wal::Open(fs, s, kDir, options).status()));
  });
}

// Leftovers of failed rotations (a header-only file the log went on
// without) are removed wherever they sort, and a torn tail in the last
// segment that holds records is still a torn tail when such a leftover sorts
// after it.
TEST(WalRecovery, LeftoversOfFailedRotationsAreRemoved) {
  WalOptions options = SmallOptions();
  options.segment_size_bytes = 128;  // header + two frames of 24-byte payloads
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    std::vector<std::string> payloads;
    for (int i = 1; i <= 4; ++i) payloads.push_back(PayloadFor(static_cast<uint64_t>(i), 24));
    WriteLog(fs, s, options, payloads);  // segments 1 (records 1-2) and 3 (records 3-4)
    fs.SetBytes(SegmentPath(2), format::EncodeSegmentHeader(2, 0));               // stale, valid
    fs.SetBytes(SegmentPath(5), format::EncodeSegmentHeader(5, 0).substr(0, 9));  // torn
    fs.SetBytes(SegmentPath(3), fs.Bytes(SegmentPath(3)) + std::string(40, '\x07'));
    std::vector<Record> records;
    RecoveryInfo info;
    ASSERT_TRUE(RecoverAll(fs, s, options, &records, &info).ok());
    EXPECT_EQ(records.size(), 4u);
    EXPECT_EQ(info.removed_empty_segments, 2u);
    EXPECT_EQ(info.truncated_bytes, 40u);
    EXPECT_FALSE(fs.HasFile(SegmentPath(2)));
    EXPECT_FALSE(fs.HasFile(SegmentPath(5)));
  });
}

TEST(WalRecovery, CrashDuringRecoveryConvergesOnTheNextOne) {
  FakeFileSystem fs;
  RunInSim([&](sim::Scheduler& s) {
    WriteLog(fs, s, SmallOptions(), {"one", "two", "three"});
    const std::string good = fs.Bytes(SegmentPath(1));
    fs.SetBytes(SegmentPath(1), good + std::string(50, '\x5A'));
    // Crash while recovery waits for the sync of its truncation.
    fs.set_sync_latency_ns(s, io::kNanosPerMilli);
    runtime::JoinHandle crasher = runtime::Spawn(s, "crasher", [&] {
      s.SleepFor(io::kNanosPerMilli / 2);
      fs.Crash();
    });
    auto interrupted = Wal::Open(fs, s, kDir, SmallOptions());
    EXPECT_TRUE(io::IsNodeDead(interrupted.status())) << interrupted.status();
    crasher.Join();
    EXPECT_EQ(fs.Bytes(SegmentPath(1)).size(), good.size() + 50);  // the cut was lost
    fs.set_sync_latency_ns(s, 0);
    std::vector<Record> records;
    RecoveryInfo info;
    ASSERT_TRUE(RecoverAll(fs, s, SmallOptions(), &records, &info).ok());
    EXPECT_EQ(records.size(), 3u);
    EXPECT_EQ(info.truncated_bytes, 50u);
    ASSERT_TRUE(RecoverAll(fs, s, SmallOptions(), &records, &info).ok());
    EXPECT_EQ(records.size(), 3u);
    EXPECT_EQ(info.truncated_bytes, 0u);
  });
}

// A node crash unwinds the appenders and the flusher (FiberKilled through the
// Wal's code) without aborting or deadlocking; the next incarnation recovers
// every acknowledged record.
TEST(WalRecovery, NodeCrashUnwindsTheWalCleanly) {
  FakeFileSystem fs;
  uint64_t max_acked = 0;
  uint64_t issued = 0;
  std::vector<Record> recovered;
  sim::Scheduler s(sim::SchedulerOptions{.seed = 7});
  const sim::NodeId node = s.AddNode("db");
  fs.set_sync_latency_ns(s, 300 * io::kNanosPerMicro);
  s.StartFiberOn(node, "owner", [&] {
    auto wal = Wal::Open(fs, s, kDir, SmallOptions());
    ASSERT_TRUE(wal.ok());
    std::vector<runtime::JoinHandle> appenders;
    for (int a = 0; a < 8; ++a) {
      appenders.push_back(runtime::Spawn(s, "appender", [&, a] {
        for (int i = 0; i < 100; ++i) {
          auto appended = (*wal)->Append(PayloadFor(static_cast<uint64_t>(a * 1000 + i), 30));
          if (!appended.ok()) return;
          issued = std::max(issued, appended->last_sequence);
          const absl::StatusOr<uint64_t>& durable = appended->durable.Get();
          if (!durable.ok()) return;
          max_acked = std::max(max_acked, *durable);
        }
      }));
    }
    for (auto& appender : appenders) appender.Join();
  });
  s.StartFiber("chaos", [&] {
    s.SleepFor(2 * io::kNanosPerMilli + 123);
    s.Crash(node, "test");
    fs.Crash(/*keep_unsynced_bytes=*/70);
    s.Restart(node, "owner-2", [&] {
      std::vector<Record> records;
      absl::Status status = RecoverAll(fs, s, SmallOptions(), &records);
      EXPECT_TRUE(status.ok()) << status;
      recovered = std::move(records);
    });
  });
  const sim::RunResult result = s.Run();
  ASSERT_TRUE(result.ok()) << result.detail;
  EXPECT_GT(max_acked, 0u);
  EXPECT_GE(recovered.size(), max_acked);
  EXPECT_LE(recovered.size(), issued);
  for (size_t i = 0; i < recovered.size(); ++i) EXPECT_EQ(recovered[i].sequence, i + 1);
}

// Appenders race a crash at a random virtual time that keeps a random part
// of the unsynced bytes. Reopening must give a prefix of what was issued
// that holds every acknowledged record, and converge if reopened again.
RC_GTEST_PROP(WalRecovery, RandomCrashNeverLosesAnAcknowledgedRecord, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const int appenders = *rc::gen::inRange(1, 9);
  const int64_t crash_at_ns = *rc::gen::inRange<int64_t>(0, 3 * io::kNanosPerMilli);
  const uint64_t keep_bytes = *rc::gen::inRange<uint64_t>(0, 400);
  const uint64_t segment_size_bytes = *rc::gen::element<uint64_t>(150, 400, 1 << 16);
  WalOptions options = SmallOptions();
  options.segment_size_bytes = segment_size_bytes;
  options.max_batch_records = *rc::gen::inRange<uint32_t>(1, 8);

  std::map<uint64_t, std::string> issued;
  uint64_t max_acked = 0;
  std::vector<Record> recovered;
  absl::Status recovery_status;
  bool converged = true;
  RunInSim(
      [&](sim::Scheduler& s) {
        FakeFileSystem fs;
        fs.set_sync_latency_ns(s, 100 * io::kNanosPerMicro);
        auto opened = Wal::Open(fs, s, kDir, options);
        ASSERT_TRUE(opened.ok());
        Wal& wal = **opened;
        bool crashed = false;
        std::vector<runtime::JoinHandle> fibers;
        for (int a = 0; a < appenders; ++a) {
          fibers.push_back(runtime::Spawn(s, "appender", [&, a] {
            for (int i = 0; i < 30; ++i) {
              const std::string payload = PayloadFor(static_cast<uint64_t>(a * 1000 + i), 10 + (i * 7) % 50);
              auto appended = wal.Append(payload);
              if (!appended.ok()) return;
              issued[appended->first_sequence] = payload;
              const absl::StatusOr<uint64_t>& durable = appended->durable.Get();
              if (!durable.ok()) return;
              EXPECT_FALSE(crashed) << "acknowledged after the crash";
              max_acked = std::max(max_acked, *durable);
            }
          }));
        }
        s.SleepFor(crash_at_ns);
        fs.Crash(keep_bytes);
        crashed = true;
        for (auto& fiber : fibers) fiber.Join();
        opened->reset();

        recovery_status = RecoverAll(fs, s, options, &recovered);
        std::vector<Record> again;
        const absl::Status second = RecoverAll(fs, s, options, &again);
        converged = second.ok() == recovery_status.ok() && again.size() == recovered.size();
      },
      seed);
  RC_ASSERT(recovery_status.ok());
  RC_ASSERT(converged);
  RC_ASSERT(recovered.size() >= max_acked);
  RC_ASSERT(recovered.size() <= issued.size());
  for (size_t i = 0; i < recovered.size(); ++i) {
    RC_ASSERT(recovered[i].sequence == i + 1);
    RC_ASSERT(recovered[i].payload == issued[i + 1]);
  }
}

}  // namespace
}  // namespace faultline::wal::testing
