// bench/wal/compare_matrix.h — wal_compare's matrix run: record sizes x
// concurrent appenders x systems, repeated.
//
// Cells run interleaved (WAL, WAL-pool, raw, SQLite, LevelDB, RocksDB for
// one (size, N), then the next), and the whole matrix is repeated, so that
// systems are compared over the same stretch of time (a VM's sync latency
// drifts). raw's batch size in a cell is the records per sync WAL just
// achieved in that cell. Each system runs in a fresh directory under
// `root`, removed afterwards. Progress goes to stderr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/wal/compare_cells.h"
#include "core/posix/event_loop.h"

namespace faultline::bench::compare {

inline constexpr size_t kRecordSizesBytes[] = {100, 4096};
inline constexpr int kAppenderCounts[] = {1, 8, 64};

struct CellKey {
  size_t record_bytes;
  int appenders;
};

// One cell of one repeat.
struct CellRun {
  std::optional<CellStats> stats[kSystemCount];  // empty for systems not built
  WalCellInfo wal[kSystemCount];                 // for kWal and kWalPool
  uint64_t raw_batch_records = 0;
};

struct MatrixOptions {
  int repeat = 2;
  double cell_seconds = 1.5;
  uint64_t min_records = 2000;          // per cell: max(min_records,
  uint64_t records_per_appender = 200;  //   records_per_appender x appenders)
  posix::EventLoopOptions dedicated_loop;  // WAL's
  posix::EventLoopOptions pool_loop;       // WAL-pool's
};

struct Matrix {
  std::vector<CellKey> cells;               // sizes x appender counts, in that order
  std::vector<std::vector<CellRun>> runs;   // runs[repeat][cell]
  double seconds = 0;                       // wall time of the whole run
};

Matrix RunMatrix(const MatrixOptions& options, const std::string& root);

}  // namespace faultline::bench::compare
