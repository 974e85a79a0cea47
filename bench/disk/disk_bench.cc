// bench/disk/disk_bench.cc — how fast the simulated disk is, next to the
// cheapest thing that could stand in for it.
//
//  * SimWriteSync: one small WriteAt + Sync on the simulated disk (faults
//    off, no latency, called outside a fiber; SimWriteSyncInFiber: from a
//    scheduler fiber), vs. BaselineMemcpyWrite: the
//    same bytes memcpy'd into a std::vector<char> "file" plus a second
//    memcpy standing in for the sync. Goal: >= 2 million write+sync/s.
//  * CrashResolve1000: resolving a crash with 1,000 pending 512-byte writes
//    (a random persisted/torn/dropped outcome for each) vs.
//    BaselineCopy1000: copying the same 1,000 writes into a buffer once.
//  * CrashWithPendingRenames: a crash with 8,192 durable files each renamed
//    (pending) vs. BaselineRenameMap: the same renames applied once to a
//    std::map of names. Guards against costs quadratic in pending renames.
//
// Counters: ops_per_s (write+sync pairs, or crash resolutions, per second)
// and bytes_per_s. Compare the pairs side by side in one run:
//   disk_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::disk {
namespace {

constexpr uint64_t kFileSpanBytes = 1 << 20;  // writes cycle through 1 MiB

void SimWriteSync(benchmark::State& state) {
  const auto write_bytes = static_cast<size_t>(state.range(0));
  Scheduler scheduler(SchedulerOptions{.seed = 1});
  const NodeId node = scheduler.AddNode("n1");
  SimDisk disk(scheduler);
  auto file = disk.ForNode(node).Open("bench", io::OpenMode::kCreate).value();
  const std::string data(write_bytes, 'x');
  uint64_t offset = 0;
  for (auto _ : state) {
    absl::Status written = file->WriteAt(offset, absl::Span<const char>(data.data(), data.size()));
    absl::Status synced = file->Sync();
    benchmark::DoNotOptimize(written.ok() && synced.ok());
    offset = (offset + write_bytes) % kFileSpanBytes;
  }
  state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["bytes_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * write_bytes), benchmark::Counter::kIsRate);
}
BENCHMARK(SimWriteSync)->Arg(64)->Arg(512)->Arg(4096);

// The same, from inside a scheduler fiber (how production code calls it).
void SimWriteSyncInFiber(benchmark::State& state) {
  const auto write_bytes = static_cast<size_t>(state.range(0));
  Scheduler scheduler(SchedulerOptions{.seed = 1, .stack_size_bytes = 256 * 1024});
  const NodeId node = scheduler.AddNode("n1");
  SimDisk disk(scheduler);
  const std::string data(write_bytes, 'x');
  scheduler.StartFiberOn(node, "bench", [&] {
    auto file = disk.ForNode(node).Open("bench", io::OpenMode::kCreate).value();
    uint64_t offset = 0;
    for (auto _ : state) {
      absl::Status written = file->WriteAt(offset, absl::Span<const char>(data.data(), data.size()));
      absl::Status synced = file->Sync();
      benchmark::DoNotOptimize(written.ok() && synced.ok());
      offset = (offset + write_bytes) % kFileSpanBytes;
    }
  });
  if (!scheduler.Run().ok()) state.SkipWithError("the scheduler run failed");
  state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["bytes_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * write_bytes), benchmark::Counter::kIsRate);
}
BENCHMARK(SimWriteSyncInFiber)->Arg(64)->Arg(512);

void BaselineMemcpyWrite(benchmark::State& state) {
  const auto write_bytes = static_cast<size_t>(state.range(0));
  std::vector<char> cache(kFileSpanBytes + write_bytes);
  std::vector<char> durable(kFileSpanBytes + write_bytes);
  const std::string data(write_bytes, 'x');
  uint64_t offset = 0;
  for (auto _ : state) {
    std::memcpy(cache.data() + offset, data.data(), write_bytes);       // the write
    std::memcpy(durable.data() + offset, cache.data() + offset, write_bytes);  // the "sync"
    benchmark::ClobberMemory();
    offset = (offset + write_bytes) % kFileSpanBytes;
  }
  state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["bytes_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * write_bytes), benchmark::Counter::kIsRate);
}
BENCHMARK(BaselineMemcpyWrite)->Arg(64)->Arg(512)->Arg(4096);

constexpr int kPendingWrites = 1000;
constexpr size_t kPendingWriteBytes = 512;

void CrashResolve1000(benchmark::State& state) {
  const std::string data(kPendingWriteBytes, 'p');
  uint64_t seed = 0;  // a different crash state each iteration
  for (auto _ : state) {
    state.PauseTiming();
    auto scheduler = std::make_unique<Scheduler>(SchedulerOptions{.seed = ++seed});
    const NodeId node = scheduler->AddNode("n1");
    auto disk = std::make_unique<SimDisk>(*scheduler);
    {
      auto file = disk->ForNode(node).Open("wal", io::OpenMode::kCreate).value();
      (void)disk->ForNode(node).SyncDir("");
      for (int i = 0; i < kPendingWrites; ++i) {
        (void)file->Append(absl::Span<const char>(data.data(), data.size()));
      }
    }
    scheduler->Crash(node, "bench");
    state.ResumeTiming();
    disk->Crash(node);  // decides 1,000 pending writes
    benchmark::DoNotOptimize(disk->stats().count(FaultKind::kTornWrite));
    state.PauseTiming();
    disk.reset();
    scheduler.reset();
    state.ResumeTiming();
  }
  state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["bytes_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kPendingWrites * kPendingWriteBytes),
      benchmark::Counter::kIsRate);
}
BENCHMARK(CrashResolve1000)->Unit(benchmark::kMicrosecond);

void BaselineCopy1000(benchmark::State& state) {
  const std::string data(kPendingWriteBytes, 'p');
  std::vector<char> image(kPendingWrites * kPendingWriteBytes);
  for (auto _ : state) {
    for (int i = 0; i < kPendingWrites; ++i) {
      std::memcpy(image.data() + i * kPendingWriteBytes, data.data(), kPendingWriteBytes);
    }
    benchmark::ClobberMemory();
  }
  state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["bytes_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kPendingWrites * kPendingWriteBytes),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BaselineCopy1000)->Unit(benchmark::kMicrosecond);

constexpr int kRenamedFiles = 8192;

std::string RenameName(const char* prefix, int i) { return prefix + std::to_string(i); }

void CrashWithPendingRenames(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    Scheduler scheduler(SchedulerOptions{.seed = 1});
    const NodeId node = scheduler.AddNode("n1");
    SimDisk disk(scheduler);
    SimFileSystem& fs = disk.ForNode(node);
    for (int i = 0; i < kRenamedFiles; ++i) {
      (void)fs.Open(RenameName("a", i), io::OpenMode::kCreate).value();
    }
    (void)fs.SyncDir("");
    for (int i = 0; i < kRenamedFiles; ++i) (void)fs.Rename(RenameName("a", i), RenameName("b", i));
    scheduler.Crash(node, "bench");
    state.ResumeTiming();
    disk.Crash(node);
  }
  state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(CrashWithPendingRenames)->Unit(benchmark::kMillisecond);

void BaselineRenameMap(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    std::map<std::string, int> names;
    for (int i = 0; i < kRenamedFiles; ++i) names.emplace(RenameName("a", i), i);
    state.ResumeTiming();
    for (int i = 0; i < kRenamedFiles; ++i) {
      auto node = names.extract(RenameName("a", i));
      node.key() = RenameName("b", i);
      names.insert(std::move(node));
    }
    benchmark::DoNotOptimize(names);
  }
  state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BaselineRenameMap)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace faultline::sim::disk

BENCHMARK_MAIN();
