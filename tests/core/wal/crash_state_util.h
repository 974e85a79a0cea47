// tests/core/wal/crash_state_util.h — helpers for the WAL tests that
// enumerate crash states of the simulated disk: recover a Wal from a disk
// image on a fresh scheduler and read every record back.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/wal/wal.h"
#include "sim/disk/crash_model.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"
#include "spdlog/spdlog.h"

namespace faultline::wal::testing {

inline constexpr char kCrashDir[] = "wal";

inline const bool kQuietCrashStateLogs = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

inline WalOptions TinyOptions() {
  WalOptions options;
  options.segment_size_bytes = 256;
  options.max_record_bytes = 4096;
  options.max_queued_records = 64;
  options.max_queued_bytes = 1 << 16;
  options.max_batch_records = 16;
  options.max_batch_bytes = 1 << 14;
  return options;
}

// What a recovery from `image` finds: the records, or the Open error.
struct Recovered {
  absl::Status open_status;
  std::vector<Record> records;
};

inline Recovered RecoverFrom(const sim::disk::DiskImage& image, const WalOptions& options) {
  Recovered out;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
  const sim::NodeId node = scheduler.AddNode("db");
  sim::disk::SimDisk disk(scheduler);
  disk.LoadImage(node, image);
  scheduler.StartFiberOn(node, "recover", [&] {
    auto wal = Wal::Open(disk.ForNode(node), scheduler, kCrashDir, options);
    out.open_status = wal.status();
    if (!wal.ok()) return;
    auto reader = (*wal)->NewReader((*wal)->first_sequence());
    if (!reader.ok()) {
      out.open_status = reader.status();
      return;
    }
    for (int i = 0; i < 10'000; ++i) {  // bounded: the log is small
      auto next = (*reader)->Next();
      if (!next.ok()) {
        out.open_status = next.status();
        return;
      }
      if (!next->has_value()) break;
      out.records.push_back(**next);
    }
    (void)(*wal)->Close();
  });
  const sim::RunResult result = scheduler.Run();
  EXPECT_TRUE(result.ok()) << result.detail;
  return out;
}

// Whether `records` holds `sequence` with `payload`.
inline bool Holds(const std::vector<Record>& records, uint64_t sequence, const std::string& payload) {
  for (const Record& record : records) {
    if (record.sequence == sequence) return record.payload == payload;
  }
  return false;
}

}  // namespace faultline::wal::testing
