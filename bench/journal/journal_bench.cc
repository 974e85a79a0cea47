// bench/journal/journal_bench.cc — what the journal costs on a real disk,
// against baselines measured in the same process and the same directory:
//
//  * checkpoint: Journal::Checkpoint() of N entries (write the snapshot in
//    chunks, fdatasync, rename, directory sync, release the WAL) vs writing
//    and fdatasyncing the same number of bytes sequentially in 1 MiB writes;
//  * recovery: Journal::Recover() (the newest snapshot restored into the KV
//    state machine, the WAL recovered and its suffix replayed) vs reading the
//    same files sequentially in 1 MiB reads. Both start cold: the files'
//    pages are dropped from the page cache first (posix_fadvise DONTNEED on
//    synced files), alternately, best of kRounds. Also the cost of
//    rebuilding the state machine from the snapshot's body already in
//    memory, with no I/O;
//  * appends: journaled appends (Journal::Append: WAL append, durability,
//    apply) vs bare WAL appends of the same bytes (Wal::Append, wait for
//    durability), kAppenders fibers each, alternating rounds, median.
//
// Usage: journal_bench [--quick]  (--quick: 1e4 and 1e5 entries)
// Benchmark code may use raw syscalls; production code may not.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/common/scratch_dir.h"
#include "bench/common/steady_clock.h"
#include "core/base/check.h"
#include "core/journal/journal.h"
#include "core/journal/kv_state_machine.h"
#include "core/posix/event_loop.h"
#include "core/posix/posix_file_system.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"
#include "fmt/core.h"

namespace faultline::journal {
namespace {

constexpr int kBuildAppenders = 256;   // fibers filling the journal (group commit)
constexpr int kAppenders = 64;         // fibers in the append comparison
constexpr int kAppendsPerFiber = 128;  // per round
constexpr int kAppendRounds = 9;
constexpr int kRounds = 3;             // cold checkpoint/recovery measurements
constexpr int kSuffixRecords = 1000;   // appended after the checkpoint, replayed
constexpr size_t kIoBytes = 1 << 20;

std::string Key(uint64_t i) { return fmt::format("key{:010d}", i); }
std::string Value(uint64_t i) { return fmt::format("value-{:010d}", i); }  // 16 bytes

// Runs `body` as a fiber of `loop` and returns when it is done.
void OnLoop(posix::EventLoop& loop, const std::function<void()>& body) {
  loop.StartFiber("bench", [&] {
    body();
    loop.Stop();  // a WAL's flusher would keep Run() going
  });
  loop.Run();
}

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

// Every regular file under `dir`, recursively, sorted.
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Drops the (synced, clean) pages of `files` from the page cache.
void DropFromCache(const std::vector<std::string>& files) {
  for (const std::string& path : files) {
    const int fd = open(path.c_str(), O_RDONLY);
    FAULTLINE_CHECK(fd >= 0);
    FAULTLINE_CHECK(fdatasync(fd) == 0);
    FAULTLINE_CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    close(fd);
  }
}

// Reads `files` sequentially; returns the bytes read.
uint64_t ReadSequentially(const std::vector<std::string>& files) {
  std::vector<char> buffer(kIoBytes);
  uint64_t total = 0;
  for (const std::string& path : files) {
    const int fd = open(path.c_str(), O_RDONLY);
    FAULTLINE_CHECK(fd >= 0);
    for (ssize_t got; (got = read(fd, buffer.data(), buffer.size())) > 0;) total += got;
    close(fd);
  }
  return total;
}

// Writes `bytes` bytes to a new file in 1 MiB writes and fdatasyncs it.
void WriteSequentially(const std::string& path, uint64_t bytes) {
  std::vector<char> buffer(kIoBytes, 'w');
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  FAULTLINE_CHECK(fd >= 0);
  for (uint64_t done = 0; done < bytes;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kIoBytes, bytes - done));
    FAULTLINE_CHECK(write(fd, buffer.data(), n) == static_cast<ssize_t>(n));
    done += n;
  }
  FAULTLINE_CHECK(fdatasync(fd) == 0);
  close(fd);
  FAULTLINE_CHECK(unlink(path.c_str()) == 0);
}

std::unique_ptr<Journal> RecoverOnLoop(posix::EventLoop& loop, io::FileSystem& fs,
                                       KvStateMachine& machine) {
  std::unique_ptr<Journal> journal;
  OnLoop(loop, [&] {
    auto recovered = Journal::Recover(fs, loop, "j", JournalOptions{}, machine);
    FAULTLINE_CHECK_MSG(recovered.ok(), "Journal::Recover failed");
    journal = *std::move(recovered);
  });
  return journal;
}

void CloseOnLoop(posix::EventLoop& loop, std::unique_ptr<Journal> journal) {
  OnLoop(loop, [&] {
    FAULTLINE_CHECK(journal->Close().ok());
    journal.reset();
  });
}

// Appends records [from, to) with `fibers` appenders.
void Fill(posix::EventLoop& loop, Journal& journal, uint64_t from, uint64_t to, int fibers) {
  OnLoop(loop, [&] {
    std::vector<runtime::JoinHandle> appenders;
    for (int f = 0; f < fibers; ++f) {
      appenders.push_back(runtime::Spawn(loop, "appender", [&, f] {
        for (uint64_t i = from + static_cast<uint64_t>(f); i < to; i += static_cast<uint64_t>(fibers)) {
          FAULTLINE_CHECK(journal.Append(KvStateMachine::EncodePut(Key(i), Value(i))).ok());
        }
      }));
    }
    for (runtime::JoinHandle& appender : appenders) appender.Join();
  });
}

void CheckpointAndRecovery(uint64_t entries) {
  bench::ScratchDir dir("journal-bench");
  if (dir.OnTmpfs()) fmt::print("warning: {} is on tmpfs: syncs cost nothing\n", dir.path());
  posix::EventLoop loop;
  auto fs = posix::PosixFileSystem::Open(loop, dir.path());
  FAULTLINE_CHECK(fs.ok());
  KvStateMachine machine;
  std::unique_ptr<Journal> journal = RecoverOnLoop(loop, **fs, machine);
  Fill(loop, *journal, 0, entries, kBuildAppenders);
  uint64_t next = entries;
  int64_t best_checkpoint_ns = INT64_MAX, best_write_ns = INT64_MAX;
  uint64_t snapshot_bytes = 0;
  for (int round = 0; round < kRounds; ++round) {
    // A fresh suffix each round, so every checkpoint has something to cover.
    Fill(loop, *journal, next, next + kSuffixRecords, kBuildAppenders);
    next += kSuffixRecords;
    const uint64_t before = journal->stats().snapshot_bytes;
    int64_t start = bench::SteadyNowNs();
    OnLoop(loop, [&] { FAULTLINE_CHECK(journal->Checkpoint().ok()); });
    best_checkpoint_ns = std::min(best_checkpoint_ns, bench::SteadyNowNs() - start);
    snapshot_bytes = journal->stats().snapshot_bytes - before;
    start = bench::SteadyNowNs();
    WriteSequentially(dir.path() + "/baseline.bin", snapshot_bytes);
    best_write_ns = std::min(best_write_ns, bench::SteadyNowNs() - start);
  }
  Fill(loop, *journal, next, next + kSuffixRecords, kBuildAppenders);  // replayed below
  CloseOnLoop(loop, std::move(journal));

  const std::vector<std::string> files = FilesUnder(dir.path() + "/j");
  // What recovery reads: the newest snapshot and the WAL (the older snapshot
  // is kept as a fallback but not read).
  std::vector<std::string> read_set;
  for (const std::string& path : files) {
    if (path.find("/wal/") != std::string::npos) read_set.push_back(path);
  }
  std::string newest;
  for (const std::string& path : files) {
    if (path.find("snapshot-") != std::string::npos) newest = path;
  }
  read_set.push_back(newest);
  // What rebuilding the state costs without I/O: the snapshot's body,
  // already in memory, restored in 1 MiB pieces.
  int64_t best_rebuild_ns = INT64_MAX;
  {
    std::string body;
    body.resize(std::filesystem::file_size(newest));
    const int fd = open(newest.c_str(), O_RDONLY);
    FAULTLINE_CHECK(fd >= 0 && read(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()));
    close(fd);
    for (int round = 0; round < kRounds; ++round) {
      KvStateMachine rebuilt;
      const int64_t start = bench::SteadyNowNs();
      for (size_t at = 40; at < body.size(); at += kIoBytes) {
        FAULTLINE_CHECK(rebuilt.RestoreChunk(std::string_view(body).substr(at, kIoBytes)).ok());
      }
      FAULTLINE_CHECK(rebuilt.FinishRestore().ok());
      best_rebuild_ns = std::min(best_rebuild_ns, bench::SteadyNowNs() - start);
    }
  }
  int64_t best_recover_ns = INT64_MAX, best_read_ns = INT64_MAX;
  uint64_t read_bytes = 0;
  for (int round = 0; round < kRounds; ++round) {
    DropFromCache(files);
    int64_t start = bench::SteadyNowNs();
    read_bytes = ReadSequentially(read_set);
    best_read_ns = std::min(best_read_ns, bench::SteadyNowNs() - start);
    DropFromCache(files);
    KvStateMachine recovered;
    start = bench::SteadyNowNs();
    std::unique_ptr<Journal> again = RecoverOnLoop(loop, **fs, recovered);
    best_recover_ns = std::min(best_recover_ns, bench::SteadyNowNs() - start);
    FAULTLINE_CHECK(recovered.entries().size() == next + kSuffixRecords);
    CloseOnLoop(loop, std::move(again));
  }
  fmt::print("| {:>9} | {:>7.1f} MB | {:>8.3f} s | {:>8.3f} s | {:>5.2f}x | {:>7.1f} MB | {:>8.3f} s "
             "| {:>8.3f} s | {:>5.2f}x | {:>8.3f} s | {:>5.2f}x |\n",
             entries, snapshot_bytes / 1e6, Seconds(best_checkpoint_ns), Seconds(best_write_ns),
             static_cast<double>(best_checkpoint_ns) / static_cast<double>(best_write_ns),
             read_bytes / 1e6, Seconds(best_recover_ns), Seconds(best_read_ns),
             static_cast<double>(best_recover_ns) / static_cast<double>(best_read_ns),
             Seconds(best_rebuild_ns),
             static_cast<double>(best_recover_ns) /
                 static_cast<double>(best_read_ns + best_rebuild_ns));
}

// One round of kAppenders fibers x kAppendsPerFiber appends; records/s.
double JournalRound(posix::EventLoop& loop, Journal& journal, uint64_t* next) {
  const uint64_t from = *next;
  const uint64_t count = static_cast<uint64_t>(kAppenders) * kAppendsPerFiber;
  *next += count;
  const int64_t start = bench::SteadyNowNs();
  Fill(loop, journal, from, from + count, kAppenders);
  return static_cast<double>(count) / Seconds(bench::SteadyNowNs() - start);
}

double WalRound(posix::EventLoop& loop, wal::Wal& log, uint64_t* next) {
  const uint64_t from = *next;
  const uint64_t count = static_cast<uint64_t>(kAppenders) * kAppendsPerFiber;
  *next += count;
  const int64_t start = bench::SteadyNowNs();
  OnLoop(loop, [&] {
    std::vector<runtime::JoinHandle> appenders;
    for (int f = 0; f < kAppenders; ++f) {
      appenders.push_back(runtime::Spawn(loop, "appender", [&, f] {
        for (uint64_t i = from + static_cast<uint64_t>(f); i < from + count; i += kAppenders) {
          auto appended = log.Append(KvStateMachine::EncodePut(Key(i), Value(i)));
          FAULTLINE_CHECK(appended.ok() && appended->durable.Get().ok());
        }
      }));
    }
    for (runtime::JoinHandle& appender : appenders) appender.Join();
  });
  return static_cast<double>(count) / Seconds(bench::SteadyNowNs() - start);
}

void Appends() {
  bench::ScratchDir dir("journal-append-bench");
  posix::EventLoop loop;
  auto fs = posix::PosixFileSystem::Open(loop, dir.path());
  FAULTLINE_CHECK(fs.ok());
  KvStateMachine machine;
  std::unique_ptr<Journal> journal = RecoverOnLoop(loop, **fs, machine);
  std::unique_ptr<wal::Wal> log;
  OnLoop(loop, [&] {
    // The same options as the journal's own WAL: only the journal differs.
    auto opened = wal::Wal::Open(**fs, loop, "bare", JournalOptions{}.wal);
    FAULTLINE_CHECK(opened.ok());
    log = *std::move(opened);
  });
  std::vector<double> journal_rates, wal_rates, ratios;
  uint64_t journal_next = 0, wal_next = 0;
  for (int round = 0; round < kAppendRounds; ++round) {  // alternating
    const double j = JournalRound(loop, *journal, &journal_next);
    const double w = WalRound(loop, *log, &wal_next);
    journal_rates.push_back(j);
    wal_rates.push_back(w);
    ratios.push_back(j / w);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  fmt::print("| {} fibers | {:>9.0f} | {:>9.0f} | {:>5.2f}x | {:>5.2f}x |\n", kAppenders,
             median(journal_rates), median(wal_rates), median(journal_rates) / median(wal_rates),
             median(ratios));
  OnLoop(loop, [&] { FAULTLINE_CHECK(log->Close().ok()); log.reset(); });
  CloseOnLoop(loop, std::move(journal));
}

}  // namespace
}  // namespace faultline::journal

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  using namespace faultline::journal;
  fmt::print("Checkpoint and recovery (best of {}; recovery and the read start cold)\n\n", kRounds);
  fmt::print("| entries | snapshot | checkpoint | write+sync same bytes | ratio | recovery reads "
             "| recovery | sequential read | ratio | rebuild in memory | recovery / (read + rebuild) "
             "|\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (uint64_t entries : quick ? std::vector<uint64_t>{10'000, 100'000}
                                : std::vector<uint64_t>{100'000, 1'000'000}) {
    CheckpointAndRecovery(entries);
  }
  fmt::print("\nJournaled appends vs the bare WAL (records/s, median of {} alternating rounds)\n\n",
             kAppendRounds);
  fmt::print("| appenders | journal | bare WAL | ratio of medians | median of round ratios "
             "|\n|---|---|---|---|---|\n");
  Appends();
  return 0;
}
