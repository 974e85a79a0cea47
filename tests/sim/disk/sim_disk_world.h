// tests/sim/disk/sim_disk_world.h — one scheduler, one node and one SimDisk
// for the disk's unit tests, plus the utilities they share (byte spans, whole
// file reads, crash rates that pin every outcome).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/io/errors.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::disk::testing {

inline absl::Span<const char> Bytes(std::string_view text) { return {text.data(), text.size()}; }

inline std::string ReadAll(io::File& file) {
  const uint64_t size_bytes = file.Size().value();
  std::string out(size_bytes, '\0');
  auto read = file.ReadAt(0, absl::Span<char>(out.data(), out.size()));
  EXPECT_TRUE(read.ok()) << read.status();
  return out;
}

// Every pending op is dropped at a crash.
inline CrashRates DropEverything() {
  return CrashRates{.write_persist_ppm = 0, .write_torn_ppm = 0, .size_without_data_ppm = 0,
                    .truncate_persist_ppm = 0, .namespace_persist_ppm = 0};
}
// Every pending op is persisted whole at a crash.
inline CrashRates KeepEverything() {
  return CrashRates{.write_persist_ppm = 1'000'000, .write_torn_ppm = 0,
                    .size_without_data_ppm = 0, .truncate_persist_ppm = 1'000'000,
                    .namespace_persist_ppm = 1'000'000};
}

inline FaultPlan WithCrash(CrashRates rates) {
  FaultPlan plan;
  plan.crash = rates;
  return plan;
}

// Ops are called from the test thread (no fiber) unless a test starts fibers.
struct World {
  explicit World(FaultPlan plan = {}, DiskOptions options = {}, uint64_t seed = 1)
      : scheduler(SchedulerOptions{.seed = seed, .stack_size_bytes = 256 * 1024}),
        node(scheduler.AddNode("n1")),
        disk(scheduler, options, std::move(plan)) {}

  SimFileSystem& fs() { return disk.ForNode(node); }
  // A power loss: the node dies, the disk resolves its crash state.
  void CrashAndRestart(const CrashOptions& options = {}) {
    scheduler.Crash(node, "test");
    disk.Crash(node, options);
    scheduler.Restart(node, "main", [] {});
  }
  std::unique_ptr<io::File> Open(std::string_view path,
                                 io::OpenMode mode = io::OpenMode::kCreate) {
    auto file = fs().Open(path, mode);
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? std::move(*file) : nullptr;
  }

  Scheduler scheduler;
  NodeId node;
  SimDisk disk;
};

}  // namespace faultline::sim::disk::testing
