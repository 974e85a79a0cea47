// bench/wal/wal_compare.cc — the WAL comparison table of issue #5: durable
// appends per second and acknowledgement latency of Faultline's WAL on a real
// disk, side by side with the alternatives, in one process run.
//
// Matrix: record sizes {100 B, 4096 B} x concurrent appenders {1, 8, 64} x
// systems:
//  (a) wal     — core/wal on core/posix: N fibers on one EventLoop, each
//                appending one record and waiting for its durability future,
//                on a loop dedicated to the WAL (EventLoopOptions::
//                inline_when_idle_horizon_ns: the flusher's write+sync runs
//                on the loop thread when nothing else needs it);
//  (a') wal-pool — the same on a loop with default options: every
//                write+sync goes through the I/O thread pool, as on a loop
//                that also serves sockets;
//  (b) raw     — one thread, one pwrite + one fdatasync per batch, with the
//                batch size (records per sync) that (a) just achieved in the
//                same cell and the same frame bytes per record: the physical
//                limit at equal batching;
//  (c) sqlite  — journal_mode=WAL, synchronous=FULL, one INSERT per
//                transaction, N threads with a connection each;
//  (d) leveldb — WriteOptions::sync = true, N threads sharing one DB;
//  (e) rocksdb — the same as (d), when the library is installed.
// Each cell runs for max(2000, 200 * N) records or --cell-seconds, whichever
// comes first, on a fresh instance in a fresh directory. Cells run
// interleaved (a, a', b, c, d, e for one (size, N), then the next), and the whole
// matrix is repeated --repeat times; the table shows medians over repeats,
// and the ratios are medians of the per-repeat ratios (systems compared over
// the same stretch of time, which matters on a VM whose sync latency drifts).
//
// Files: compare_cells (one cell of each system), compare_matrix (the
// repeated matrix), compare_probes (the machine), compare_report (the
// Markdown), peers (SQLite, LevelDB, RocksDB); this file parses the flags
// and runs them in order.
//
// Output: a Markdown report on stdout and in --out; progress on stderr.
// Refuses to run on tmpfs/ramfs, where fdatasync is free.
// Benchmark code: it may use threads, raw syscalls and real clocks.
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>

#include "bench/wal/compare_cells.h"
#include "bench/wal/compare_matrix.h"
#include "bench/wal/compare_probes.h"
#include "bench/wal/compare_report.h"
#include "core/wal/format.h"

namespace faultline::bench::compare {
namespace {

std::string ShellQuote(std::string_view arg) {
  const bool plain = !arg.empty() && arg.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_./=:,+@%") == std::string_view::npos;
  if (plain) return std::string(arg);
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// --- flags -------------------------------------------------------------------

struct Flags {
  std::string out_path;
  int repeat = 2;
  std::string tmp_base = "/tmp";
  double cell_seconds = 1.5;
  uint64_t min_records = 2000;
  uint64_t records_per_appender = 200;
  // EventLoopOptions::io_thread_spin_ns and loop_completion_spin_ns for
  // WAL-pool's loop; 0 (off) is the production default. A diagnostic knob.
  int64_t wal_spin_ns = 0;
  // EventLoopOptions::inline_when_idle_horizon_ns for WAL's dedicated loop.
  int64_t inline_horizon_ns = 1'000'000;
};

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr,
               "%s\nusage: wal_compare [--out FILE] [--repeat R (2)] [--tmpdir DIR (/tmp)]\n"
               "                   [--cell-seconds S (1.5)] [--min-records N (2000)]\n"
               "                   [--records-per-appender N (200)] [--wal-spin-ns NS (0)]\n"
               "                   [--inline-horizon-ns NS (1000000)]\n",
               message);
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing flag value");
      return argv[++i];
    };
    try {
      if (arg == "--out") {
        flags.out_path = value();
      } else if (arg == "--repeat") {
        flags.repeat = std::stoi(value());
      } else if (arg == "--tmpdir") {
        flags.tmp_base = value();
      } else if (arg == "--cell-seconds") {
        flags.cell_seconds = std::stod(value());
      } else if (arg == "--min-records") {
        flags.min_records = std::stoull(value());
      } else if (arg == "--records-per-appender") {
        flags.records_per_appender = std::stoull(value());
      } else if (arg == "--wal-spin-ns") {
        flags.wal_spin_ns = std::stoll(value());
      } else if (arg == "--inline-horizon-ns") {
        flags.inline_horizon_ns = std::stoll(value());
      } else {
        Usage("unknown flag");
      }
    } catch (const std::exception&) {
      Usage("bad flag value");
    }
  }
  if (flags.repeat < 1 || flags.cell_seconds <= 0 || flags.min_records < 1 ||
      flags.wal_spin_ns < 0 || flags.inline_horizon_ns <= 0) {
    Usage("bad flag value");
  }
  return flags;
}

// --- the run -------------------------------------------------------------------

// Where the matrix runs: a fresh directory under --tmpdir, on a real disk.
// Empty (after a one-line error) when that is impossible.
std::string MakeRoot(const Flags& flags, RunContext& context) {
  struct statfs base_fs {};
  if (statfs(flags.tmp_base.c_str(), &base_fs) != 0) {
    std::fprintf(stderr, "wal_compare: statfs(%s): %s\n", flags.tmp_base.c_str(),
                 std::strerror(errno));
    return "";
  }
  context.fs_name = FileSystemName(static_cast<int64_t>(base_fs.f_type));
  context.fs_type = static_cast<uint64_t>(base_fs.f_type);
  if (base_fs.f_type == TMPFS_MAGIC || base_fs.f_type == RAMFS_MAGIC) {
    std::fprintf(stderr,
                 "wal_compare: refusing to run: %s is on %s (statfs f_type 0x%llx). fdatasync "
                 "there never reaches a disk, so every system would look free and the "
                 "comparison would measure nothing. Pass --tmpdir on a real disk.\n",
                 flags.tmp_base.c_str(), context.fs_name.c_str(),
                 static_cast<unsigned long long>(base_fs.f_type));
    return "";
  }
  std::string root = flags.tmp_base + "/faultline-wal-compare-XXXXXX";
  if (mkdtemp(root.data()) == nullptr) {
    std::fprintf(stderr, "wal_compare: mkdtemp under %s: %s\n", flags.tmp_base.c_str(),
                 std::strerror(errno));
    return "";
  }
  return root;
}

// Prints the report and writes it to --out; the process exit code.
int Output(const std::string& report, const Flags& flags) {
  std::fwrite(report.data(), 1, report.size(), stdout);
  std::fflush(stdout);
  if (flags.out_path.empty()) return 0;
  std::ofstream file(flags.out_path, std::ios::binary | std::ios::trunc);
  file << report;
  file.close();
  if (!file) {
    std::fprintf(stderr, "wal_compare: cannot write %s\n", flags.out_path.c_str());
    return 1;
  }
  std::fprintf(stderr, "wrote %s\n", flags.out_path.c_str());
  return 0;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  RunContext context;
  for (int i = 0; i < argc; ++i) context.command += (i > 0 ? " " : "") + ShellQuote(argv[i]);
  context.tmp_base = flags.tmp_base;
  const std::string root = MakeRoot(flags, context);
  if (root.empty()) return 2;

  context.started_at = UtcNow();
  context.load_at_start = LoadAverage();
  context.probe_start = ProbeFdatasync(root);
  std::fprintf(stderr, "fdatasync probe: p50 %.1f us, p99 %.1f us, mean %.1f us\n",
               context.probe_start.p50_us, context.probe_start.p99_us, context.probe_start.mean_us);
  MatrixOptions& options = context.matrix;
  options.repeat = flags.repeat;
  options.cell_seconds = flags.cell_seconds;
  options.min_records = flags.min_records;
  options.records_per_appender = flags.records_per_appender;
  options.pool_loop.io_thread_spin_ns = flags.wal_spin_ns;
  options.pool_loop.loop_completion_spin_ns = flags.wal_spin_ns;
  options.dedicated_loop.inline_when_idle_horizon_ns = flags.inline_horizon_ns;
  context.wal_spin_ns = flags.wal_spin_ns;
  context.inline_horizon_ns = flags.inline_horizon_ns;
  context.hop = ProbeRunBlocking(options.pool_loop);
  std::fprintf(stderr, "RunBlocking round trip: p50 %.1f us, p99 %.1f us\n", context.hop.p50_us,
               context.hop.p99_us);

  const Matrix matrix = RunMatrix(options, root);

  context.probe_end = ProbeFdatasync(root);
  for (size_t record_bytes : kRecordSizesBytes) {
    const size_t frame_bytes = wal::format::FrameBytes(record_bytes);
    context.append_vs_overwrite.push_back(ProbeAppendVsOverwrite(root, frame_bytes, 200));
    context.append_vs_overwrite.push_back(ProbeAppendVsOverwrite(root, 64 * frame_bytes, 100));
  }
  context.load_at_end = LoadAverage();
  RemoveAll(root);
  return Output(WriteReport(matrix, context), flags);
}

}  // namespace
}  // namespace faultline::bench::compare

int main(int argc, char** argv) { return faultline::bench::compare::Main(argc, argv); }
