// bench/wal/compare_report.h — wal_compare's Markdown report: how the run
// was made, durable records per second, acknowledgement latency, ratios,
// the goals of issue #5, where the WAL's time goes per batch, the disk's
// append-vs-overwrite cost, and every repeat's numbers.
//
// Values are medians over the repeats; ratios are medians of per-repeat
// ratios (systems compared over the same stretch of time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/wal/compare_matrix.h"
#include "bench/wal/compare_probes.h"

namespace faultline::bench::compare {

// Everything the report says about the run besides the matrix itself.
struct RunContext {
  std::string command;  // the command line, shell-quoted
  std::string started_at;
  std::string load_at_start;
  std::string load_at_end;
  std::string tmp_base;  // --tmpdir
  std::string fs_name;
  uint64_t fs_type = 0;  // statfs f_type
  SyncProbe probe_start;
  SyncProbe probe_end;
  HopProbe hop;
  std::vector<AppendVsOverwrite> append_vs_overwrite;
  MatrixOptions matrix;
  int64_t wal_spin_ns = 0;        // WAL-pool's loop spin (0: off)
  int64_t inline_horizon_ns = 0;  // WAL's loop inline horizon
};

std::string WriteReport(const Matrix& matrix, const RunContext& context);

}  // namespace faultline::bench::compare
