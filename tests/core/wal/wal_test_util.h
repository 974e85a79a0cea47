// tests/core/wal/wal_test_util.h — helpers shared by the WAL tests: run a body
// on the deterministic scheduler, open a Wal, read a log back.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/wal/format.h"
#include "core/wal/wal.h"
#include "sim/scheduler/scheduler.h"
#include "spdlog/spdlog.h"
#include "tests/core/wal/fake_file_system.h"

namespace faultline::wal::testing {

// The WAL logs its fail-stops and repairs, and these tests provoke plenty.
inline const bool kQuietWalLogs = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

inline constexpr char kDir[] = "wal";

// Runs `body` as a fiber of a fresh scheduler (seeded pick of the next
// fiber, or FIFO like the production loop); returns whether the run
// completed (no deadlock, no escaped exception).
inline bool RunInSim(const std::function<void(sim::Scheduler&)>& body, uint64_t seed = 1,
                     bool fifo = false) {
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = seed, .fifo = fifo});
  scheduler.StartFiber("test", [&] { body(scheduler); });
  const sim::RunResult result = scheduler.Run();
  EXPECT_TRUE(result.ok()) << sim::OutcomeName(result.outcome) << ": " << result.detail;
  return result.ok();
}

inline WalOptions SmallOptions() {
  WalOptions options;
  options.segment_size_bytes = 1 << 16;
  options.max_record_bytes = 1024;
  options.max_queued_records = 256;
  options.max_queued_bytes = 1 << 16;
  options.max_batch_records = 64;
  options.max_batch_bytes = 1 << 14;
  // Frames packed, no padding: these tests pin byte offsets of the packed
  // layout. The sector-aligned layout (the default) has tests of its own.
  options.sector_bytes = 0;
  return options;
}

// Every durable record from `from` on; ADD_FAILURE on a read error.
inline std::vector<Record> ReadAll(Wal& wal, uint64_t from) {
  std::vector<Record> records;
  absl::StatusOr<std::unique_ptr<WalReader>> reader = wal.NewReader(from);
  if (!reader.ok()) {
    ADD_FAILURE() << reader.status();
    return records;
  }
  for (int i = 0; i < 1'000'000; ++i) {
    absl::StatusOr<std::optional<Record>> next = (*reader)->Next();
    if (!next.ok()) {
      ADD_FAILURE() << next.status();
      break;
    }
    if (!next->has_value()) break;
    records.push_back(**std::move(next));
  }
  return records;
}

inline std::string PayloadFor(uint64_t n, size_t size_bytes) {
  std::string payload = "record-" + std::to_string(n) + ":";
  while (payload.size() < size_bytes) payload.push_back(static_cast<char>('a' + payload.size() % 26));
  payload.resize(size_bytes);
  return payload;
}

inline std::string SegmentPath(uint64_t first_sequence) {
  return std::string(kDir) + "/" + format::SegmentName(first_sequence);
}

}  // namespace faultline::wal::testing
