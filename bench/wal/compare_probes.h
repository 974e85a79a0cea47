// bench/wal/compare_probes.h — what wal_compare measures about the machine
// besides the matrix: the disk's bare fdatasync latency, appending vs
// overwriting, the event loop's I/O-thread round trip, and the facts the
// report header names (CPU, load, date, file system). Benchmark code:
// errors abort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/posix/event_loop.h"

namespace faultline::bench::compare {

inline constexpr int kFdatasyncProbes = 50;

struct SyncProbe {
  double p50_us = 0;
  double p99_us = 0;
  double mean_us = 0;
};

// kFdatasyncProbes single-byte pwrite + fdatasync pairs on a fresh file in `dir`.
SyncProbe ProbeFdatasync(const std::string& dir);

// What one pwrite+fdatasync of `bytes` costs when it appends to a file
// (the sync must also make the new size and extents durable) and when it
// overwrites space that was written and synced before (data only).
struct AppendVsOverwrite {
  size_t bytes = 0;
  double append_us = 0;     // mean, median over the rounds
  double overwrite_us = 0;  // mean, median over the rounds
};

AppendVsOverwrite ProbeAppendVsOverwrite(const std::string& dir, size_t bytes, int writes);

struct HopProbe {
  double p50_us = 0;
  double p99_us = 0;
};

// Round trips of an empty EventLoop::RunBlocking job (loop thread -> I/O
// thread -> loop thread), the hop WAL-pool's flusher makes once per batch
// (File::WriteAtAndSync).
HopProbe ProbeRunBlocking(const posix::EventLoopOptions& loop_options);

std::string CpuModel();
std::string LoadAverage();  // "0.12 0.34 0.56", or "unknown"
std::string UtcNow();
// The name of a statfs f_type ("ext2/ext3/ext4", "tmpfs", ...).
std::string FileSystemName(int64_t f_type);

}  // namespace faultline::bench::compare
