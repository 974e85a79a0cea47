// bench/wal/compare_matrix.cc — see compare_matrix.h.
#include "bench/wal/compare_matrix.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "bench/common/steady_clock.h"

namespace faultline::bench::compare {
namespace {

// Measures `system` in one cell; `run` already holds the systems before it
// (raw's batch size comes from WAL's).
Measurement RunSystem(System system, const std::string& dir, const CellKey& key,
                      const CellLimits& limits, const MatrixOptions& options, CellRun& run) {
  switch (system) {
    case kWal:
      return RunWal(dir, key.record_bytes, key.appenders, limits, options.dedicated_loop,
                    &run.wal[kWal]);
    case kWalPool:
      return RunWal(dir, key.record_bytes, key.appenders, limits, options.pool_loop,
                    &run.wal[kWalPool]);
    case kRaw:
      run.raw_batch_records = std::max<uint64_t>(
          1, static_cast<uint64_t>(std::llround(run.wal[kWal].records_per_sync)));
      return RunRaw(dir, key.record_bytes, run.raw_batch_records, limits);
    case kSqlite:
    case kLevelDb:
    case kRocksDb:
      return RunPeer(system, dir, key.record_bytes, key.appenders, limits);
    case kSystemCount:
      break;
  }
  return Measurement{};
}

void RunCell(const MatrixOptions& options, const std::string& root, int repeat, const CellKey& key,
             CellRun& run) {
  const CellLimits limits{
      .max_records = std::max(options.min_records,
                              options.records_per_appender * static_cast<uint64_t>(key.appenders)),
      .max_duration_ns = static_cast<int64_t>(options.cell_seconds * 1e9)};
  const std::string cell_dir =
      fmt::format("{}/r{}-{}B-{}", root, repeat, key.record_bytes, key.appenders);
  for (int s = 0; s < kSystemCount; ++s) {
    const System system = static_cast<System>(s);
    if (!SystemAvailable(system)) continue;
    const std::string dir = cell_dir + "-" + SystemName(s);
    std::filesystem::create_directory(dir);
    Measurement m = RunSystem(system, dir, key, limits, options, run);
    RemoveAll(dir);
    run.stats[s] = Summarize(m);
  }
  std::fprintf(stderr, "[repeat %d/%d] %4zu B x %2d:", repeat + 1, options.repeat, key.record_bytes,
               key.appenders);
  for (int s = 0; s < kSystemCount; ++s) {
    if (run.stats[s].has_value()) {
      std::fprintf(stderr, "  %s %.0f/s", SystemName(s), run.stats[s]->records_per_s);
    }
  }
  std::fprintf(stderr, "  (WAL %.1f, WAL-pool %.1f rec/sync)\n", run.wal[kWal].records_per_sync,
               run.wal[kWalPool].records_per_sync);
}

}  // namespace

Matrix RunMatrix(const MatrixOptions& options, const std::string& root) {
  Matrix matrix;
  for (size_t record_bytes : kRecordSizesBytes) {
    for (int appenders : kAppenderCounts) matrix.cells.push_back({record_bytes, appenders});
  }
  matrix.runs.assign(static_cast<size_t>(options.repeat),
                     std::vector<CellRun>(matrix.cells.size()));
  const int64_t start_ns = SteadyNowNs();
  for (int r = 0; r < options.repeat; ++r) {
    for (size_t c = 0; c < matrix.cells.size(); ++c) {
      RunCell(options, root, r, matrix.cells[c], matrix.runs[static_cast<size_t>(r)][c]);
    }
  }
  matrix.seconds = static_cast<double>(SteadyNowNs() - start_ns) / 1e9;
  return matrix;
}

}  // namespace faultline::bench::compare
