// bench/wal/compare_cells.cc — see compare_cells.h.
#include "bench/wal/compare_cells.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <latch>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>

#include "bench/common/steady_clock.h"
#include "bench/wal/peers.h"
#include "bench/wal/wal_on_loop.h"
#include "core/base/check.h"
#include "core/posix/posix_file_system.h"
#include "core/runtime/spawn.h"
#include "core/wal/format.h"
#include "core/wal/wal.h"

namespace faultline::bench::compare {
namespace {

using wal::CloseWalOnLoop;
using wal::OpenWalOnLoop;
using wal::Wal;
using wal::WalStats;
namespace format = wal::format;

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
      std::unique_ptr<DurableWriter> writer = make_writer(t);
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

}  // namespace

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

CellStats Summarize(Measurement& m) {
  CellStats stats;
  stats.records = m.records;
  stats.records_per_s =
      static_cast<double>(m.records) * 1e9 / static_cast<double>(std::max<int64_t>(1, m.elapsed_ns));
  stats.p50_us = PercentileNs(m.latencies_ns, 0.50) / 1e3;
  stats.p99_us = PercentileNs(m.latencies_ns, 0.99) / 1e3;
  return stats;
}

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

Measurement RunPeer(System peer, const std::string& dir, size_t record_bytes, int threads,
                    const CellLimits& limits) {
  // Each store's value byte, as it always was: LevelDB and RocksDB compress
  // values, so the bytes are part of what is measured.
  std::unique_ptr<PeerStore> store;
  char value_byte = 0;
  switch (peer) {
    case kSqlite:
      store = OpenSqlite(dir + "/bench.db");
      value_byte = 's';
      break;
    case kLevelDb:
      store = OpenLevelDb(dir + "/leveldb");
      value_byte = 'l';
      break;
    case kRocksDb:
      store = OpenRocksDb(dir + "/rocksdb");
      value_byte = 'k';
      break;
    default:
      FAULTLINE_CHECK_MSG(false, "not a peer database");
  }
  Measurement m = RunThreads(threads, limits, [&](int) {
    return store->NewWriter(std::string(record_bytes, value_byte));
  });
  store.reset();
  return m;
}

}  // namespace faultline::bench::compare
