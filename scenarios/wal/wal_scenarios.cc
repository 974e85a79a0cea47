// scenarios/wal/wal_scenarios.cc — see wal_scenarios.h and wal_world.h.
// Written on the scenario kit (scenarios/kit): the world, the node, the
// crash-round nemesis and the coverage come from there; this file is the
// recovery checks, the incarnation's life, the scenario's own faults and the
// registry entries (the workload is in wal_workload.cc).
#include "scenarios/wal/wal_scenarios.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/wal/format.h"
#include "scenarios/wal/wal_world.h"

namespace faultline::scenarios {
namespace wal_internal {
namespace {

WalSwarm Adjusted(WalSwarm swarm, const WalScenarioHooks& hooks) {
  if (hooks.adjust_swarm) hooks.adjust_swarm(swarm);
  return swarm;
}

}  // namespace

WalWorld::WalWorld(WalScenarioKind kind, const ScenarioOptions& options,
                   const WalScenarioHooks& hooks)
    : kind_(kind),
      hooks_(hooks),
      world_(options),
      swarm_(Adjusted(DrawWalSwarm(kind, world_.prng(sim::Stream::kSwarm),
                                   world_.prng(sim::Stream::kCrash),
                                   world_.prng(sim::Stream::kWorkload)),
                      hooks)),
      disk_(world_.scheduler(), swarm_.disk.disk, swarm_.disk.plan),
      node_(world_, "n1"),
      checker_(swarm_.wal.initial_sequence, [this] { return world_.coverage().Summary(); }),
      epoch_event_(world_.scheduler()) {
  FAULTLINE_CHECK(node_.id() == kWalNode);  // the fault rules name it
  world_.scheduler().SetNodeClock(node_.id(), swarm_.clock);  // before any fiber reads it
  world_.coverage().WatchDisk(disk_);
  for (const std::string& fault : swarm_.enabled_faults) world_.coverage().Enable(fault);
  node_.AttachDisk(disk_, swarm_.disk.tear_last_write_ppm);
  node_.SetMain([this](kit::Life life) { NodeMain(life); });
  node_.SetBeforeCrash([this] { NoteDurableClaim(); });
  // Verdicts name the trace events behind them: the acknowledgement a crash
  // lost, and that crash.
  checker_.set_trace_hooks(
      {.next_event = [this] { return world_.scheduler().trace().event_count(); },
       .crashes_since = [this](uint64_t after) {
         return world_.scheduler().trace().CrashesSince(node_.id(), after,
                                                        sim::Trace::kMaxCrashMarks);
       }});
}

ScenarioResult WalWorld::Run() {
  node_.Start();
  world_.StartNemesis([this] {
    kit::RunCrashRounds(world_, node_, swarm_.nemesis, [this] { BeforeVerify(); });
  });
  return world_.Run();
}

// --- recovery ------------------------------------------------------------------

absl::StatusOr<std::vector<LogRecord>> WalWorld::ReadAll(LogApi& log) {
  std::vector<LogRecord> records;
  absl::StatusOr<std::unique_ptr<LogReaderApi>> reader = log.NewReader(log.first_sequence());
  if (!reader.ok()) return reader.status();
  // Bounded by the durable records (and a hard cap). The checker demands
  // consecutive sequences from first_sequence() of what is returned.
  for (uint64_t i = 0; i < kMaxRecordsRead; ++i) {
    absl::StatusOr<std::optional<wal::Record>> next = (*reader)->Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) return records;
    records.push_back(LogRecord{(*next)->sequence, std::move((*next)->payload)});
  }
  return absl::ResourceExhaustedError("more records than a run can write");
}

std::unique_ptr<LogApi> WalWorld::OpenOnce(absl::Status* error) {
  std::function<std::unique_ptr<io::FileSystem>(io::FileSystem&)> wrap;
  if (hooks_.wrap_file_system) {
    wrap = [this](io::FileSystem& inner) { return hooks_.wrap_file_system(inner, swarm_.wal); };
  }
  absl::StatusOr<std::unique_ptr<wal::Wal>> opened =
      wal::Wal::Open(node_.FileSystem(wrap), world_.scheduler(), kWalDir, swarm_.wal);
  if (!opened.ok()) {
    *error = opened.status();
    return nullptr;
  }
  std::unique_ptr<LogApi> log = std::make_unique<ProductionWal>(*std::move(opened));
  if (hooks_.wrap_wal) log = hooks_.wrap_wal(std::move(log), world_.scheduler());
  return log;
}

std::unique_ptr<LogApi> WalWorld::OpenAndCheck(int64_t after_abandon_ns) {
  kit::Node::RecoveryScope recovering(node_);
  int checked = 0;  // 1 after the recovery check, 2 after the reopen check
  // Bounded: each attempt checks one recovery, or fails with EIO, or is
  // refused while a destroyed Wal's flusher finishes its I/O call.
  for (int attempt = 0; attempt < kMaxOpenAttempts && !world_.over(); ++attempt) {
    NoteMisdirectedWrites();
    // After deliberate damage a refused Open must leave the disk as it was.
    // (Not after a misdirected write: the log it hit may also hold a
    // crash's leftovers, which recovery repairs before it meets the damage.)
    std::optional<std::pair<sim::disk::DiskImage, sim::disk::DiskImage>> before;
    if (checker_.corruption_noted() && !checker_.damage().place_unknown) {
      before.emplace(disk_.DurableImage(node_.id()), disk_.CacheImage(node_.id()));
    }
    absl::Status error;
    std::unique_ptr<LogApi> log = OpenOnce(&error);
    absl::StatusOr<std::vector<LogRecord>> records =
        log != nullptr ? ReadAll(*log) : absl::StatusOr<std::vector<LogRecord>>(error);
    if (!records.ok()) {
      error = records.status();
      if ((io::IsIoError(error) || io::IsNoSpace(error)) && !unreadable_planted_) {
        // An injected EIO during recovery: the directory is left as found or
        // partly repaired; reopening converges. (A read EIO may come from
        // the reader after Open succeeded: close that Wal first, or its
        // flusher still holds the directory.)
        if (log != nullptr) (void)log->Close();
        world_.scheduler().SleepFor(kMicrosecondNs);
        continue;
      }
      if (after_abandon_ns > 0 && absl::IsFailedPrecondition(error) &&
          !checker_.corruption_noted()) {
        // The destroyed Wal's flusher still holds the directory.
        world_.coverage().Count("wal_open_refused_in_use");
        world_.scheduler().SleepFor(after_abandon_ns / 4 + kMicrosecondNs);
        continue;
      }
      if (before.has_value() && (disk_.DurableImage(node_.id()) != before->first ||
                                 disk_.CacheImage(node_.id()) != before->second)) {
        Verdict(rules_.Violation("refused-open-leaves-disk", checker_.damage().sequence,
                                 absl::StrCat("Open refused the damaged log (", error.ToString(),
                                              ") but changed its files or names")),
                "refused open");
        return nullptr;
      }
      if (!Verdict(checker_.CheckRecoveryError(error), "recovery error")) return nullptr;
      // The WAL reported deliberate corruption as DataLoss: nothing more to
      // do in this run.
      world_.coverage().Count("corruption_reported");
      world_.End("corruption reported as data loss");
      return nullptr;
    }
    const uint64_t first = log->first_sequence();
    const uint64_t read_end = records->empty() ? first - 1 : records->back().sequence;
    if (!Verdict(rules_.Opened(first, log->durable_sequence(), log->last_sequence(),
                               records->size(), read_end),
                 "opened")) {
      return nullptr;
    }
    if (checked == 0) {
      if (!Verdict(checker_.CheckRecovery(first, *records), "recovery ok")) return nullptr;
      checked = 1;
      (void)log->Close();  // nothing appended: nothing to lose
      continue;            // reopen: the second recovery must agree
    }
    if (!Verdict(checker_.CheckReopen(first, *records), "reopen ok")) return nullptr;
    recovered_ = *std::move(records);
    return log;
  }
  return nullptr;
}

// --- an incarnation ------------------------------------------------------------

void WalWorld::NodeMain(kit::Life life) {
  // live_wal_ must not outlive the WAL, also when a crash unwinds this frame.
  struct ClearLiveWal {
    WalWorld& world;
    ~ClearLiveWal() {
      world.live_wal_ = nullptr;
      world.live_epoch_ = 0;
    }
  } clear_live_wal{*this};
  reopened_while_blocked_ = false;
  // A crash that killed the checkpointer inside Release cleared its flag.
  FAULTLINE_CHECK_MSG(!releasing_, "an earlier incarnation left a Release in flight");
  std::vector<std::unique_ptr<Epoch>> epochs;   // stale writers point into them
  std::vector<runtime::JoinHandle> stale;       // fibers of destroyed Wal instances
  std::unique_ptr<LogApi> log = OpenAndCheck();
  if (life == kit::Life::kVerify) Verify(log);
  // One epoch per WAL instance: after a fail-stop, reopen in process
  // (recover from what the disk holds) and go on with fresh writers.
  for (int e = 0; life == kit::Life::kWork && e < kMaxEpochsPerIncarnation && log != nullptr &&
                  !world_.over();
       ++e) {
    epochs.push_back(std::make_unique<Epoch>());
    Epoch& epoch = *epochs.back();
    epoch.id = next_epoch_++;
    live_wal_ = log.get();
    live_epoch_ = epoch.id;
    const bool abandon = RunEpoch(*log, epoch, stale);
    live_wal_ = nullptr;
    live_epoch_ = 0;
    if (epoch.close_returned && !abandon) {
      // Closed while writers appended: the directory must open again.
      if (!Verdict(checker_.CheckClose(epoch.close_status, epoch.records_failed), "close")) break;
      log.reset();
      log = OpenAndCheck();
      continue;
    }
    if (abandon) {
      // Destroyed while its flusher is parked in a slow call; reopened at once.
      world_.coverage().Count("wal_reopen_while_blocked");
      log.reset();
      log = OpenAndCheck(swarm_.slow_io_ns);
      continue;
    }
    const absl::Status health = log->health();
    if (health.ok()) break;
    const uint64_t fail_stops = world_.coverage().Count("wal_fail_stop");
    world_.scheduler().Record(sim::TraceKind::kApp, {"fail_stops", fail_stops}, {},
                              "wal stopped after a failure");
    // Close returns the failure that stopped the Wal: records failed with
    // it, and an OK here would hide them.
    if (!CloseAndCheck(*log, epoch)) break;
    log.reset();
    log = OpenAndCheck();
    if (log != nullptr && absl::IsResourceExhausted(health) && !ReleaseAfterExhaustion(*log)) {
      break;
    }
  }
  if (log != nullptr) (void)log->Close();
  // Bounded: the destroyed Wal's flushers exit once their slow call returns.
  for (runtime::JoinHandle& fiber : stale) fiber.Join();
  for (const std::unique_ptr<Epoch>& epoch : epochs) {
    if (epoch->closed && !world_.over()) {
      Verdict(checker_.CheckClose(epoch->close_status, epoch->records_failed), "close");
    }
  }
  node_.Finish();
}

void WalWorld::Verify(std::unique_ptr<LogApi>& log) {
  if (log == nullptr || world_.over()) return;
  // The final recovery, checked undamaged, against the independent decoder;
  // then, in some seeds, damage the durable log and recover again (DataLoss
  // naming the damage, or a log the checker accepts). Damaging first would
  // excuse any DataLoss the final crash caused.
  if (!CheckFormat()) return;
  if (swarm_.corrupt_sealed_segment) {
    DamageAndCheck(log);
  } else if (swarm_.damage != DurableDamage::kNone) {
    (void)log->Close();
    log.reset();
    (void)DamageDurable();
    log = OpenAndCheck();
  }
  if (log != nullptr && !world_.over()) node_.NoteVerified();
}

bool WalWorld::CloseAndCheck(LogApi& log, const Epoch& epoch) {
  absl::Status closed = log.Close();
  if (hooks_.close_status) closed = hooks_.close_status(std::move(closed));
  return Verdict(checker_.CheckClose(closed, epoch.records_failed), "close");
}

// --- the nemesis's side -------------------------------------------------------------

void WalWorld::NoteDurableClaim() {
  if (live_wal_ == nullptr || world_.over()) return;
  const uint64_t durable = live_wal_->durable_sequence();
  if (durable > checker_.last_acked()) Verdict(checker_.Acknowledge(durable), "durable claimed");
}

void WalWorld::BeforeVerify() { kit::StopInjectedFaults(disk_); }

}  // namespace wal_internal

ScenarioResult RunWalScenario(WalScenarioKind kind, const ScenarioOptions& options,
                              const WalScenarioHooks& hooks) {
  // The world is large (scheduler, disk, checker): keep it off the caller's
  // (possibly fiber) stack.
  auto world = std::make_unique<wal_internal::WalWorld>(kind, options, hooks);
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
