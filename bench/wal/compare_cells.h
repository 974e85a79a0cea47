// bench/wal/compare_cells.h — one cell of wal_compare's matrix: the systems
// it compares, and how each one's durable appends are measured for one
// record size and one number of concurrent appenders.
//
// Every Run* function runs on a fresh instance in directory `dir`, writes
// until limits.max_records records are durable or limits.max_duration_ns
// passes, and returns one latency per durable record (the time from the
// start of its write to its acknowledgement). Benchmark code: errors abort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/posix/event_loop.h"

namespace faultline::bench::compare {

enum System : int { kWal = 0, kWalPool, kRaw, kSqlite, kLevelDb, kRocksDb, kSystemCount };
// The two WAL configurations, and the peers each is compared with.
inline constexpr System kWalSystems[] = {kWal, kWalPool};
inline constexpr System kPeerSystems[] = {kSqlite, kLevelDb, kRocksDb};

const char* SystemName(int system);
// Whether `system` was built (the peers need their libraries).
bool SystemAvailable(System system);

struct CellLimits {
  uint64_t max_records = 0;
  int64_t max_duration_ns = 0;
};

struct Measurement {
  uint64_t records = 0;
  int64_t elapsed_ns = 0;
  std::vector<int64_t> latencies_ns;  // one per durable record
};

struct CellStats {
  double records_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  uint64_t records = 0;
};

// Rate and latency percentiles (sorts m.latencies_ns).
CellStats Summarize(Measurement& m);

// What the WAL's stats and the loop thread's CPU clock say about one cell.
struct WalCellInfo {
  double records_per_sync = 0;  // records_written / file_syncs over the cell
  // CPU time of the event loop's thread per batch: appenders, flusher,
  // completions, and the write+sync itself when the loop runs it inline.
  double loop_cpu_us_per_batch = 0;
};

// (a) Faultline's WAL: `appenders` fibers on one EventLoop built with
// `loop_options`, each appending one record and waiting for its durability
// future, repeat.
Measurement RunWal(const std::string& dir, size_t record_bytes, int appenders,
                   const CellLimits& limits, const posix::EventLoopOptions& loop_options,
                   WalCellInfo* info);

// (b) One thread: batches of `batch_records` frames, one pwrite + one
// fdatasync each, appended to a fresh file like the WAL's segment. Every
// record of a batch has the batch's latency (pwrite start to fdatasync end).
Measurement RunRaw(const std::string& dir, size_t record_bytes, uint64_t batch_records,
                   const CellLimits& limits);

// (c, d, e) A peer database (peers.h): `threads` threads, each with its
// writer, released together, writing until the budget or deadline is used up.
Measurement RunPeer(System peer, const std::string& dir, size_t record_bytes, int threads,
                    const CellLimits& limits);

// --- statistics and I/O helpers shared with the probes ------------------------

// Nearest-rank percentile of an unsorted sample (sorted in place).
double PercentileNs(std::vector<int64_t>& sample_ns, double fraction);
double Median(std::vector<double> values);
// Writes all of `bytes` at `offset_bytes` or aborts.
void PwriteAll(int fd, const std::string& bytes, uint64_t offset_bytes);
// Removes `path` and everything under it; errors are ignored.
void RemoveAll(const std::string& path);

}  // namespace faultline::bench::compare
