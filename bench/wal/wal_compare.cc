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
// Output: a Markdown report on stdout and in --out; progress on stderr.
// Refuses to run on tmpfs/ramfs, where fdatasync is free.
// Benchmark code: it may use threads, raw syscalls and real clocks.
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <fmt/format.h>

#include "bench/wal/wal_on_loop.h"
#include "core/base/check.h"
#include "core/posix/event_loop.h"
#include "core/posix/posix_file_system.h"
#include "core/runtime/spawn.h"
#include "core/wal/format.h"
#include "core/wal/wal.h"

#if defined(FAULTLINE_BENCH_SQLITE)
#include <sqlite3.h>
#endif
#if defined(FAULTLINE_BENCH_LEVELDB)
#include <leveldb/db.h>
#include <leveldb/options.h>
#endif
#if defined(FAULTLINE_BENCH_ROCKSDB)
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#endif

namespace faultline::wal {
namespace {

constexpr size_t kRecordSizesBytes[] = {100, 4096};
constexpr int kAppenderCounts[] = {1, 8, 64};
constexpr int kFdatasyncProbes = 50;

// --- systems -------------------------------------------------------------

enum System : int { kWal = 0, kWalPool, kRaw, kSqlite, kLevelDb, kRocksDb, kSystemCount };
// The two WAL configurations, and the peers each is compared with.
constexpr System kWalSystems[] = {kWal, kWalPool};
constexpr System kPeerSystems[] = {kSqlite, kLevelDb, kRocksDb};

const char* SystemName(int system) {
  switch (system) {
    case kWal: return "WAL";
    case kWalPool: return "WAL-pool";
    case kRaw: return "raw";
    case kSqlite: return "SQLite";
    case kLevelDb: return "LevelDB";
    case kRocksDb: return "RocksDB";
    default: break;
  }
  return "?";
}

bool SystemAvailable(System system) {
  switch (system) {
    case kWal:
    case kWalPool:
    case kRaw:
      return true;
    case kSqlite:
#if defined(FAULTLINE_BENCH_SQLITE)
      return true;
#else
      return false;
#endif
    case kLevelDb:
#if defined(FAULTLINE_BENCH_LEVELDB)
      return true;
#else
      return false;
#endif
    case kRocksDb:
#if defined(FAULTLINE_BENCH_ROCKSDB)
      return true;
#else
      return false;
#endif
    case kSystemCount:
      break;
  }
  return false;
}

// --- small helpers -----------------------------------------------------------

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU time consumed by the calling thread.
int64_t ThreadCpuNs() {
  timespec now{};
  FAULTLINE_CHECK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// Nearest-rank percentile of an unsorted sample (sorted in place).
double PercentileNs(std::vector<int64_t>& sample_ns, double fraction) {
  if (sample_ns.empty()) return 0;
  std::sort(sample_ns.begin(), sample_ns.end());
  const double rank = std::ceil(fraction * static_cast<double>(sample_ns.size()));
  const size_t index = static_cast<size_t>(std::max(1.0, rank)) - 1;
  return static_cast<double>(sample_ns[std::min(index, sample_ns.size() - 1)]);
}

double Median(std::vector<double> values) {
  FAULTLINE_CHECK(!values.empty());
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

std::string FileSystemName(int64_t f_type) {
  switch (static_cast<uint64_t>(f_type) & 0xffffffffu) {
    case EXT4_SUPER_MAGIC: return "ext2/ext3/ext4";
    case XFS_SUPER_MAGIC: return "xfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    case TMPFS_MAGIC: return "tmpfs";
    case RAMFS_MAGIC: return "ramfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
    case 0x2fc12fc1: return "zfs";
    case F2FS_SUPER_MAGIC: return "f2fs";
    default: break;
  }
  return "unknown";
}

// Writes all of `bytes` at `offset_bytes` or aborts.
void PwriteAll(int fd, const std::string& bytes, uint64_t offset_bytes) {
  size_t done_bytes = 0;
  while (done_bytes < bytes.size()) {
    const ssize_t n = pwrite(fd, bytes.data() + done_bytes, bytes.size() - done_bytes,
                             static_cast<off_t>(offset_bytes + done_bytes));
    if (n < 0 && errno == EINTR) continue;
    FAULTLINE_CHECK_MSG(n > 0, std::strerror(errno));
    done_bytes += static_cast<size_t>(n);
  }
}

void RemoveAll(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

// --- one cell's measurement ----------------------------------------------------

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

CellStats Summarize(Measurement& m) {
  CellStats stats;
  stats.records = m.records;
  stats.records_per_s =
      static_cast<double>(m.records) * 1e9 / static_cast<double>(std::max<int64_t>(1, m.elapsed_ns));
  stats.p50_us = PercentileNs(m.latencies_ns, 0.50) / 1e3;
  stats.p99_us = PercentileNs(m.latencies_ns, 0.99) / 1e3;
  return stats;
}

// What the WAL's stats and the loop thread's CPU clock say about one cell.
struct WalCellInfo {
  double records_per_sync = 0;  // records_written / file_syncs over the cell
  // CPU time of the event loop's thread per batch: appenders, flusher,
  // completions, and the write+sync itself when the loop runs it inline.
  double loop_cpu_us_per_batch = 0;
};

// (a) Faultline's WAL.
Measurement RunWal(const std::string& dir, size_t record_bytes, int appenders,
                   const CellLimits& limits, const posix::EventLoopOptions& loop_options,
                   WalCellInfo* info) {
  posix::EventLoop loop(loop_options);
  auto fs = posix::PosixFileSystem::Open(loop, dir);
  FAULTLINE_CHECK(fs.ok());
  std::unique_ptr<Wal> wal = OpenWalOnLoop(loop, **fs, "wal");
  const WalStats before = wal->stats();

  const std::string payload(record_bytes, 'w');
  Measurement m;
  m.latencies_ns.reserve(limits.max_records);
  loop.StartFiber("cell", [&] {
    const int64_t start_ns = loop.NowNs();
    const int64_t deadline_ns = start_ns + limits.max_duration_ns;
    uint64_t claimed = 0;
    std::vector<runtime::JoinHandle> fibers;
    for (int a = 0; a < appenders; ++a) {
      fibers.push_back(runtime::Spawn(loop, "appender", [&] {
        while (claimed < limits.max_records && loop.NowNs() < deadline_ns) {
          ++claimed;
          const int64_t append_ns = loop.NowNs();
          auto appended = wal->Append(payload);
          FAULTLINE_CHECK(appended.ok());
          FAULTLINE_CHECK(appended->durable.Get().ok());
          m.latencies_ns.push_back(loop.NowNs() - append_ns);
        }
      }));
    }
    for (auto& fiber : fibers) fiber.Join();
    m.elapsed_ns = loop.NowNs() - start_ns;
    loop.Stop();
  });
  const int64_t loop_cpu_start_ns = ThreadCpuNs();  // Run() runs the loop on this thread
  loop.Run();
  const int64_t loop_cpu_ns = ThreadCpuNs() - loop_cpu_start_ns;
  m.records = m.latencies_ns.size();

  const WalStats after = wal->stats();
  const uint64_t written = after.records_written - before.records_written;
  const uint64_t syncs = after.file_syncs - before.file_syncs;
  FAULTLINE_CHECK(written == m.records);
  info->records_per_sync =
      static_cast<double>(written) / static_cast<double>(std::max<uint64_t>(1, syncs));
  info->loop_cpu_us_per_batch =
      static_cast<double>(loop_cpu_ns) / 1e3 / static_cast<double>(std::max<uint64_t>(1, syncs));

  CloseWalOnLoop(loop, std::move(wal));
  return m;
}

// (b) One thread: batches of `batch_records` frames, one pwrite + one
// fdatasync each, appended to a fresh file like the WAL's segment. Every
// record of a batch has the batch's latency (pwrite start to fdatasync end).
Measurement RunRaw(const std::string& dir, size_t record_bytes, uint64_t batch_records,
                   const CellLimits& limits) {
  const std::string path = dir + "/raw.log";
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  FAULTLINE_CHECK(fd >= 0);
  const std::string batch(batch_records * format::FrameBytes(record_bytes), 'r');
  Measurement m;
  m.latencies_ns.reserve(limits.max_records + batch_records);
  uint64_t offset_bytes = 0;
  const int64_t start_ns = SteadyNowNs();
  const int64_t deadline_ns = start_ns + limits.max_duration_ns;
  while (m.records < limits.max_records && SteadyNowNs() < deadline_ns) {
    const int64_t write_ns = SteadyNowNs();
    PwriteAll(fd, batch, offset_bytes);
    FAULTLINE_CHECK_MSG(fdatasync(fd) == 0, std::strerror(errno));
    const int64_t latency_ns = SteadyNowNs() - write_ns;
    m.latencies_ns.insert(m.latencies_ns.end(), batch_records, latency_ns);
    m.records += batch_records;
    offset_bytes += batch.size();
  }
  m.elapsed_ns = SteadyNowNs() - start_ns;
  close(fd);
  return m;
}

// A per-thread writer of one durable record per call (systems c, d, e).
// Constructed and destroyed on its thread, outside the timed part.
class ThreadWriter {
 public:
  virtual ~ThreadWriter() = default;
  virtual void Write(uint64_t ticket) = 0;
};

// N threads, each making its writer, then (all released together) writing
// records until the cell's record budget or deadline is used up.
template <typename MakeWriter>
Measurement RunThreads(int threads, const CellLimits& limits, MakeWriter make_writer) {
  std::latch ready(threads);
  std::latch go(1);
  std::latch finished(threads);
  std::atomic<uint64_t> claimed{0};
  int64_t start_ns = 0;
  int64_t deadline_ns = 0;
  std::vector<std::vector<int64_t>> latencies_ns(static_cast<size_t>(threads));
  std::vector<int64_t> end_ns(static_cast<size_t>(threads), 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::unique_ptr<ThreadWriter> writer = make_writer(t);
      std::vector<int64_t>& mine_ns = latencies_ns[static_cast<size_t>(t)];
      mine_ns.reserve(limits.max_records / static_cast<uint64_t>(threads) + 16);
      ready.count_down();
      go.wait();
      for (;;) {
        const uint64_t ticket = claimed.fetch_add(1);
        if (ticket >= limits.max_records) break;
        const int64_t write_ns = SteadyNowNs();
        if (write_ns >= deadline_ns) break;
        writer->Write(ticket);
        mine_ns.push_back(SteadyNowNs() - write_ns);
      }
      end_ns[static_cast<size_t>(t)] = SteadyNowNs();
      finished.arrive_and_wait();  // no teardown while others still write
    });
  }
  ready.wait();
  start_ns = SteadyNowNs();
  deadline_ns = start_ns + limits.max_duration_ns;
  go.count_down();
  for (auto& worker : workers) worker.join();
  Measurement m;
  for (auto& part_ns : latencies_ns) {
    m.latencies_ns.insert(m.latencies_ns.end(), part_ns.begin(), part_ns.end());
  }
  m.records = m.latencies_ns.size();
  m.elapsed_ns = *std::max_element(end_ns.begin(), end_ns.end()) - start_ns;
  return m;
}

std::string KeyFor(uint64_t ticket) { return fmt::format("{:016}", ticket); }

#if defined(FAULTLINE_BENCH_SQLITE)
// SQLITE_BUSY retries over the whole run (the busy handler waits first).
std::atomic<uint64_t> g_sqlite_busy_retries{0};

class SqliteWriter final : public ThreadWriter {
 public:
  SqliteWriter(const std::string& path, size_t record_bytes) : payload_(record_bytes, 's') {
    FAULTLINE_CHECK(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                    nullptr) == SQLITE_OK);
    FAULTLINE_CHECK(sqlite3_busy_timeout(db_, 30'000) == SQLITE_OK);
    FAULTLINE_CHECK(sqlite3_exec(db_, "PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr) ==
                    SQLITE_OK);
    FAULTLINE_CHECK(sqlite3_prepare_v2(db_, "INSERT INTO log(payload) VALUES (?)", -1, &insert_,
                                       nullptr) == SQLITE_OK);
  }
  ~SqliteWriter() override {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }
  void Write(uint64_t /*ticket*/) override {
    for (;;) {
      FAULTLINE_CHECK(sqlite3_bind_blob(insert_, 1, payload_.data(),
                                        static_cast<int>(payload_.size()),
                                        SQLITE_STATIC) == SQLITE_OK);
      const int rc = sqlite3_step(insert_);  // autocommit: one durable commit
      sqlite3_reset(insert_);
      if (rc == SQLITE_DONE) return;
      if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        g_sqlite_busy_retries.fetch_add(1);
        continue;
      }
      FAULTLINE_CHECK_MSG(false, sqlite3_errmsg(db_));
    }
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  std::string payload_;
};

Measurement RunSqlite(const std::string& dir, size_t record_bytes, int threads,
                      const CellLimits& limits) {
  const std::string path = dir + "/bench.db";
  sqlite3* setup = nullptr;
  FAULTLINE_CHECK(sqlite3_open(path.c_str(), &setup) == SQLITE_OK);
  FAULTLINE_CHECK(sqlite3_exec(setup,
                               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                               "CREATE TABLE log(seq INTEGER PRIMARY KEY, payload BLOB);",
                               nullptr, nullptr, nullptr) == SQLITE_OK);
  Measurement m = RunThreads(threads, limits, [&](int) -> std::unique_ptr<ThreadWriter> {
    return std::make_unique<SqliteWriter>(path, record_bytes);
  });
  sqlite3_close(setup);
  return m;
}
#endif

#if defined(FAULTLINE_BENCH_LEVELDB)
class LevelDbWriter final : public ThreadWriter {
 public:
  LevelDbWriter(leveldb::DB* db, size_t record_bytes) : db_(db), value_(record_bytes, 'l') {
    options_.sync = true;
  }
  void Write(uint64_t ticket) override {
    const leveldb::Status status = db_->Put(options_, KeyFor(ticket), value_);
    FAULTLINE_CHECK_MSG(status.ok(), status.ToString().c_str());
  }

 private:
  leveldb::DB* db_;
  leveldb::WriteOptions options_;
  std::string value_;
};

Measurement RunLevelDb(const std::string& dir, size_t record_bytes, int threads,
                       const CellLimits& limits) {
  leveldb::Options options;
  options.create_if_missing = true;
  leveldb::DB* db = nullptr;
  FAULTLINE_CHECK(leveldb::DB::Open(options, dir + "/leveldb", &db).ok());
  Measurement m = RunThreads(threads, limits, [&](int) -> std::unique_ptr<ThreadWriter> {
    return std::make_unique<LevelDbWriter>(db, record_bytes);
  });
  delete db;
  return m;
}
#endif

#if defined(FAULTLINE_BENCH_ROCKSDB)
class RocksDbWriter final : public ThreadWriter {
 public:
  RocksDbWriter(rocksdb::DB* db, size_t record_bytes) : db_(db), value_(record_bytes, 'k') {
    options_.sync = true;
  }
  void Write(uint64_t ticket) override {
    const rocksdb::Status status = db_->Put(options_, KeyFor(ticket), value_);
    FAULTLINE_CHECK_MSG(status.ok(), status.ToString().c_str());
  }

 private:
  rocksdb::DB* db_;
  rocksdb::WriteOptions options_;
  std::string value_;
};

Measurement RunRocksDb(const std::string& dir, size_t record_bytes, int threads,
                       const CellLimits& limits) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  FAULTLINE_CHECK(rocksdb::DB::Open(options, dir + "/rocksdb", &db).ok());
  Measurement m = RunThreads(threads, limits, [&](int) -> std::unique_ptr<ThreadWriter> {
    return std::make_unique<RocksDbWriter>(db, record_bytes);
  });
  FAULTLINE_CHECK(db->Close().ok());
  delete db;
  return m;
}
#endif

// --- the machine -------------------------------------------------------------

struct SyncProbe {
  double p50_us = 0;
  double p99_us = 0;
  double mean_us = 0;
};

// kFdatasyncProbes single-byte pwrite + fdatasync pairs on a fresh file.
SyncProbe ProbeFdatasync(const std::string& dir) {
  const std::string path = dir + "/probe.bin";
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  FAULTLINE_CHECK(fd >= 0);
  const std::string byte(1, 'p');
  std::vector<int64_t> latencies_ns;
  int64_t total_ns = 0;
  for (int i = 0; i < kFdatasyncProbes; ++i) {
    const int64_t start_ns = SteadyNowNs();
    PwriteAll(fd, byte, static_cast<uint64_t>(i));
    FAULTLINE_CHECK_MSG(fdatasync(fd) == 0, std::strerror(errno));
    latencies_ns.push_back(SteadyNowNs() - start_ns);
    total_ns += latencies_ns.back();
  }
  close(fd);
  unlink(path.c_str());
  SyncProbe probe;
  probe.mean_us = static_cast<double>(total_ns) / kFdatasyncProbes / 1e3;
  probe.p50_us = PercentileNs(latencies_ns, 0.50) / 1e3;
  probe.p99_us = PercentileNs(latencies_ns, 0.99) / 1e3;
  return probe;
}

// What one pwrite+fdatasync of `bytes` costs when it appends to a file
// (the sync must also make the new size and extents durable) and when it
// overwrites space that was written and synced before (data only).
struct AppendVsOverwrite {
  size_t bytes = 0;
  double append_us = 0;     // mean, median over the rounds
  double overwrite_us = 0;  // mean, median over the rounds
};

AppendVsOverwrite ProbeAppendVsOverwrite(const std::string& dir, size_t bytes, int writes) {
  constexpr int kRounds = 3;
  const std::string data(bytes, 'a');
  auto timed_writes = [&](int fd) {
    const int64_t start_ns = SteadyNowNs();
    for (int i = 0; i < writes; ++i) {
      PwriteAll(fd, data, static_cast<uint64_t>(i) * bytes);
      FAULTLINE_CHECK_MSG(fdatasync(fd) == 0, std::strerror(errno));
    }
    return static_cast<double>(SteadyNowNs() - start_ns) / 1e3 / writes;
  };
  std::vector<double> append_us;
  std::vector<double> overwrite_us;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir + "/append-vs-overwrite.bin";
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    FAULTLINE_CHECK(fd >= 0);
    append_us.push_back(timed_writes(fd));
    close(fd);
    unlink(path.c_str());
    fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    FAULTLINE_CHECK(fd >= 0);
    PwriteAll(fd, std::string(bytes * static_cast<size_t>(writes), '\0'), 0);
    FAULTLINE_CHECK_MSG(fsync(fd) == 0, std::strerror(errno));
    overwrite_us.push_back(timed_writes(fd));
    close(fd);
    unlink(path.c_str());
  }
  return {bytes, Median(append_us), Median(overwrite_us)};
}

struct HopProbe {
  double p50_us = 0;
  double p99_us = 0;
};

// Round trips of an empty EventLoop::RunBlocking job (loop thread -> I/O
// thread -> loop thread), the hop WAL-pool's flusher makes once per batch
// (File::WriteAtAndSync).
HopProbe ProbeRunBlocking(const posix::EventLoopOptions& loop_options) {
  constexpr int kHops = 2000;
  posix::EventLoop loop(loop_options);
  std::vector<int64_t> latencies_ns;
  latencies_ns.reserve(kHops);
  loop.StartFiber("hops", [&] {
    for (int i = 0; i < kHops; ++i) {
      const int64_t start_ns = loop.NowNs();
      loop.RunBlocking([] {});
      latencies_ns.push_back(loop.NowNs() - start_ns);
    }
  });
  loop.Run();
  HopProbe probe;
  probe.p50_us = PercentileNs(latencies_ns, 0.50) / 1e3;
  probe.p99_us = PercentileNs(latencies_ns, 0.99) / 1e3;
  return probe;
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string LoadAverage() {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) return "unknown";
  return fmt::format("{:.2f} {:.2f} {:.2f}", load[0], load[1], load[2]);
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

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

// --- the matrix --------------------------------------------------------------

struct CellKey {
  size_t record_bytes;
  int appenders;
};

struct CellRun {
  std::optional<CellStats> stats[kSystemCount];
  WalCellInfo wal[kSystemCount];  // for kWal and kWalPool
  uint64_t raw_batch_records = 0;
};

std::string Rate(double records_per_s) { return fmt::format("{:.0f}", records_per_s); }
std::string Micros(double us) {
  return std::abs(us) < 100 ? fmt::format("{:.1f}", us) : fmt::format("{:.0f}", us);
}
std::string Ratio(double ratio) { return fmt::format("{:.2f}x", ratio); }

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i > 0 ? " " : "") + ShellQuote(argv[i]);

  struct statfs base_fs {};
  if (statfs(flags.tmp_base.c_str(), &base_fs) != 0) {
    std::fprintf(stderr, "wal_compare: statfs(%s): %s\n", flags.tmp_base.c_str(),
                 std::strerror(errno));
    return 2;
  }
  const std::string fs_name = FileSystemName(static_cast<int64_t>(base_fs.f_type));
  if (base_fs.f_type == TMPFS_MAGIC || base_fs.f_type == RAMFS_MAGIC) {
    std::fprintf(stderr,
                 "wal_compare: refusing to run: %s is on %s (statfs f_type 0x%llx). fdatasync "
                 "there never reaches a disk, so every system would look free and the "
                 "comparison would measure nothing. Pass --tmpdir on a real disk.\n",
                 flags.tmp_base.c_str(), fs_name.c_str(),
                 static_cast<unsigned long long>(base_fs.f_type));
    return 2;
  }
  std::string root = flags.tmp_base + "/faultline-wal-compare-XXXXXX";
  if (mkdtemp(root.data()) == nullptr) {
    std::fprintf(stderr, "wal_compare: mkdtemp under %s: %s\n", flags.tmp_base.c_str(),
                 std::strerror(errno));
    return 2;
  }

  const std::string started_at = UtcNow();
  const std::string load_at_start = LoadAverage();
  const SyncProbe probe_start = ProbeFdatasync(root);
  std::fprintf(stderr, "fdatasync probe: p50 %.1f us, p99 %.1f us, mean %.1f us\n",
               probe_start.p50_us, probe_start.p99_us, probe_start.mean_us);
  posix::EventLoopOptions pool_loop_options;
  pool_loop_options.io_thread_spin_ns = flags.wal_spin_ns;
  pool_loop_options.loop_completion_spin_ns = flags.wal_spin_ns;
  posix::EventLoopOptions dedicated_loop_options;
  dedicated_loop_options.inline_when_idle_horizon_ns = flags.inline_horizon_ns;
  const HopProbe hop = ProbeRunBlocking(pool_loop_options);
  std::fprintf(stderr, "RunBlocking round trip: p50 %.1f us, p99 %.1f us\n", hop.p50_us,
               hop.p99_us);

  std::vector<CellKey> cells;
  for (size_t record_bytes : kRecordSizesBytes) {
    for (int appenders : kAppenderCounts) cells.push_back({record_bytes, appenders});
  }
  // runs[repeat][cell]
  std::vector<std::vector<CellRun>> runs(static_cast<size_t>(flags.repeat),
                                         std::vector<CellRun>(cells.size()));
  const int64_t matrix_start_ns = SteadyNowNs();
  for (int r = 0; r < flags.repeat; ++r) {
    for (size_t c = 0; c < cells.size(); ++c) {
      const CellKey& key = cells[c];
      CellRun& run = runs[static_cast<size_t>(r)][c];
      const CellLimits limits{
          .max_records = std::max(flags.min_records,
                                  flags.records_per_appender * static_cast<uint64_t>(key.appenders)),
          .max_duration_ns = static_cast<int64_t>(flags.cell_seconds * 1e9)};
      const std::string cell_dir =
          fmt::format("{}/r{}-{}B-{}", root, r, key.record_bytes, key.appenders);
      for (int s = 0; s < kSystemCount; ++s) {
        const System system = static_cast<System>(s);
        if (!SystemAvailable(system)) continue;
        const std::string dir = cell_dir + "-" + SystemName(s);
        std::filesystem::create_directory(dir);
        Measurement m;
        switch (system) {
          case kWal:
            m = RunWal(dir, key.record_bytes, key.appenders, limits, dedicated_loop_options,
                       &run.wal[kWal]);
            break;
          case kWalPool:
            m = RunWal(dir, key.record_bytes, key.appenders, limits, pool_loop_options,
                       &run.wal[kWalPool]);
            break;
          case kRaw:
            run.raw_batch_records = std::max<uint64_t>(
                1, static_cast<uint64_t>(std::llround(run.wal[kWal].records_per_sync)));
            m = RunRaw(dir, key.record_bytes, run.raw_batch_records, limits);
            break;
          case kSqlite:
#if defined(FAULTLINE_BENCH_SQLITE)
            m = RunSqlite(dir, key.record_bytes, key.appenders, limits);
#endif
            break;
          case kLevelDb:
#if defined(FAULTLINE_BENCH_LEVELDB)
            m = RunLevelDb(dir, key.record_bytes, key.appenders, limits);
#endif
            break;
          case kRocksDb:
#if defined(FAULTLINE_BENCH_ROCKSDB)
            m = RunRocksDb(dir, key.record_bytes, key.appenders, limits);
#endif
            break;
          case kSystemCount:
            break;
        }
        RemoveAll(dir);
        run.stats[s] = Summarize(m);
      }
      std::fprintf(stderr, "[repeat %d/%d] %4zu B x %2d:", r + 1, flags.repeat, key.record_bytes,
                   key.appenders);
      for (int s = 0; s < kSystemCount; ++s) {
        if (run.stats[s].has_value()) {
          std::fprintf(stderr, "  %s %.0f/s", SystemName(s), run.stats[s]->records_per_s);
        }
      }
      std::fprintf(stderr, "  (WAL %.1f, WAL-pool %.1f rec/sync)\n", run.wal[kWal].records_per_sync,
                   run.wal[kWalPool].records_per_sync);
    }
  }
  const double matrix_s = static_cast<double>(SteadyNowNs() - matrix_start_ns) / 1e9;
  const SyncProbe probe_end = ProbeFdatasync(root);
  std::vector<AppendVsOverwrite> append_vs_overwrite;
  for (size_t record_bytes : kRecordSizesBytes) {
    const size_t frame_bytes = format::FrameBytes(record_bytes);
    append_vs_overwrite.push_back(ProbeAppendVsOverwrite(root, frame_bytes, 200));
    append_vs_overwrite.push_back(ProbeAppendVsOverwrite(root, 64 * frame_bytes, 100));
  }
  const std::string load_at_end = LoadAverage();
  RemoveAll(root);

  // --- aggregate ---
  auto median_of = [&](size_t c, auto&& value) {
    std::vector<double> values;
    for (const auto& repeat_runs : runs) values.push_back(value(repeat_runs[c]));
    return Median(std::move(values));
  };
  auto rate = [](const CellRun& run, System s) { return run.stats[s]->records_per_s; };
  auto index_of = [&](size_t record_bytes, int appenders) {
    for (size_t c = 0; c < cells.size(); ++c) {
      if (cells[c].record_bytes == record_bytes && cells[c].appenders == appenders) return c;
    }
    FAULTLINE_CHECK(false);
    return size_t{0};
  };
  std::vector<System> shown;
  for (int s = 0; s < kSystemCount; ++s) {
    if (SystemAvailable(static_cast<System>(s))) shown.push_back(static_cast<System>(s));
  }
  std::vector<System> peers;
  for (System s : kPeerSystems) {
    if (SystemAvailable(s)) peers.push_back(s);
  }
  // Per-cell medians of per-repeat ratios: ratio_of[w][other][c] is WAL
  // system w over `other`; scaling[w][c] is w with N appenders over w with 1.
  std::vector<double> ratio_of[kSystemCount][kSystemCount];
  std::vector<double> scaling[kSystemCount];
  for (System w : kWalSystems) {
    for (int other = 0; other < kSystemCount; ++other) {
      ratio_of[w][other].assign(cells.size(), 0);
      if (!SystemAvailable(static_cast<System>(other))) continue;
      for (size_t c = 0; c < cells.size(); ++c) {
        ratio_of[w][other][c] = median_of(c, [&](const CellRun& run) {
          return rate(run, w) / rate(run, static_cast<System>(other));
        });
      }
    }
  }
  // The raw loop's own scaling is the disk's: what the WAL's scaling goal
  // can reach at most.
  for (System s : {kWal, kWalPool, kRaw}) {
    scaling[s].assign(cells.size(), 0);
    for (size_t c = 0; c < cells.size(); ++c) {
      const size_t single = index_of(cells[c].record_bytes, 1);
      std::vector<double> per_repeat;
      for (const auto& repeat_runs : runs) {
        per_repeat.push_back(rate(repeat_runs[c], s) / rate(repeat_runs[single], s));
      }
      scaling[s][c] = Median(std::move(per_repeat));
    }
  }

  std::string out;
  auto emit = [&out](std::string_view text) { out.append(text); };
  auto cell_label = [&](size_t c) {
    return fmt::format("| {} B | {} |", cells[c].record_bytes, cells[c].appenders);
  };
  struct utsname uts {};
  uname(&uts);
  emit("# WAL benchmark: durable appends, side by side (issue #5)\n\n");
  emit("Generated by `bench/wal/wal_compare` (bench/wal/compare.sh); do not edit by hand.\n\n");
  emit(fmt::format("- Date: {} (run took {:.0f} s)\n", started_at, matrix_s));
  emit(fmt::format("- Command: `{}`\n", command));
  emit(fmt::format("- Machine: nproc {}, {}, Linux {}\n", std::thread::hardware_concurrency(),
                   CpuModel(), uts.release));
  emit(fmt::format("- Load average (1/5/15 min): {} at start, {} at end\n", load_at_start,
                   load_at_end));
  emit(fmt::format("- Directory: mkdtemp under {} on {} (statfs f_type 0x{:x}), removed afterwards\n",
                   flags.tmp_base, fs_name, static_cast<uint64_t>(base_fs.f_type)));
  emit(fmt::format(
      "- fdatasync latency ({} single-byte pwrite+fdatasync): at start p50 {} us, p99 {} us, "
      "mean {} us; at end p50 {} us, p99 {} us, mean {} us\n",
      kFdatasyncProbes, Micros(probe_start.p50_us), Micros(probe_start.p99_us),
      Micros(probe_start.mean_us), Micros(probe_end.p50_us), Micros(probe_end.p99_us),
      Micros(probe_end.mean_us)));
  emit(fmt::format("- EventLoop::RunBlocking round trip (empty job, 2000 times, WAL-pool loop "
                   "options): p50 {} us, p99 {} us\n",
                   Micros(hop.p50_us), Micros(hop.p99_us)));
  emit(fmt::format("- Per cell: max({}, {} x appenders) records or {} s, whichever comes first; "
                   "matrix repeated {} times, cells interleaved; values are medians over the "
                   "repeats, ratios are medians of per-repeat ratios\n",
                   flags.min_records, flags.records_per_appender, flags.cell_seconds,
                   flags.repeat));
  emit("\nSystems:\n\n");
  emit(fmt::format(
      "- **WAL**: Faultline core/wal on core/posix, default WalOptions, on an EventLoop dedicated "
      "to it (EventLoopOptions::inline_when_idle_horizon_ns = {}: when no other fiber, blocking "
      "call, fd or timer within the horizon needs the loop, the flusher's write+fdatasync runs on "
      "the loop thread, like a dedicated flush thread); N fibers on that loop, each appends one "
      "record and waits for its durable future, repeat. Latency: Append call to durable, "
      "EventLoop::NowNs.\n",
      flags.inline_horizon_ns));
  emit("- **WAL-pool**: the same with default EventLoopOptions (4 I/O threads, " +
       (flags.wal_spin_ns == 0 ? std::string("no spinning")
                               : fmt::format("io_thread_spin_ns = loop_completion_spin_ns = {}",
                                             flags.wal_spin_ns)) +
       "): every write+fdatasync is handed to an I/O thread and its completion back to the "
       "loop, as on a loop that also serves sockets and timers.\n");
  emit("- **raw**: one thread, one pwrite + one fdatasync per batch of k records, k = WAL's "
       "records_written / file_syncs in the same cell (rounded, >= 1), each record "
       "24 + size bytes like a WAL frame, appended to a fresh file. The physical limit at equal "
       "batch size. Latency: the batch's pwrite start to fdatasync end.\n");
  emit(std::string("- **SQLite**: ") +
       (SystemAvailable(kSqlite)
            ? "journal_mode=WAL, synchronous=FULL, one INSERT (autocommit transaction) per "
              "record; N threads, each with its own connection (busy_timeout 30 s) to one file."
            : "not built (sqlite3 not found).") +
       "\n");
  emit(std::string("- **LevelDB**: ") +
       (SystemAvailable(kLevelDb)
            ? "Put with WriteOptions.sync=true, default Options; N threads share one DB."
            : "not built (leveldb not found).") +
       "\n");
  emit(std::string("- **RocksDB**: ") +
       (SystemAvailable(kRocksDb)
            ? "Put with WriteOptions.sync=true, default Options; N threads share one DB."
            : "skipped: not built (librocksdb not found).") +
       "\n");
  emit("\nLatency is the acknowledgement latency of each record in microseconds; records/s "
       "counts durable records per second of wall time.\n\n");

  // Throughput.
  emit("## Durable records per second\n\n| Record | Appenders | WAL rec/sync | WAL-pool rec/sync |");
  for (System s : shown) emit(fmt::format(" {} |", SystemName(s)));
  emit("\n|---|---|---|---|");
  for (size_t i = 0; i < shown.size(); ++i) emit("---|");
  emit("\n");
  for (size_t c = 0; c < cells.size(); ++c) {
    emit(cell_label(c));
    for (System w : kWalSystems) {
      emit(fmt::format(" {:.1f} |",
                       median_of(c, [&](const CellRun& run) { return run.wal[w].records_per_sync; })));
    }
    for (System s : shown) {
      emit(fmt::format(" {} |", Rate(median_of(c, [&](const CellRun& run) { return rate(run, s); }))));
    }
    emit("\n");
  }

  // Latency.
  emit("\n## Acknowledgement latency, p50 / p99 µs\n\n| Record | Appenders |");
  for (System s : shown) emit(fmt::format(" {} |", SystemName(s)));
  emit("\n|---|---|");
  for (size_t i = 0; i < shown.size(); ++i) emit("---|");
  emit("\n");
  for (size_t c = 0; c < cells.size(); ++c) {
    emit(cell_label(c));
    for (System s : shown) {
      emit(fmt::format(" {} / {} |",
                       Micros(median_of(c, [&](const CellRun& run) { return run.stats[s]->p50_us; })),
                       Micros(median_of(c, [&](const CellRun& run) { return run.stats[s]->p99_us; }))));
    }
    emit("\n");
  }

  // Ratios.
  emit("\n## Ratios (records/s)\n\nraw(N)/raw(1) is how far the disk itself scales with "
       "batches of N records: the most the WAL(N)/WAL(1) goal can reach.\n\n"
       "| Record | Appenders | raw(N)/raw(1) |");
  for (System w : kWalSystems) {
    emit(fmt::format(" {0}/raw | {0}(N)/{0}(1) |", SystemName(w)));
    for (System p : peers) emit(fmt::format(" {}/{} |", SystemName(w), SystemName(p)));
  }
  emit("\n|---|---|---|");
  for (size_t i = 0; i < std::size(kWalSystems) * (2 + peers.size()); ++i) emit("---|");
  emit("\n");
  for (size_t c = 0; c < cells.size(); ++c) {
    emit(cell_label(c));
    emit(fmt::format(" {} |", Ratio(scaling[kRaw][c])));
    for (System w : kWalSystems) {
      emit(fmt::format(" {} | {} |", Ratio(ratio_of[w][kRaw][c]), Ratio(scaling[w][c])));
      for (System p : peers) emit(fmt::format(" {} |", Ratio(ratio_of[w][p][c])));
    }
    emit("\n");
  }

  // Goals, for each WAL configuration.
  emit("\n## Goals\n");
  for (System w : kWalSystems) {
    emit(fmt::format("\n{}:\n\n", SystemName(w)));
    auto goal = [&](std::string_view what, auto&& value, double bound, bool strictly_above,
                    bool only_64) {
      bool met = true;
      std::string detail;
      for (size_t c = 0; c < cells.size(); ++c) {
        if (only_64 && cells[c].appenders != 64) continue;
        const double v = value(c);
        met = met && (strictly_above ? v > bound : v >= bound);
        detail += fmt::format("{}{} B x {}: {}", detail.empty() ? "" : "; ",
                              cells[c].record_bytes, cells[c].appenders, Ratio(v));
      }
      emit(fmt::format("- {}: **{}** ({})\n", what, met ? "met" : "not met", detail));
    };
    goal("64 appenders reach at least 20x the single-appender rate",
         [&](size_t c) { return scaling[w][c]; }, 20, false, true);
    goal("At least 0.8x the raw pwrite+fdatasync limit at equal batch sizes, in every cell",
         [&](size_t c) { return ratio_of[w][kRaw][c]; }, 0.8, false, false);
    for (System p : {kSqlite, kLevelDb}) {
      if (!SystemAvailable(p)) {
        emit(fmt::format("- Ahead of {}: **not measured** ({} not built)\n", SystemName(p),
                         SystemName(p)));
        continue;
      }
      goal(fmt::format("Ahead of {} (more durable records/s) in every cell", SystemName(p)),
           [&](size_t c) { return ratio_of[w][p][c]; }, 1, true, false);
    }
  }

  // Where the WAL's time goes, per batch.
  emit("\n## Where the WAL's time goes, per batch\n\n"
       "Time per batch = records per batch / records per second (each WAL configuration: its "
       "measured average batch; raw: WAL's batch rounded). The gap is what the configuration "
       "adds on top of one pwrite + one fdatasync of the same bytes. Loop CPU is the CPU time "
       "of the event loop's thread per batch: appenders, flusher, completions, fiber switches "
       "and, for WAL, the pwrite and fdatasync calls it makes inline. WAL-pool's flusher "
       "instead makes one RunBlocking round trip per batch (File::WriteAtAndSync: pwrite and "
       "fdatasync on one I/O thread), costing about the round trip measured above on top of "
       "the syscalls. Medians over the repeats.\n\n");
  emit("| Record | Appenders | raw µs/batch | WAL µs/batch | WAL gap µs | WAL loop CPU µs/batch "
       "| WAL-pool µs/batch | WAL-pool gap µs | WAL-pool loop CPU µs/batch | RunBlocking p50 µs "
       "|\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t c = 0; c < cells.size(); ++c) {
    auto raw_us = [&](const CellRun& run) {
      return static_cast<double>(run.raw_batch_records) * 1e6 / rate(run, kRaw);
    };
    emit(cell_label(c));
    emit(fmt::format(" {} |", Micros(median_of(c, raw_us))));
    for (System w : kWalSystems) {
      auto wal_us = [&](const CellRun& run) {
        return run.wal[w].records_per_sync * 1e6 / rate(run, w);
      };
      emit(fmt::format(
          " {} | {} | {} |", Micros(median_of(c, wal_us)),
          Micros(median_of(c, [&](const CellRun& run) { return wal_us(run) - raw_us(run); })),
          Micros(median_of(c, [&](const CellRun& run) { return run.wal[w].loop_cpu_us_per_batch; }))));
    }
    emit(fmt::format(" {} |\n", Micros(hop.p50_us)));
  }

  // The disk itself: appending vs overwriting.
  emit("\n## The disk: appending vs overwriting\n\n"
       "Mean time of one pwrite + fdatasync of a batch's bytes, appending to a fresh file "
       "(as WAL, WAL-pool, raw, LevelDB and RocksDB do: each sync must also make the file's new "
       "size and extents durable) and overwriting space written and synced beforehand (data "
       "only; SQLite restarts its -wal file from the beginning after a checkpoint, so most of "
       "its commits overwrite). Medians of 3 rounds, measured after the matrix.\n\n"
       "| Bytes per sync | append µs | overwrite µs | append/overwrite |\n|---|---|---|---|\n");
  for (const AppendVsOverwrite& probe : append_vs_overwrite) {
    emit(fmt::format("| {} | {} | {} | {} |\n", probe.bytes, Micros(probe.append_us),
                     Micros(probe.overwrite_us), Ratio(probe.append_us / probe.overwrite_us)));
  }

  // Per-repeat detail.
  emit("\n## Per-repeat records/s\n\nThe spread between repeats shows the machine's noise.\n\n");
  emit("| Record | Appenders | Repeat | WAL rec/sync | WAL-pool rec/sync | raw batch |");
  for (System s : shown) emit(fmt::format(" {} |", SystemName(s)));
  emit("\n|---|---|---|---|---|---|");
  for (size_t i = 0; i < shown.size(); ++i) emit("---|");
  emit("\n");
  for (size_t c = 0; c < cells.size(); ++c) {
    for (size_t r = 0; r < runs.size(); ++r) {
      const CellRun& run = runs[r][c];
      emit(cell_label(c));
      emit(fmt::format(" {} | {:.1f} | {:.1f} | {} |", r + 1, run.wal[kWal].records_per_sync,
                       run.wal[kWalPool].records_per_sync, run.raw_batch_records));
      for (System s : shown) emit(fmt::format(" {} |", Rate(rate(run, s))));
      emit("\n");
    }
  }
#if defined(FAULTLINE_BENCH_SQLITE)
  emit(fmt::format("\nSQLite SQLITE_BUSY retries after the busy handler gave up: {}\n",
                   g_sqlite_busy_retries.load()));
#endif

  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (!flags.out_path.empty()) {
    std::ofstream file(flags.out_path, std::ios::binary | std::ios::trunc);
    file << out;
    file.close();
    if (!file) {
      std::fprintf(stderr, "wal_compare: cannot write %s\n", flags.out_path.c_str());
      return 1;
    }
    std::fprintf(stderr, "wrote %s\n", flags.out_path.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace faultline::wal

int main(int argc, char** argv) { return faultline::wal::Main(argc, argv); }
