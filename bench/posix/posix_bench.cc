// bench/posix/posix_bench.cc — what core/posix costs, measured side by side
// with the bare syscalls in the same process, on a real temp directory:
//
//  * SyncedWrites: 4 KiB sequential writes, each followed by a sync.
//    core/posix (PosixFile::Append or WriteAt, then Sync, on the event loop,
//    each a hop to the I/O pool) against a plain pwrite + fdatasync loop. The two run in
//    interleaved rounds so that drift of the device's latency hits both
//    alike. Counter `posix_vs_raw` = posix throughput / raw throughput
//    (goal >= 0.9).
//
//  * TimerLatencyUnderSyncLoad: one fiber sleeps 1 ms over and over while 8
//    fibers append + sync concurrently; the lateness of each wake-up (actual
//    wake time minus deadline) shows whether the loop stays responsive while
//    fsyncs are in flight. Reported as p50/p99/max in microseconds, next to
//    the same timer with no load (`TimerLatencyIdle`), and
//    `p99_loaded_vs_idle` = loaded p99 / idle p99. The baseline
//    `TimerLatencyUnderInlineSyncs` runs the same fdatasyncs on the loop
//    thread, as a naive loop would: `p99_inline_vs_posix` says how much later
//    its timers fire.
//
//  * RunBlockingRoundTrip: the fixed cost of one hop to the I/O pool and
//    back, with and without the optional busy-waits (EventLoopOptions).
//
// Benchmark code may use std::chrono and raw syscalls; production code may not.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "bench/common/scratch_dir.h"
#include "bench/common/steady_clock.h"
#include "core/base/check.h"
#include "core/io/file_system.h"
#include "core/posix/event_loop.h"
#include "core/posix/posix_file_system.h"
#include "core/runtime/spawn.h"

namespace faultline::posix {
namespace {

constexpr size_t kWriteBytes = 4096;
constexpr int kOpsPerRound = 4;
// Files are truncated back to 0 after this many bytes, so long runs do not
// fill the disk.
constexpr uint64_t kMaxFileBytes = 64ull << 20;

using bench::ScratchDir;
using bench::SteadyNowNs;

// Which busy-waits the loop may use (EventLoopOptions): 0 none (the
// default), 1 I/O threads only, 2 I/O threads and loop (50 us each).
EventLoopOptions SpinOptions(int64_t mode) {
  constexpr int64_t kSpinNs = 50'000;
  EventLoopOptions options;
  options.io_thread_spin_ns = mode >= 1 ? kSpinNs : 0;
  options.loop_completion_spin_ns = mode >= 2 ? kSpinNs : 0;
  return options;
}

void BM_SyncedWrites(benchmark::State& state) {
  const int64_t api = state.range(0);
  ScratchDir dir("posix-bench");
  EventLoop loop(SpinOptions(state.range(1)));
  auto fs = PosixFileSystem::Open(loop, dir.path());
  FAULTLINE_CHECK(fs.ok());
  const std::string block(kWriteBytes, 'w');

  const std::string raw_path = dir.path() + "/raw.dat";
  const int raw_fd = open(raw_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  FAULTLINE_CHECK(raw_fd >= 0);
  uint64_t raw_offset = 0;

  int64_t raw_ns = 0;
  int64_t posix_ns = 0;
  int64_t ops = 0;
  // raw/posix time of each round pair: the median resists the outliers a
  // shared disk produces.
  std::vector<double> round_ratios;
  constexpr size_t kMaxRounds = 1 << 20;
  loop.StartFiber("bench", [&] {
    auto file = (*fs)->Open("posix.dat", io::OpenMode::kCreateTruncate);
    FAULTLINE_CHECK(file.ok());
    uint64_t posix_bytes = 0;
    bool raw_first = true;
    auto raw_round = [&] {
      // Raw: what a program without core/posix would do.
      const int64_t start_ns = SteadyNowNs();
      for (int i = 0; i < kOpsPerRound; ++i) {
        FAULTLINE_CHECK(
            pwrite(raw_fd, block.data(), block.size(), static_cast<off_t>(raw_offset)) ==
            static_cast<ssize_t>(block.size()));
        FAULTLINE_CHECK(fdatasync(raw_fd) == 0);
        raw_offset += block.size();
      }
      raw_ns += SteadyNowNs() - start_ns;
    };
    auto posix_round = [&] {
      // core/posix: the same bytes and syncs through the io seam.
      const int64_t start_ns = SteadyNowNs();
      for (int i = 0; i < kOpsPerRound; ++i) {
        const absl::Span<const char> data(block.data(), block.size());
        if (api == 2) {
          // What the WAL's group commit does: write and sync in one call.
          FAULTLINE_CHECK((*file)->WriteAtAndSync(posix_bytes, data).ok());
        } else if (api == 1) {
          // A writer that tracks its own end of file, then syncs.
          FAULTLINE_CHECK((*file)->WriteAt(posix_bytes, data).ok());
          FAULTLINE_CHECK((*file)->Sync().ok());
        } else {
          FAULTLINE_CHECK((*file)->Append(data).ok());
          FAULTLINE_CHECK((*file)->Sync().ok());
        }
        posix_bytes += block.size();
      }
      posix_ns += SteadyNowNs() - start_ns;
    };
    for (auto _ : state) {
      const int64_t raw_before_ns = raw_ns;
      const int64_t posix_before_ns = posix_ns;
      // Alternate which goes first, so neither always follows the other's
      // journal commit.
      if (raw_first) {
        raw_round();
        posix_round();
      } else {
        posix_round();
        raw_round();
      }
      raw_first = !raw_first;
      if (round_ratios.size() < kMaxRounds) {
        round_ratios.push_back(static_cast<double>(raw_ns - raw_before_ns) /
                               static_cast<double>(posix_ns - posix_before_ns));
      }
      ops += kOpsPerRound;
      if (raw_offset >= kMaxFileBytes) {
        state.PauseTiming();
        FAULTLINE_CHECK(ftruncate(raw_fd, 0) == 0);
        raw_offset = 0;
        FAULTLINE_CHECK((*file)->Truncate(0).ok());
        posix_bytes = 0;
        state.ResumeTiming();
      }
    }
  });
  FAULTLINE_CHECK(loop.Run() == RunOutcome::kCompleted);
  close(raw_fd);

  const double raw_us = static_cast<double>(raw_ns) / 1e3 / static_cast<double>(ops);
  const double posix_us = static_cast<double>(posix_ns) / 1e3 / static_cast<double>(ops);
  state.counters["raw_us_per_op"] = raw_us;
  state.counters["posix_us_per_op"] = posix_us;
  state.counters["posix_vs_raw"] = raw_us / posix_us;  // throughput ratio
  if (!round_ratios.empty()) {
    std::sort(round_ratios.begin(), round_ratios.end());
    state.counters["posix_vs_raw_median"] = round_ratios[round_ratios.size() / 2];
  }
}
// Args: api (0 Append + Sync, whose job also fstats for the end of file;
// 1 WriteAt + Sync at an offset the caller tracks; 2 WriteAtAndSync, one
// hand-off), spin mode (see SpinOptions).
BENCHMARK(BM_SyncedWrites)
    ->ArgNames({"api", "spin"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({0, 2})
    ->Args({1, 2})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->UseRealTime();

// The fixed cost of one hop to the I/O pool and back (a no-op job): what
// every blocking call pays on top of its syscall.
void BM_RunBlockingRoundTrip(benchmark::State& state) {
  EventLoop loop(SpinOptions(state.range(0)));
  int64_t calls = 0;
  loop.StartFiber("bench", [&] {
    for (auto _ : state) {
      loop.RunBlocking([&] { ++calls; });
    }
  });
  FAULTLINE_CHECK(loop.Run() == RunOutcome::kCompleted);
  benchmark::DoNotOptimize(calls);
}
BENCHMARK(BM_RunBlockingRoundTrip)
    ->ArgName("spin")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

struct LatencySummary {
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

LatencySummary Summarize(std::vector<int64_t> lateness_ns) {
  LatencySummary summary;
  if (lateness_ns.empty()) return summary;
  std::sort(lateness_ns.begin(), lateness_ns.end());
  auto at = [&](double quantile) {
    const size_t index =
        std::min(lateness_ns.size() - 1,
                 static_cast<size_t>(quantile * static_cast<double>(lateness_ns.size())));
    return static_cast<double>(lateness_ns[index]) / 1e3;
  };
  summary.p50_us = at(0.50);
  summary.p99_us = at(0.99);
  summary.max_us = static_cast<double>(lateness_ns.back()) / 1e3;
  return summary;
}

// Results of earlier runs in this process, for the ratios of later ones
// (benchmarks run in registration order).
double idle_p99_us = 0;
double loaded_p50_us = 0;
double loaded_p99_us = 0;

enum class SyncMode {
  kPosix,   // through PosixFile: fdatasync runs on the I/O pool
  kInline,  // a naive loop: pwrite + fdatasync on the loop thread itself
};

// One sleeper fiber taking `state`'s iterations as 1 ms sleeps, plus
// `sync_fibers` fibers appending + syncing until it is done.
void RunTimerLatency(benchmark::State& state, int sync_fibers, SyncMode mode) {
  ScratchDir dir("posix-bench");
  EventLoop loop;
  auto fs = PosixFileSystem::Open(loop, dir.path());
  FAULTLINE_CHECK(fs.ok());
  constexpr size_t kMaxSamples = 1 << 20;
  std::vector<int64_t> lateness_ns;
  lateness_ns.reserve(kMaxSamples);
  bool done = false;
  int64_t syncs = 0;
  const std::string block(kWriteBytes, 's');

  loop.StartFiber("main", [&] {
    std::vector<runtime::JoinHandle> writers;
    for (int w = 0; w < sync_fibers; ++w) {
      writers.push_back(runtime::Spawn(loop, "syncer", [&, w] {
        if (mode == SyncMode::kInline) {
          const std::string path = dir.path() + "/inline" + std::to_string(w);
          const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
          FAULTLINE_CHECK(fd >= 0);
          uint64_t offset = 0;
          while (!done) {  // bounded by the sleeper's iterations
            FAULTLINE_CHECK(pwrite(fd, block.data(), block.size(), static_cast<off_t>(offset)) ==
                            static_cast<ssize_t>(block.size()));
            FAULTLINE_CHECK(fdatasync(fd) == 0);  // blocks the whole loop
            ++syncs;
            offset = (offset + block.size()) % (kMaxFileBytes / 8);
            loop.Yield();
          }
          close(fd);
          return;
        }
        auto file = (*fs)->Open("load" + std::to_string(w), io::OpenMode::kCreateTruncate);
        FAULTLINE_CHECK(file.ok());
        uint64_t size_bytes = 0;
        while (!done) {  // bounded by the sleeper's iterations
          FAULTLINE_CHECK((*file)->Append(absl::Span<const char>(block.data(), block.size())).ok());
          FAULTLINE_CHECK((*file)->Sync().ok());
          ++syncs;
          size_bytes += block.size();
          if (size_bytes >= kMaxFileBytes / 8) {
            FAULTLINE_CHECK((*file)->Truncate(0).ok());
            size_bytes = 0;
          }
        }
      }));
    }
    for (auto _ : state) {
      const int64_t deadline_ns = loop.NowNs() + io::kNanosPerMilli;
      loop.SleepUntil(deadline_ns);
      if (lateness_ns.size() < kMaxSamples) lateness_ns.push_back(loop.NowNs() - deadline_ns);
    }
    done = true;
    for (auto& writer : writers) writer.Join();
  });
  const int64_t start_ns = SteadyNowNs();
  FAULTLINE_CHECK(loop.Run() == RunOutcome::kCompleted);
  const double elapsed_s = static_cast<double>(SteadyNowNs() - start_ns) / 1e9;

  const LatencySummary summary = Summarize(std::move(lateness_ns));
  state.counters["late_p50_us"] = summary.p50_us;
  state.counters["late_p99_us"] = summary.p99_us;
  state.counters["late_max_us"] = summary.max_us;
  if (sync_fibers == 0) {
    idle_p99_us = summary.p99_us;
    return;
  }
  state.counters["syncs_per_s"] = static_cast<double>(syncs) / elapsed_s;
  if (mode == SyncMode::kPosix) {
    loaded_p50_us = summary.p50_us;
    loaded_p99_us = summary.p99_us;
    if (idle_p99_us > 0) state.counters["p99_loaded_vs_idle"] = summary.p99_us / idle_p99_us;
  } else if (loaded_p50_us > 0 && loaded_p99_us > 0) {
    // How much later a naive loop's timers fire than core/posix's.
    state.counters["p50_inline_vs_posix"] = summary.p50_us / loaded_p50_us;
    state.counters["p99_inline_vs_posix"] = summary.p99_us / loaded_p99_us;
  }
}

void BM_TimerLatencyIdle(benchmark::State& state) { RunTimerLatency(state, 0, SyncMode::kPosix); }
BENCHMARK(BM_TimerLatencyIdle)->Unit(benchmark::kMillisecond)->Iterations(1000);

void BM_TimerLatencyUnderSyncLoad(benchmark::State& state) {
  RunTimerLatency(state, static_cast<int>(state.range(0)), SyncMode::kPosix);
}
BENCHMARK(BM_TimerLatencyUnderSyncLoad)->Arg(8)->Unit(benchmark::kMillisecond)->Iterations(1000);

// The baseline that shows what the I/O pool buys: the same load with the
// fdatasyncs run on the loop thread, as a naive event loop would.
void BM_TimerLatencyUnderInlineSyncs(benchmark::State& state) {
  RunTimerLatency(state, static_cast<int>(state.range(0)), SyncMode::kInline);
}
BENCHMARK(BM_TimerLatencyUnderInlineSyncs)->Arg(8)->Unit(benchmark::kMillisecond)->Iterations(300);

}  // namespace
}  // namespace faultline::posix

BENCHMARK_MAIN();
