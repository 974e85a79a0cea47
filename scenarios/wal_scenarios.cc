// scenarios/wal_scenarios.cc — see wal_scenarios.h.
#include "scenarios/wal_scenarios.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/runtime/event.h"
#include "core/runtime/spawn.h"
#include "core/wal/format.h"
#include "core/wal/wal.h"
#include "scenarios/crash_points.h"
#include "scenarios/durability_checker.h"
#include "sim/disk/sim_file_system.h"

namespace faultline::scenarios {
namespace {

using sim::disk::DiskOp;
using sim::disk::FaultAction;
using sim::disk::FaultKind;
using sim::disk::FaultRule;

constexpr char kWalDir[] = "wal";
constexpr int64_t kMicrosecondNs = 1'000;
// Bounds (TigerBeetle style) on every loop of a run.
constexpr int kMaxOpenAttempts = 24;         // reopen attempts while EIO keeps failing Open
constexpr int kMaxEpochsPerIncarnation = 8;  // in-process reopens after fail-stops
constexpr int kMaxRecoveryCrashes = 3;       // crashes of recoveries in a row, per round
constexpr uint64_t kMaxRecordsRead = 1'000'000;
constexpr size_t kMaxFileSystemsPerRun = 4096;  // decorators kept alive until the run ends
constexpr uint32_t kMillion = 1'000'000;

// Which crash moments the nemesis may pick (one per round).
enum class CrashMoment : uint8_t { kTime, kMidCommit, kDirSync, kMidWrite };

// Everything the swarm decides for one seed.
struct Swarm {
  sim::disk::DiskOptions disk;
  sim::disk::FaultPlan plan;
  wal::WalOptions wal;
  std::vector<CrashMoment> moments;  // enabled, never empty
  bool crash_in_recovery = false;    // arm a crash before some restarts
  uint32_t tear_last_write_ppm = 0;
  bool corrupt_sealed_segment = false;  // wal_crash: flip a bit before the final recovery
  int rounds = 0;                    // crash rounds before the final one
  int writers = 0;
  int records_per_writer = 0;        // per incarnation (and epoch)
  uint32_t max_payload_bytes = 0;
  int64_t max_think_ns = 0;
  int64_t release_period_ns = 0;     // wal_rotation_retention
};

Swarm DrawSwarm(WalScenarioKind kind, sim::Prng& swarm, sim::Prng& crash) {
  Swarm s;
  s.disk.atomic_unit_bytes = swarm.Chance(1, 2) ? 512 : 4096;
  s.disk.fsync_profile = swarm.Chance(1, 2) ? sim::disk::FsyncFailureProfile::kExt4
                                            : sim::disk::FsyncFailureProfile::kBtrfs;
  // The crash model: each outcome kind on or off, with a drawn rate.
  sim::disk::CrashRates& c = s.plan.crash;
  c.write_persist_ppm = static_cast<uint32_t>(swarm.Between(0, 600'000));
  c.write_torn_ppm = swarm.Chance(1, 2)
                         ? static_cast<uint32_t>(swarm.Between(0, kMillion - c.write_persist_ppm))
                         : 0;
  c.torn_sector_persist_ppm = static_cast<uint32_t>(swarm.Between(100'000, 900'000));
  c.torn_sector_garbage_ppm = swarm.Chance(1, 2) ? static_cast<uint32_t>(swarm.Between(0, 500'000)) : 0;
  c.size_without_data_ppm = swarm.Chance(1, 2) ? static_cast<uint32_t>(swarm.Between(0, 600'000)) : 0;
  c.size_garbage_ppm = swarm.Chance(1, 2) ? static_cast<uint32_t>(swarm.Between(0, 500'000)) : 0;
  c.truncate_persist_ppm = static_cast<uint32_t>(swarm.Between(0, kMillion));
  c.namespace_persist_ppm = static_cast<uint32_t>(swarm.Between(0, kMillion));
  if (swarm.Chance(1, 2)) {
    s.plan.latency.sync = sim::disk::LatencyModel::Uniform(10 * kMicrosecondNs, 200 * kMicrosecondNs);
    s.plan.latency.write = sim::disk::LatencyModel::Uniform(1 * kMicrosecondNs, 20 * kMicrosecondNs);
  }
  s.tear_last_write_ppm = swarm.Chance(1, 2) ? 500'000 : 0;

  // Crash moments: each on with probability 1/2, at least one.
  const CrashMoment all[] = {CrashMoment::kTime, CrashMoment::kMidCommit, CrashMoment::kDirSync,
                             CrashMoment::kMidWrite};
  for (CrashMoment moment : all) {
    if (swarm.Chance(1, 2)) s.moments.push_back(moment);
  }
  if (s.moments.empty()) s.moments.push_back(all[swarm.Below(4)]);
  s.crash_in_recovery = swarm.Chance(1, 2);

  // Small segments so that rotation happens every few batches.
  s.wal.segment_size_bytes = static_cast<uint64_t>(swarm.Between(256, 2048));
  s.wal.max_record_bytes = 512;
  s.wal.max_queued_records = 64;
  s.wal.max_queued_bytes = 8192;
  s.wal.max_batch_records = static_cast<uint32_t>(swarm.Between(1, 16));
  s.wal.max_batch_bytes = static_cast<uint64_t>(swarm.Between(256, 4096));
  s.wal.flush_interval_ns = swarm.Chance(1, 2) ? 0 : swarm.Between(1, 50) * kMicrosecondNs;
  s.wal.initial_sequence = swarm.Chance(1, 4) ? static_cast<uint64_t>(swarm.Between(2, 1000)) : 1;

  const uint32_t payload_choices[] = {16, 64, 200, 500};
  s.max_payload_bytes = payload_choices[swarm.Below(4)];
  s.writers = static_cast<int>(swarm.Between(1, 4));
  s.records_per_writer = static_cast<int>(swarm.Between(2, 10));
  s.max_think_ns = swarm.Between(0, 30) * kMicrosecondNs;

  switch (kind) {
    case WalScenarioKind::kCrash:
      s.corrupt_sealed_segment = swarm.Chance(1, 4);
      break;
    case WalScenarioKind::kFsyncFailure: {
      sim::disk::FaultRates& r = s.plan.rates;
      const bool by_rate = swarm.Chance(1, 2);
      const bool by_rule = !by_rate || swarm.Chance(1, 2);
      if (by_rate) r.sync_eio_ppm = static_cast<uint32_t>(swarm.Between(20'000, 250'000));
      if (by_rule) {
        const int rules = static_cast<int>(swarm.Between(1, 3));
        for (int i = 0; i < rules; ++i) {
          s.plan.rules.push_back(FaultRule{.node = 1,
                                           .op = DiskOp::kSync,
                                           .nth = static_cast<uint64_t>(swarm.Between(1, 40)),
                                           .action = FaultAction::kEio});
        }
      }
      if (swarm.Chance(1, 2)) r.sync_dir_eio_ppm = static_cast<uint32_t>(swarm.Between(10'000, 100'000));
      if (swarm.Chance(1, 4)) r.write_eio_ppm = static_cast<uint32_t>(swarm.Between(5'000, 50'000));
      break;
    }
    case WalScenarioKind::kRotationRetention:
      s.wal.segment_size_bytes = static_cast<uint64_t>(swarm.Between(128, 1024));
      s.release_period_ns = swarm.Between(5, 100) * kMicrosecondNs;
      break;
  }
  s.rounds = static_cast<int>(crash.Between(2, 5));
  return s;
}

std::string MomentLabel(CrashMoment moment) {
  switch (moment) {
    case CrashMoment::kTime: return "crash_at_time";
    case CrashMoment::kMidCommit: return "crash_mid_commit";
    case CrashMoment::kDirSync: return "crash_mid_rotation";
    case CrashMoment::kMidWrite: return "crash_mid_write";
  }
  return "crash";
}

// One run: the world, the node's life cycle, the nemesis and the checker.
class WalWorld {
 public:
  WalWorld(WalScenarioKind kind, const ScenarioOptions& options, const WalScenarioHooks& hooks)
      : kind_(kind),
        hooks_(hooks),
        scheduler_(SchedulerOptionsFor(options)),
        swarm_(DrawSwarm(kind, scheduler_.prng(sim::Stream::kSwarm),
                         scheduler_.prng(sim::Stream::kCrash))),
        disk_(scheduler_, swarm_.disk, swarm_.plan),
        node_(scheduler_.AddNode("n1")),
        checker_(swarm_.wal.initial_sequence, [this] { return FaultsSoFar(); }),
        nemesis_wake_(scheduler_),
        record_trace_(options.record_trace) {
    FAULTLINE_CHECK(node_ == 1);  // the fault rules above name node 1
  }

  ScenarioResult Run();

 private:
  static sim::SchedulerOptions SchedulerOptionsFor(const ScenarioOptions& options) {
    sim::SchedulerOptions scheduler_options = options.scheduler;
    scheduler_options.seed = options.seed;
    scheduler_options.record_trace = options.record_trace;
    return scheduler_options;
  }

  // --- the node --------------------------------------------------------
  void NodeMain(bool verify_only);
  // Opens the WAL, checks what it recovered, reopens it and checks the
  // reopen. nullptr when the run is over (violation, detected corruption)
  // or Open kept failing with I/O errors.
  std::unique_ptr<wal::Wal> OpenAndCheck();
  absl::StatusOr<std::unique_ptr<wal::Wal>> OpenOnce();
  absl::StatusOr<std::vector<LogRecord>> ReadAll(wal::Wal& log);
  void RunWriters(wal::Wal& log);
  void Writer(wal::Wal& log);
  void Checkpointer(wal::Wal& log, const bool& writers_done);
  std::string MakePayload(sim::Prng& workload, uint32_t size_bytes) const;

  // --- the nemesis -------------------------------------------------------
  void NemesisMain();
  // Waits until the node is dead or its incarnation finished its work.
  void WaitForCrashOrIdle();
  void CrashNow(std::string_view label);
  // Counts what the live WAL claims durable (durable_sequence(): futures up
  // to it are resolved) as acknowledged, just before a crash: a writer may
  // not have run since its future resolved, and the claim binds all the same.
  void NoteDurableClaim();
  void ResolveCrash();
  void RestartNode(bool verify_only);
  void CorruptSealedSegment();

  // --- verdicts and coverage ----------------------------------------------
  // Records a checker verdict; a violation ends the run. Returns ok.
  bool Verdict(const absl::Status& status, std::string_view what);
  std::map<std::string, uint64_t> Coverage() const;
  std::string FaultsSoFar() const;

  const WalScenarioKind kind_;
  const WalScenarioHooks& hooks_;
  sim::Scheduler scheduler_;
  const Swarm swarm_;
  sim::disk::SimDisk disk_;
  const sim::NodeId node_;
  DurabilityChecker checker_;
  runtime::Event nemesis_wake_;
  const bool record_trace_;

  CrashArm arm_;
  wal::Wal* live_wal_ = nullptr;  // the WAL the node's writers use, while it exists
  bool recovering_ = false;  // the node is inside OpenAndCheck
  bool incarnation_done_ = false;
  bool run_over_ = false;          // violation, or corruption reported: stop everything
  bool verify_done_ = false;
  std::string violation_;
  std::map<std::string, uint64_t> crash_counts_;
  uint64_t fail_stops_ = 0;
  uint64_t corruption_reported_ = 0;
  std::vector<std::unique_ptr<io::FileSystem>> file_systems_;  // live until the run ends
};

// --- verdicts and coverage ------------------------------------------------

std::map<std::string, uint64_t> WalWorld::Coverage() const {
  std::map<std::string, uint64_t> coverage = crash_counts_;
  const sim::disk::FaultStats& stats = disk_.stats();
  for (size_t k = 0; k < sim::disk::kFaultKindCount; ++k) {
    const FaultKind kind = static_cast<FaultKind>(k);
    if (kind == FaultKind::kLatency) continue;  // a delay, not a fault worth counting here
    if (stats.count(kind) > 0) coverage[std::string(sim::disk::FaultKindName(kind))] = stats.count(kind);
  }
  if (fail_stops_ > 0) coverage["wal_fail_stop"] = fail_stops_;
  if (corruption_reported_ > 0) coverage["corruption_reported"] = corruption_reported_;
  return coverage;
}

std::string WalWorld::FaultsSoFar() const {
  std::string out;
  for (const auto& [name, count] : Coverage()) {
    absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", count);
  }
  return out;
}

bool WalWorld::Verdict(const absl::Status& status, std::string_view what) {
  if (status.ok()) {
    scheduler_.Record(sim::TraceKind::kCheck, checker_.last_acked(), checker_.last_issued(), what);
    return true;
  }
  if (violation_.empty()) {
    violation_ = std::string(status.message());
    scheduler_.Record(sim::TraceKind::kCheck, 1, 0, violation_);
    spdlog::debug("violation: {}", violation_);
  }
  run_over_ = true;
  scheduler_.Stop("durability violation");
  return false;
}

// --- the node ----------------------------------------------------------------

absl::StatusOr<std::unique_ptr<wal::Wal>> WalWorld::OpenOnce() {
  io::FileSystem* fs = &disk_.ForNode(node_);
  FAULTLINE_CHECK(file_systems_.size() + 2 <= kMaxFileSystemsPerRun);
  if (hooks_.wrap_file_system) {
    file_systems_.push_back(hooks_.wrap_file_system(*fs));
    fs = file_systems_.back().get();
  }
  // The crash points sit closest to the WAL: they see what it asks for.
  file_systems_.push_back(std::make_unique<CrashPointFileSystem>(*fs, arm_, recovering_, [this] {
    crash_counts_[std::string(arm_.label)]++;
    crash_counts_["crash"]++;
    NoteDurableClaim();
    nemesis_wake_.Set();
    scheduler_.Crash(node_, arm_.label);  // throws FiberKilled: we are on the node
  }));
  return wal::Wal::Open(*file_systems_.back(), scheduler_, kWalDir, swarm_.wal);
}

absl::StatusOr<std::vector<LogRecord>> WalWorld::ReadAll(wal::Wal& log) {
  std::vector<LogRecord> records;
  absl::StatusOr<std::unique_ptr<wal::WalReader>> reader = log.NewReader(log.first_sequence());
  if (!reader.ok()) return reader.status();
  // Bounded by the durable records (and a hard cap).
  for (uint64_t i = 0; i < kMaxRecordsRead; ++i) {
    absl::StatusOr<std::optional<wal::Record>> next = (*reader)->Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) return records;
    records.push_back(LogRecord{(*next)->sequence, std::move((*next)->payload)});
  }
  return absl::ResourceExhaustedError("more records than a run can write");
}

std::unique_ptr<wal::Wal> WalWorld::OpenAndCheck() {
  // Crash arms tell recovery operations from the others (crash_points.h).
  struct Recovering {
    bool& flag;
    explicit Recovering(bool& f) : flag(f) { flag = true; }
    ~Recovering() { flag = false; }
  } recovering(recovering_);
  int checked = 0;  // 1 after the recovery check, 2 after the reopen check
  // Bounded: each attempt either checks one recovery or fails with EIO.
  for (int attempt = 0; attempt < kMaxOpenAttempts && !run_over_; ++attempt) {
    absl::StatusOr<std::unique_ptr<wal::Wal>> opened = OpenOnce();
    absl::StatusOr<std::vector<LogRecord>> records =
        opened.ok() ? ReadAll(**opened) : absl::StatusOr<std::vector<LogRecord>>(opened.status());
    if (!records.ok()) {
      const absl::Status& error = records.status();
      if (io::IsIoError(error) || io::IsNoSpace(error)) {
        // An injected EIO during recovery: the directory is left as found or
        // partly repaired; reopening converges.
        scheduler_.SleepFor(kMicrosecondNs);
        continue;
      }
      const absl::Status verdict = checker_.CheckRecoveryError(error);
      if (!Verdict(verdict, "recovery error")) return nullptr;
      // The WAL reported deliberate corruption as DataLoss: nothing more to
      // do in this run.
      ++corruption_reported_;
      run_over_ = true;
      scheduler_.Stop("corruption reported as data loss");
      return nullptr;
    }
    wal::Wal& log = **opened;
    if (checked == 0) {
      if (!Verdict(checker_.CheckRecovery(log.first_sequence(), *records), "recovery ok")) {
        return nullptr;
      }
      checked = 1;
      (void)log.Close();  // nothing appended: nothing to lose
      continue;           // reopen: the second recovery must agree
    }
    if (!Verdict(checker_.CheckReopen(log.first_sequence(), *records), "reopen ok")) return nullptr;
    return *std::move(opened);
  }
  return nullptr;
}

std::string WalWorld::MakePayload(sim::Prng& workload, uint32_t size_bytes) const {
  // Random bytes from one 64-bit draw, spread over the payload: distinct
  // across records (so a stale frame never matches a reissued sequence) at
  // one draw per record.
  uint64_t x = workload.NextU64();
  std::string payload(size_bytes, '\0');
  for (uint32_t i = 0; i < size_bytes; ++i) {
    if (i % 8 == 0 && i > 0) x = x * 6364136223846793005ull + 1442695040888963407ull;
    payload[i] = static_cast<char>(x >> ((i % 8) * 8));
  }
  return payload;
}

void WalWorld::Writer(wal::Wal& log) {
  sim::Prng& workload = scheduler_.prng(sim::Stream::kWorkload);
  for (int i = 0; i < swarm_.records_per_writer && !run_over_; ++i) {
    const uint32_t size_bytes = 1 + static_cast<uint32_t>(workload.Below(swarm_.max_payload_bytes));
    const std::string payload = MakePayload(workload, size_bytes);
    absl::StatusOr<wal::AppendResult> appended = log.Append(payload);
    if (!appended.ok()) return;  // stopped after a failure: the epoch ends
    // No park between Append's return and here: the checker learns of the
    // record before any I/O can carry it to disk.
    if (!Verdict(checker_.Issue(appended->last_sequence, payload), "issued")) return;
    const absl::StatusOr<uint64_t>& durable = appended->durable.Get();
    if (durable.ok()) {
      if (!Verdict(checker_.Acknowledge(*durable), "acknowledged")) return;
    } else {
      if (!Verdict(checker_.AcknowledgeFailed(appended->last_sequence), "ack failed")) return;
      return;
    }
    if (swarm_.max_think_ns > 0) scheduler_.SleepFor(workload.Below(swarm_.max_think_ns));
  }
}

void WalWorld::Checkpointer(wal::Wal& log, const bool& writers_done) {
  sim::Prng& workload = scheduler_.prng(sim::Stream::kWorkload);
  // Bounded by the writers' lifetime: they finish after a bounded number of
  // records, and each iteration sleeps a positive virtual time.
  while (!writers_done && !run_over_) {
    scheduler_.SleepFor(1 + workload.Below(swarm_.release_period_ns));
    if (writers_done || run_over_) return;
    const uint64_t first = log.first_sequence();
    const uint64_t durable_end = log.durable_sequence() + 1;
    if (durable_end <= first) continue;
    const uint64_t below = first + workload.Below(durable_end - first + 1);
    // Tell the checker first: a crash inside Release may already have
    // removed segments.
    checker_.NoteRelease(below);
    const absl::Status released = log.Release(below);
    if (!released.ok()) return;  // a failed release stops further releases
    scheduler_.Record(sim::TraceKind::kApp, below, log.first_sequence(), "released");
  }
}

void WalWorld::RunWriters(wal::Wal& log) {
  std::vector<runtime::JoinHandle> writers;
  for (int w = 0; w < swarm_.writers; ++w) {
    writers.push_back(
        runtime::Spawn(scheduler_, absl::StrCat("writer", w), [this, &log] { Writer(log); }));
  }
  bool writers_done = false;
  runtime::JoinHandle checkpointer;
  if (kind_ == WalScenarioKind::kRotationRetention) {
    checkpointer = runtime::Spawn(scheduler_, "checkpointer",
                                  [this, &log, &writers_done] { Checkpointer(log, writers_done); });
  }
  for (runtime::JoinHandle& writer : writers) writer.Join();
  writers_done = true;
  if (checkpointer.valid()) checkpointer.Join();
}

void WalWorld::NodeMain(bool verify_only) {
  // live_wal_ must not outlive the WAL, also when a crash unwinds this frame.
  struct ClearLiveWal {
    wal::Wal*& live;
    ~ClearLiveWal() { live = nullptr; }
  } clear_live_wal{live_wal_};
  std::unique_ptr<wal::Wal> log = OpenAndCheck();
  if (arm_.point != CrashPoint::kNone && arm_.during_recovery) {
    arm_.Disarm();  // a recovery-time crash that did not fire
    nemesis_wake_.Set();
  }
  if (log == nullptr || run_over_) {
    incarnation_done_ = true;
    nemesis_wake_.Set();
    return;
  }
  if (verify_only) {
    verify_done_ = true;
  } else {
    // One epoch per WAL instance: after a fail-stop, reopen in process
    // (recover from what the disk holds) and go on with fresh writers.
    for (int epoch = 0; epoch < kMaxEpochsPerIncarnation && log != nullptr && !run_over_; ++epoch) {
      live_wal_ = log.get();
      RunWriters(*log);
      live_wal_ = nullptr;
      if (log->health().ok()) break;
      ++fail_stops_;
      scheduler_.Record(sim::TraceKind::kApp, fail_stops_, 0, "wal stopped after a failure");
      (void)log->Close();  // returns the failure that stopped it
      log.reset();
      log = OpenAndCheck();
    }
    if (log != nullptr) (void)log->Close();
  }
  incarnation_done_ = true;
  nemesis_wake_.Set();
}

// --- the nemesis -----------------------------------------------------------

void WalWorld::WaitForCrashOrIdle() {
  // Each iteration parks once; the node either crashes or finishes a
  // bounded workload.
  while (scheduler_.IsAlive(node_) && !incarnation_done_ && !run_over_) {
    nemesis_wake_.Reset();
    nemesis_wake_.Wait();
  }
}

void WalWorld::NoteDurableClaim() {
  if (live_wal_ == nullptr || run_over_) return;
  const uint64_t durable = live_wal_->durable_sequence();
  if (durable > checker_.last_acked()) Verdict(checker_.Acknowledge(durable), "durable claimed");
}

void WalWorld::CrashNow(std::string_view label) {
  arm_.Disarm();
  if (!scheduler_.IsAlive(node_)) return;
  NoteDurableClaim();
  crash_counts_[std::string(label)]++;
  crash_counts_["crash"]++;
  scheduler_.Crash(node_, label);
}

void WalWorld::ResolveCrash() {
  sim::Prng& crash = scheduler_.prng(sim::Stream::kCrash);
  sim::disk::CrashOptions options;
  options.tear_last_write = crash.ChancePpm(swarm_.tear_last_write_ppm);
  disk_.Crash(node_, options);  // idempotent per incarnation
}

void WalWorld::RestartNode(bool verify_only) {
  incarnation_done_ = false;
  scheduler_.Restart(node_, verify_only ? "verify" : "main",
                     [this, verify_only] { NodeMain(verify_only); });
}

void WalWorld::CorruptSealedSegment() {
  // A bit flip in a sealed (not the newest) segment: every byte of one is
  // a synced header or record, so the WAL must report DataLoss, never
  // return the damaged record or cut the log short.
  const sim::disk::DiskImage image = disk_.DurableImage(node_);
  std::vector<std::pair<std::string, uint64_t>> segments;  // path, first sequence
  const std::string prefix = absl::StrCat(kWalDir, "/");
  for (const auto& [path, bytes] : image.files) {  // std::map: sorted by path
    if (path.rfind(prefix, 0) != 0) continue;
    std::optional<uint64_t> first = wal::format::ParseSegmentName(path.substr(prefix.size()));
    if (first.has_value() && !bytes.empty()) segments.emplace_back(path, *first);
  }
  if (segments.size() < 2) return;
  sim::Prng& crash = scheduler_.prng(sim::Stream::kCrash);
  const size_t victim = static_cast<size_t>(crash.Below(segments.size() - 1));
  const uint64_t size_bytes = image.files.at(segments[victim].first).size();
  const uint64_t bit = crash.Below(size_bytes * 8);
  const absl::Status flipped = disk_.FlipDurableBit(node_, segments[victim].first, bit);
  FAULTLINE_CHECK(flipped.ok());
  crash_counts_["corrupt_sealed_segment"]++;
  checker_.NoteCorruption(segments[victim].second);
}

void WalWorld::NemesisMain() {
  sim::Prng& crash = scheduler_.prng(sim::Stream::kCrash);
  // The horizon of a crash at a random time: long enough for a few batches.
  const int64_t horizon_ns = 50 * kMicrosecondNs + swarm_.max_think_ns * swarm_.records_per_writer;
  for (int round = 0; round < swarm_.rounds && !run_over_; ++round) {
    const CrashMoment moment = swarm_.moments[crash.Below(swarm_.moments.size())];
    const std::string label = MomentLabel(moment);
    switch (moment) {
      case CrashMoment::kTime:
        nemesis_wake_.Reset();
        if (!incarnation_done_) nemesis_wake_.WaitFor(crash.Between(1, horizon_ns));
        break;
      case CrashMoment::kMidCommit:
        arm_ = CrashArm{CrashPoint::kFileSync, static_cast<uint32_t>(crash.Between(1, 4)),
                        crash.Chance(1, 3), "crash_mid_commit"};
        break;
      case CrashMoment::kDirSync:
        arm_ = CrashArm{CrashPoint::kDirSync, static_cast<uint32_t>(crash.Between(1, 2)),
                        crash.Chance(1, 2), "crash_mid_rotation"};
        break;
      case CrashMoment::kMidWrite:
        arm_ = CrashArm{CrashPoint::kWrite, static_cast<uint32_t>(crash.Between(1, 6)),
                        true, "crash_mid_write"};
        break;
    }
    if (moment != CrashMoment::kTime) WaitForCrashOrIdle();
    if (run_over_) break;
    // Armed but never reached (the workload finished first): crash now.
    CrashNow(moment == CrashMoment::kTime ? label : "crash_idle");
    ResolveCrash();
    // Restart; some restarts are crashed again in the middle of recovery.
    for (int again = 0; again <= kMaxRecoveryCrashes && !run_over_; ++again) {
      scheduler_.SleepFor(crash.Between(1, 20 * kMicrosecondNs));
      const bool crash_recovery = swarm_.crash_in_recovery && again < kMaxRecoveryCrashes &&
                                  crash.Chance(1, 2);
      if (crash_recovery) {
        arm_ = CrashArm{CrashPoint::kAnyOp, static_cast<uint32_t>(crash.Between(1, 16)),
                        crash.Chance(1, 2), "crash_in_recovery", /*during_recovery=*/true};
      }
      RestartNode(/*verify_only=*/false);
      if (!crash_recovery) break;
      // Wait for the recovery to crash or to finish (NodeMain then disarms
      // and wakes us). Each iteration parks once.
      while (scheduler_.IsAlive(node_) && arm_.point != CrashPoint::kNone && arm_.during_recovery &&
             !run_over_ && !incarnation_done_) {
        nemesis_wake_.Reset();
        nemesis_wake_.Wait();
      }
      if (scheduler_.IsAlive(node_)) break;
      ResolveCrash();
    }
  }
  if (run_over_) return;
  // The final round: let the incarnation finish, crash it, and verify.
  WaitForCrashOrIdle();
  if (run_over_) return;
  CrashNow("crash_final");
  ResolveCrash();
  // Faults stop: the final recovery must succeed.
  disk_.plan().rules.clear();
  disk_.plan().rates = sim::disk::FaultRates{};
  if (swarm_.corrupt_sealed_segment) CorruptSealedSegment();
  RestartNode(/*verify_only=*/true);
  WaitForCrashOrIdle();
  if (run_over_) return;
  if (!verify_done_) {
    Verdict(absl::InternalError(absl::StrCat("durability violated: final recovery never "
                                             "completed; faults injected: ", FaultsSoFar())),
            "final");
    return;
  }
  scheduler_.Stop("every recovery checked");
}

ScenarioResult WalWorld::Run() {
  scheduler_.StartFiberOn(node_, "main", [this] { NodeMain(/*verify_only=*/false); });
  scheduler_.StartFiber("nemesis", [this] { NemesisMain(); });
  ScenarioResult result;
  result.run = scheduler_.Run();
  // Unwind every fiber while the WAL's file systems, the disk and the
  // events they wait on still exist.
  scheduler_.Shutdown();
  result.violation = violation_;
  result.faults_injected = Coverage();
  if (record_trace_) {
    for (const sim::TraceEvent& event : scheduler_.trace().events()) {
      absl::StrAppend(&result.trace_dump, event.Format(scheduler_.NodeName(event.node)), "\n");
    }
  }
  return result;
}

}  // namespace

ScenarioResult RunWalScenario(WalScenarioKind kind, const ScenarioOptions& options,
                              const WalScenarioHooks& hooks) {
  // The world is large (scheduler, disk, checker): keep it off the caller's
  // (possibly fiber) stack.
  auto world = std::make_unique<WalWorld>(kind, options, hooks);
  return world->Run();
}

Scenario WalCrashScenario() {
  return Scenario{
      .name = "wal_crash",
      .description = "WAL writers under crashes mid-commit, mid-rotation, mid-write and "
                     "mid-recovery; checks durability, prefix, no corrupt/phantom/duplicate "
                     "records and idempotent recovery after every restart",
      .run = [](const ScenarioOptions& options) {
        return RunWalScenario(WalScenarioKind::kCrash, options);
      },
  };
}

Scenario WalFsyncFailureScenario() {
  return Scenario{
      .name = "wal_fsync_failure",
      .description = "syncs fail with EIO (rules or rates, ext4 or btrfs cache profile); the WAL "
                     "must fail-stop and recover by reopening; durability checked after every "
                     "reopen and crash",
      .run = [](const ScenarioOptions& options) {
        return RunWalScenario(WalScenarioKind::kFsyncFailure, options);
      },
  };
}

Scenario WalRotationRetentionScenario() {
  return Scenario{
      .name = "wal_rotation_retention",
      .description = "small segments and periodic Release below a checkpoint, under crashes; "
                     "everything from the retained start to the last acknowledged record survives",
      .run = [](const ScenarioOptions& options) {
        return RunWalScenario(WalScenarioKind::kRotationRetention, options);
      },
  };
}

}  // namespace faultline::scenarios
