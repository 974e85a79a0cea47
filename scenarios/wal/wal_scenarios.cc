// scenarios/wal/wal_scenarios.cc — see wal_scenarios.h. Written on the
// scenario kit (scenarios/kit): the world, the node, the crash-round nemesis
// and the coverage come from there; this file is the workload (writers, a
// checkpointer), the recovery checks and the scenario's own faults.
#include "scenarios/wal/wal_scenarios.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/runtime/spawn.h"
#include "core/wal/format.h"
#include "core/wal/wal.h"
#include "scenarios/checkers/durability_checker.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"
#include "scenarios/wal/wal_swarm.h"

namespace faultline::scenarios {
namespace {

constexpr char kWalDir[] = "wal";
constexpr int64_t kMicrosecondNs = 1'000;
// Bounds (TigerBeetle style) on every loop of a run.
constexpr int kMaxOpenAttempts = 24;         // reopen attempts while EIO keeps failing Open
constexpr int kMaxEpochsPerIncarnation = 8;  // in-process reopens after fail-stops
constexpr uint64_t kMaxRecordsRead = 1'000'000;

// One run: the WAL's node, its workload and the durability checker, on a
// kit::World with the crash-round nemesis.
class WalWorld {
 public:
  WalWorld(WalScenarioKind kind, const ScenarioOptions& options, const WalScenarioHooks& hooks)
      : kind_(kind),
        hooks_(hooks),
        world_(options),
        swarm_(DrawWalSwarm(kind, world_.prng(sim::Stream::kSwarm),
                            world_.prng(sim::Stream::kCrash))),
        disk_(world_.scheduler(), swarm_.disk.disk, swarm_.disk.plan),
        node_(world_, "n1"),
        checker_(swarm_.wal.initial_sequence, [this] { return world_.coverage().Summary(); }) {
    FAULTLINE_CHECK(node_.id() == kWalNode);  // the fault rules name it
    world_.coverage().WatchDisk(disk_);
    node_.AttachDisk(disk_, swarm_.disk.tear_last_write_ppm);
    node_.SetMain([this](kit::Life life) { NodeMain(life); });
    node_.SetBeforeCrash([this] { NoteDurableClaim(); });
  }

  ScenarioResult Run() {
    node_.Start();
    world_.StartNemesis([this] {
      kit::RunCrashRounds(world_, node_, swarm_.nemesis, [this] { BeforeVerify(); });
    });
    return world_.Run();
  }

 private:
  void NodeMain(kit::Life life);
  // Opens the WAL, checks what it recovered, reopens it and checks the
  // reopen. nullptr when the run is over (violation, detected corruption)
  // or Open kept failing with I/O errors.
  std::unique_ptr<wal::Wal> OpenAndCheck();
  absl::StatusOr<std::vector<LogRecord>> ReadAll(wal::Wal& log);
  void RunWriters(wal::Wal& log);
  void Writer(wal::Wal& log);
  void Checkpointer(wal::Wal& log, const bool& writers_done);
  std::string MakePayload(sim::Prng& workload, uint32_t size_bytes) const;

  // Counts what the live WAL claims durable (durable_sequence(): futures up
  // to it are resolved) as acknowledged, just before a crash: a writer may
  // not have run since its future resolved, and the claim binds all the same.
  void NoteDurableClaim();
  // Faults stop before the final recovery; wal_crash may damage a sealed
  // segment, which that recovery must report as DataLoss.
  void BeforeVerify();
  void CorruptSealedSegment();
  // Records a checker verdict; a violation ends the run. Returns ok.
  bool Verdict(const absl::Status& status, std::string_view what) {
    return world_.Check(status, what, checker_.last_acked(), checker_.last_issued());
  }

  const WalScenarioKind kind_;
  const WalScenarioHooks& hooks_;
  kit::World world_;
  const WalSwarm swarm_;
  sim::disk::SimDisk disk_;
  kit::Node node_;
  DurabilityChecker checker_;
  wal::Wal* live_wal_ = nullptr;  // the WAL the node's writers use, while it exists
};

// --- recovery ------------------------------------------------------------------

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
  kit::Node::RecoveryScope recovering(node_);
  int checked = 0;  // 1 after the recovery check, 2 after the reopen check
  // Bounded: each attempt either checks one recovery or fails with EIO.
  for (int attempt = 0; attempt < kMaxOpenAttempts && !world_.over(); ++attempt) {
    absl::StatusOr<std::unique_ptr<wal::Wal>> opened = wal::Wal::Open(
        node_.FileSystem(hooks_.wrap_file_system), world_.scheduler(), kWalDir, swarm_.wal);
    absl::StatusOr<std::vector<LogRecord>> records =
        opened.ok() ? ReadAll(**opened) : absl::StatusOr<std::vector<LogRecord>>(opened.status());
    if (!records.ok()) {
      const absl::Status& error = records.status();
      if (io::IsIoError(error) || io::IsNoSpace(error)) {
        // An injected EIO during recovery: the directory is left as found or
        // partly repaired; reopening converges.
        world_.scheduler().SleepFor(kMicrosecondNs);
        continue;
      }
      if (!Verdict(checker_.CheckRecoveryError(error), "recovery error")) return nullptr;
      // The WAL reported deliberate corruption as DataLoss: nothing more to
      // do in this run.
      world_.coverage().Count("corruption_reported");
      world_.End("corruption reported as data loss");
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

// --- the workload ----------------------------------------------------------------

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
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  for (int i = 0; i < swarm_.records_per_writer && !world_.over(); ++i) {
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
    if (swarm_.max_think_ns > 0) world_.scheduler().SleepFor(workload.Below(swarm_.max_think_ns));
  }
}

void WalWorld::Checkpointer(wal::Wal& log, const bool& writers_done) {
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  // Bounded by the writers' lifetime: they finish after a bounded number of
  // records, and each iteration sleeps a positive virtual time.
  while (!writers_done && !world_.over()) {
    world_.scheduler().SleepFor(1 + workload.Below(swarm_.release_period_ns));
    if (writers_done || world_.over()) return;
    const uint64_t first = log.first_sequence();
    const uint64_t durable_end = log.durable_sequence() + 1;
    if (durable_end <= first) continue;
    const uint64_t below = first + workload.Below(durable_end - first + 1);
    // Tell the checker first: a crash inside Release may already have
    // removed segments.
    checker_.NoteRelease(below);
    const absl::Status released = log.Release(below);
    if (!released.ok()) return;  // a failed release stops further releases
    world_.scheduler().Record(sim::TraceKind::kApp, below, log.first_sequence(), "released");
  }
}

void WalWorld::RunWriters(wal::Wal& log) {
  std::vector<runtime::JoinHandle> writers;
  for (int w = 0; w < swarm_.writers; ++w) {
    writers.push_back(
        runtime::Spawn(world_.scheduler(), absl::StrCat("writer", w), [this, &log] { Writer(log); }));
  }
  bool writers_done = false;
  runtime::JoinHandle checkpointer;
  if (kind_ == WalScenarioKind::kRotationRetention) {
    checkpointer = runtime::Spawn(world_.scheduler(), "checkpointer",
                                  [this, &log, &writers_done] { Checkpointer(log, writers_done); });
  }
  for (runtime::JoinHandle& writer : writers) writer.Join();
  writers_done = true;
  if (checkpointer.valid()) checkpointer.Join();
}

void WalWorld::NodeMain(kit::Life life) {
  // live_wal_ must not outlive the WAL, also when a crash unwinds this frame.
  struct ClearLiveWal {
    wal::Wal*& live;
    ~ClearLiveWal() { live = nullptr; }
  } clear_live_wal{live_wal_};
  std::unique_ptr<wal::Wal> log = OpenAndCheck();
  if (log != nullptr && !world_.over()) {
    if (life == kit::Life::kVerify) {
      node_.NoteVerified();
    } else {
      // One epoch per WAL instance: after a fail-stop, reopen in process
      // (recover from what the disk holds) and go on with fresh writers.
      for (int epoch = 0; epoch < kMaxEpochsPerIncarnation && log != nullptr && !world_.over();
           ++epoch) {
        live_wal_ = log.get();
        RunWriters(*log);
        live_wal_ = nullptr;
        if (log->health().ok()) break;
        const uint64_t fail_stops = world_.coverage().Count("wal_fail_stop");
        world_.scheduler().Record(sim::TraceKind::kApp, fail_stops, 0, "wal stopped after a failure");
        (void)log->Close();  // returns the failure that stopped it
        log.reset();
        log = OpenAndCheck();
      }
      if (log != nullptr) (void)log->Close();
    }
  }
  node_.Finish();
}

// --- the nemesis's side -------------------------------------------------------------

void WalWorld::NoteDurableClaim() {
  if (live_wal_ == nullptr || world_.over()) return;
  const uint64_t durable = live_wal_->durable_sequence();
  if (durable > checker_.last_acked()) Verdict(checker_.Acknowledge(durable), "durable claimed");
}

void WalWorld::BeforeVerify() {
  kit::StopInjectedFaults(disk_);
  if (swarm_.corrupt_sealed_segment) CorruptSealedSegment();
}

void WalWorld::CorruptSealedSegment() {
  // A bit flip in a sealed (not the newest) segment: every byte of one is
  // a synced header or record, so the WAL must report DataLoss, never
  // return the damaged record or cut the log short.
  const sim::disk::DiskImage image = disk_.DurableImage(node_.id());
  std::vector<std::pair<std::string, uint64_t>> segments;  // path, first sequence
  const std::string prefix = absl::StrCat(kWalDir, "/");
  for (const auto& [path, bytes] : image.files) {  // std::map: sorted by path
    if (path.rfind(prefix, 0) != 0) continue;
    std::optional<uint64_t> first = wal::format::ParseSegmentName(path.substr(prefix.size()));
    if (first.has_value() && !bytes.empty()) segments.emplace_back(path, *first);
  }
  if (segments.size() < 2) return;
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const size_t victim = static_cast<size_t>(crash.Below(segments.size() - 1));
  const uint64_t size_bytes = image.files.at(segments[victim].first).size();
  const uint64_t bit = crash.Below(size_bytes * 8);
  const absl::Status flipped = disk_.FlipDurableBit(node_.id(), segments[victim].first, bit);
  FAULTLINE_CHECK(flipped.ok());
  world_.coverage().Count("corrupt_sealed_segment");
  checker_.NoteCorruption(segments[victim].second);
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
