// bench/wal/wal_bench.cc — what a durable record costs with core/wal on a real
// disk, side by side with the alternatives, in one process and one temp
// directory (/tmp, a real ext4 disk here; on tmpfs fdatasync is free and the
// comparison meaningless):
//
//  * RawPwriteFdatasync: the floor for one writer — pwrite one record, then
//    fdatasync, repeat.
//  * FaultlineWal/appenders:N: N fibers on the core/posix event loop, each
//    appending a record and waiting for its durability future before the
//    next. With N = 1 this is the same work as the floor plus the WAL's
//    framing and the I/O-thread hop; with larger N group commit lets one
//    fdatasync serve many records (counter records_per_sync). With
//    dedicated_loop:1 the loop runs the write+sync itself when idle
//    (EventLoopOptions::inline_when_idle_horizon_ns), without the hop.
//  * SqliteWalMode: one INSERT per transaction, journal_mode=WAL,
//    synchronous=FULL (every commit syncs the WAL file).
//  * LevelDbSync/threads:N: Put with WriteOptions::sync = true; with N
//    threads LevelDB's own writer queue batches them.
//  * SectorAlignment/appenders:N: the WAL with sector-aligned batches (the
//    default, WalOptions::sector_bytes = 4096) and with packed frames
//    (sector_bytes = 0), in alternating rounds: records per second of each,
//    their ratio, and bytes written per record (frames plus padding).
//  * Crc32c{Hardware,Software}: checksum throughput over 4 KiB.
//  * SideBySide: all of the above contenders in alternating rounds, the
//    comparison to quote (see there why).
//
// Each reports items_per_second = durable records per second.
// Benchmark code may use raw syscalls and threads; production code may not.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/common/scratch_dir.h"
#include "bench/common/steady_clock.h"
#include "bench/wal/peers.h"
#include "bench/wal/wal_on_loop.h"
#include "core/base/check.h"
#include "core/posix/event_loop.h"
#include "core/posix/posix_file_system.h"
#include "core/runtime/spawn.h"
#include "core/base/crc32c.h"
#include "core/wal/wal.h"


namespace faultline::wal {
namespace {

constexpr size_t kRecordBytes = 128;
// Records written per benchmark iteration by the WAL benchmark (split among
// its appenders).
constexpr int kRecordsPerRound = 256;
// The raw file is cut back to 0 past this size so long runs stay bounded.
constexpr uint64_t kMaxRawFileBytes = 64ull << 20;

using bench::ScratchDir;

const std::string& Record() {
  static const std::string record(kRecordBytes, 'r');
  return record;
}

void BM_RawPwriteFdatasync(benchmark::State& state) {
  ScratchDir dir("wal-bench");
  const std::string path = dir.path() + "/raw.log";
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  FAULTLINE_CHECK(fd >= 0);
  uint64_t offset = 0;
  for (auto _ : state) {
    FAULTLINE_CHECK(pwrite(fd, Record().data(), Record().size(), static_cast<off_t>(offset)) ==
                    static_cast<ssize_t>(Record().size()));
    FAULTLINE_CHECK(fdatasync(fd) == 0);
    offset += Record().size();
    if (offset >= kMaxRawFileBytes) {
      FAULTLINE_CHECK(ftruncate(fd, 0) == 0);
      offset = 0;
    }
  }
  close(fd);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RawPwriteFdatasync)->UseRealTime();

// One round: `appenders` fibers on `loop` share `total_records` records, each
// appending one and waiting until it is durable before the next.
void AppendRound(posix::EventLoop& loop, Wal& wal, int appenders, int total_records) {
  loop.StartFiber("round", [&] {
    std::vector<runtime::JoinHandle> fibers;
    for (int a = 0; a < appenders; ++a) {
      const int records = total_records / appenders + (a < total_records % appenders ? 1 : 0);
      fibers.push_back(runtime::Spawn(loop, "appender", [&wal, records] {
        for (int i = 0; i < records; ++i) {
          auto appended = wal.Append(Record());
          FAULTLINE_CHECK(appended.ok());
          FAULTLINE_CHECK(appended->durable.Get().ok());
        }
      }));
    }
    for (auto& fiber : fibers) fiber.Join();
    loop.Stop();
  });
  loop.Run();
}

void BM_FaultlineWal(benchmark::State& state) {
  const int appenders = static_cast<int>(state.range(0));
  ScratchDir dir("wal-bench");
  posix::EventLoopOptions loop_options;
  if (state.range(1) != 0) loop_options.inline_when_idle_horizon_ns = 1'000'000;
  posix::EventLoop loop(loop_options);
  auto fs = posix::PosixFileSystem::Open(loop, dir.path());
  FAULTLINE_CHECK(fs.ok());
  std::unique_ptr<Wal> wal = OpenWalOnLoop(loop, **fs, "wal");
  const WalStats before = wal->stats();

  for (auto _ : state) AppendRound(loop, *wal, appenders, kRecordsPerRound);

  const WalStats after = wal->stats();
  CloseWalOnLoop(loop, std::move(wal));
  const double records = static_cast<double>(after.records_written - before.records_written);
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["records_per_sync"] =
      records / static_cast<double>(std::max<uint64_t>(1, after.batches - before.batches));
}
BENCHMARK(BM_FaultlineWal)
    ->ArgsProduct({{1, 8, 64}, {0, 1}})
    ->ArgNames({"appenders", "dedicated_loop"})
    ->UseRealTime();

#if defined(FAULTLINE_BENCH_SQLITE)
void BM_SqliteWalMode(benchmark::State& state) {
  ScratchDir dir("wal-bench");
  std::unique_ptr<bench::PeerStore> sqlite = bench::OpenSqlite(dir.path() + "/bench.db");
  std::unique_ptr<bench::DurableWriter> writer = sqlite->NewWriter(Record());
  uint64_t n = 0;
  for (auto _ : state) writer->Write(n++);  // autocommit: one durable commit
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SqliteWalMode)->UseRealTime();
#endif

#if defined(FAULTLINE_BENCH_LEVELDB)
// Shared by the threads of one run; thread 0 opens and closes it (the
// framework starts and ends the timed loops of all threads together).
std::unique_ptr<bench::PeerStore> g_leveldb;
std::unique_ptr<ScratchDir> g_leveldb_dir;

void BM_LevelDbSync(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_leveldb_dir = std::make_unique<ScratchDir>("wal-bench-leveldb");
    g_leveldb = bench::OpenLevelDb(g_leveldb_dir->path() + "/db");
  }
  // Each thread keys its records apart: tickets thread * 10^12 + n.
  const uint64_t first_ticket = static_cast<uint64_t>(state.thread_index()) * 1'000'000'000'000;
  uint64_t n = 0;
  std::unique_ptr<bench::DurableWriter> writer;
  for (auto _ : state) {
    if (writer == nullptr) writer = g_leveldb->NewWriter(Record());  // the DB is open by now
    writer->Write(first_ticket + n++);
  }
  writer.reset();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (state.thread_index() == 0) {
    g_leveldb.reset();
    g_leveldb_dir.reset();
  }
}
BENCHMARK(BM_LevelDbSync)->Threads(1)->Threads(8)->UseRealTime();
#endif

// --- side by side ------------------------------------------------------------
//
// The device's sync latency on a shared machine drifts by an order of
// magnitude within minutes, so separate benchmarks run minutes apart are not
// comparable. BM_SideBySide runs one round of kSideBySideRecords durable
// records of every contender per iteration, in turn, and reports each one's
// records per second over the same stretch of time (counters *_per_s).

constexpr int kSideBySideRecords = 64;

class RawContender {
 public:
  explicit RawContender(const std::string& dir) {
    fd_ = open((dir + "/raw.log").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    FAULTLINE_CHECK(fd_ >= 0);
  }
  ~RawContender() { close(fd_); }
  void Round() {
    for (int i = 0; i < kSideBySideRecords; ++i) {
      FAULTLINE_CHECK(pwrite(fd_, Record().data(), Record().size(), static_cast<off_t>(offset_)) ==
                      static_cast<ssize_t>(Record().size()));
      FAULTLINE_CHECK(fdatasync(fd_) == 0);
      offset_ += Record().size();
    }
    if (offset_ >= kMaxRawFileBytes) {
      FAULTLINE_CHECK(ftruncate(fd_, 0) == 0);
      offset_ = 0;
    }
  }

 private:
  int fd_ = -1;
  uint64_t offset_ = 0;
};

class WalContender {
 public:
  explicit WalContender(const std::string& dir) : fs_(posix::PosixFileSystem::Open(loop_, dir)) {
    FAULTLINE_CHECK(fs_.ok());
    wal_ = OpenWalOnLoop(loop_, **fs_, "wal");
  }
  ~WalContender() { CloseWalOnLoop(loop_, std::move(wal_)); }
  void Round(int appenders) { AppendRound(loop_, *wal_, appenders, kSideBySideRecords); }

 private:
  posix::EventLoop loop_;
  absl::StatusOr<std::unique_ptr<posix::PosixFileSystem>> fs_;
  std::unique_ptr<Wal> wal_;
};

// SQLite or LevelDB (peers.h), one writer, records keyed by a counter.
class PeerContender {
 public:
  explicit PeerContender(std::unique_ptr<bench::PeerStore> store)
      : store_(std::move(store)), writer_(store_->NewWriter(Record())) {}
  void Round() {
    for (int i = 0; i < kSideBySideRecords; ++i) writer_->Write(n_++);
  }

 private:
  std::unique_ptr<bench::PeerStore> store_;
  std::unique_ptr<bench::DurableWriter> writer_;
  uint64_t n_ = 0;
};

void BM_SideBySide(benchmark::State& state) {
  ScratchDir dir("wal-bench");
  RawContender raw(dir.path());
  WalContender wal(dir.path());
#if defined(FAULTLINE_BENCH_SQLITE)
  PeerContender sqlite(bench::OpenSqlite(dir.path() + "/side.db"));
#endif
#if defined(FAULTLINE_BENCH_LEVELDB)
  PeerContender leveldb(bench::OpenLevelDb(dir.path() + "/side-leveldb"));
#endif
  std::map<std::string, int64_t> elapsed_ns;
  auto timed = [&elapsed_ns](const char* name, auto&& round) {
    const int64_t start_ns = bench::SteadyNowNs();
    round();
    elapsed_ns[name] += bench::SteadyNowNs() - start_ns;
  };
  for (auto _ : state) {
    timed("raw_pwrite_fdatasync", [&] { raw.Round(); });
    timed("wal_1_appender", [&] { wal.Round(1); });
    timed("wal_64_appenders", [&] { wal.Round(64); });
#if defined(FAULTLINE_BENCH_SQLITE)
    timed("sqlite_wal_full", [&] { sqlite.Round(); });
#endif
#if defined(FAULTLINE_BENCH_LEVELDB)
    timed("leveldb_sync", [&] { leveldb.Round(); });
#endif
  }
  const double records = static_cast<double>(state.iterations()) * kSideBySideRecords;
  for (const auto& [name, ns] : elapsed_ns) {
    state.counters[name + "_per_s"] = records * 1e9 / static_cast<double>(std::max<int64_t>(1, ns));
  }
}
BENCHMARK(BM_SideBySide)->UseRealTime()->MinTime(5);

// --- sector alignment ----------------------------------------------------------
//
// What padding every batch to a 4 KiB boundary costs (FORMAT.md, sector
// alignment): the same rounds on an aligned and a packed WAL, alternating,
// so drifting sync latency hits both alike.
class AlignmentContender {
 public:
  AlignmentContender(const std::string& dir, uint32_t sector_bytes)
      : fs_(posix::PosixFileSystem::Open(loop_, dir)) {
    FAULTLINE_CHECK(fs_.ok());
    WalOptions options;
    options.sector_bytes = sector_bytes;
    wal_ = OpenWalOnLoop(loop_, **fs_, "wal", options);
  }
  ~AlignmentContender() { CloseWalOnLoop(loop_, std::move(wal_)); }
  int64_t TimedRound(int appenders) {
    const int64_t start_ns = bench::SteadyNowNs();
    AppendRound(loop_, *wal_, appenders, kRecordsPerRound);
    return bench::SteadyNowNs() - start_ns;
  }
  // Bytes the WAL wrote per record (frames and padding).
  double BytesPerRecord() const {
    const WalStats stats = wal_->stats();
    return static_cast<double>(stats.bytes_written + stats.padding_bytes) /
           static_cast<double>(std::max<uint64_t>(1, stats.records_written));
  }

 private:
  posix::EventLoop loop_;
  absl::StatusOr<std::unique_ptr<posix::PosixFileSystem>> fs_;
  std::unique_ptr<Wal> wal_;
};

void BM_SectorAlignment(benchmark::State& state) {
  const int appenders = static_cast<int>(state.range(0));
  ScratchDir aligned_dir("wal-bench-aligned");
  ScratchDir packed_dir("wal-bench-packed");
  AlignmentContender aligned(aligned_dir.path(), 4096);
  AlignmentContender packed(packed_dir.path(), 0);
  int64_t aligned_ns = 0;
  int64_t packed_ns = 0;
  for (auto _ : state) {
    aligned_ns += aligned.TimedRound(appenders);
    packed_ns += packed.TimedRound(appenders);
  }
  const double records = static_cast<double>(state.iterations()) * kRecordsPerRound;
  const double aligned_per_s = records * 1e9 / static_cast<double>(std::max<int64_t>(1, aligned_ns));
  const double packed_per_s = records * 1e9 / static_cast<double>(std::max<int64_t>(1, packed_ns));
  state.counters["aligned_per_s"] = aligned_per_s;
  state.counters["packed_per_s"] = packed_per_s;
  state.counters["aligned_vs_packed"] = aligned_per_s / packed_per_s;
  state.counters["aligned_bytes_per_record"] = aligned.BytesPerRecord();
  state.counters["packed_bytes_per_record"] = packed.BytesPerRecord();
}
BENCHMARK(BM_SectorAlignment)->Arg(1)->Arg(64)->ArgName("appenders")->UseRealTime()->MinTime(3);

void BM_Crc32cHardware(benchmark::State& state) {
  if (!base::Crc32cHardwareAvailable()) {
    state.SkipWithError("no SSE4.2");
    return;
  }
  const std::string data(4096, 'c');
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = base::Crc32cExtendHardware(crc, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32cHardware);

void BM_Crc32cSoftware(benchmark::State& state) {
  const std::string data(4096, 'c');
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = base::Crc32cExtendSoftware(crc, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32cSoftware);

}  // namespace
}  // namespace faultline::wal

BENCHMARK_MAIN();
