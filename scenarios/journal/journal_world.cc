// scenarios/journal/journal_world.cc — see journal_world.h: recovery checks,
// an incarnation's life, the workload, deliberate damage.
#include "scenarios/journal/journal_world.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/journal/snapshot_format.h"
#include "core/runtime/spawn.h"
#include "scenarios/kit/disk_swarm.h"

namespace faultline::scenarios::journal_internal {

JournalWorld::JournalWorld(JournalScenarioKind kind, const ScenarioOptions& options,
                           const JournalScenarioHooks& hooks)
    : kind_(kind),
      hooks_(hooks),
      world_(options),
      swarm_(DrawJournalSwarm(kind, world_.prng(sim::Stream::kSwarm),
                              world_.prng(sim::Stream::kCrash))),
      disk_(world_.scheduler(), swarm_.disk.disk, swarm_.disk.plan),
      node_(world_, "n1"),
      checker_([this] { return world_.coverage().Summary(); }),
      epoch_event_(world_.scheduler()) {
  FAULTLINE_CHECK(node_.id() == kJournalNode);  // the fault rules name it
  world_.coverage().WatchDisk(disk_);
  node_.AttachDisk(disk_, swarm_.disk.tear_last_write_ppm);
  node_.SetMain([this](kit::Life life) { NodeMain(life); });
  node_.SetBeforeCrash([this] { BeforeCrash(); });
}

ScenarioResult JournalWorld::Run() {
  node_.Start();
  world_.StartNemesis([this] {
    kit::RunCrashRounds(world_, node_, swarm_.nemesis, [this] { kit::StopInjectedFaults(disk_); });
  });
  return world_.Run();
}

void JournalWorld::AdoptModel(const std::map<std::string, std::string>& entries) {
  model_ = entries;
  model_digest_ = StateDigest();
  for (const auto& [key, value] : model_) model_digest_.Add(key, value);
}

bool JournalWorld::RecoverAndCheck(io::FileSystem& fs) {
  kit::Node::RecoveryScope recovering(node_);
  int checked = 0;  // 1 after the first recovery's check
  absl::Status last_error;
  // Bounded: each attempt checks a recovery or fails with an injected error.
  for (int attempt = 0; attempt < kMaxRecoverAttempts && !world_.over(); ++attempt) {
    auto machine = std::make_unique<SequencedKvMachine>();
    absl::StatusOr<std::unique_ptr<journal::Journal>> recovered =
        journal::Journal::Recover(fs, world_.scheduler(), kJournalDir, swarm_.journal, *machine);
    if (!recovered.ok()) {
      const absl::Status& error = recovered.status();
      const bool reported_damage =
          checker_.damage_noted() && checker_.CheckRecoveryError(error).ok();
      if ((io::IsIoError(error) || io::IsNoSpace(error)) && !reported_damage) {
        // An injected error: the directory is as found or partly repaired.
        last_error = error;
        world_.scheduler().SleepFor(kMicrosecondNs);
        continue;
      }
      if (!Verdict(checker_.CheckRecoveryError(error), "recovery error")) return false;
      world_.coverage().Count("damage_reported");
      world_.End("deliberate damage reported, naming the file");
      return false;
    }
    journal::Journal& journal = **recovered;
    if (checked == 0 && !journal.recovery().skipped_snapshots.empty()) {
      world_.coverage().Count("snapshot_fallback");
    }
    if (machine->last_sequence() != journal.applied_sequence()) {
      Verdict(absl::InternalError(absl::StrCat(
                  "snapshot atomicity violated (sequence): the journal claims ",
                  journal.applied_sequence(), " records applied, its machine's last record is ",
                  machine->last_sequence())),
              checked == 0 ? "recovered" : "recovered again");
      return false;
    }
    StateDigest digest;
    for (const auto& [key, value] : machine->entries()) digest.Add(key, value);
    if (!Verdict(checker_.CheckRecovered(journal.applied_sequence(), digest.value()),
                 checked == 0 ? "recovered" : "recovered again")) {
      return false;
    }
    AdoptModel(machine->entries());
    if (checked == 0) {
      checked = 1;
      (void)journal.Close();  // nothing appended: nothing to lose
      continue;               // the second recovery must agree
    }
    machine_ = std::move(machine);
    journal_ = *std::move(recovered);
    return true;
  }
  // An error that outlived every retry is no transient fault: after damage
  // on purpose, the checker judges it (a refused fallback is a violation).
  if (!last_error.ok() && checker_.damage_noted() && !world_.over()) {
    Verdict(checker_.CheckRecoveryError(last_error), "recovery error");
  }
  return false;
}

void JournalWorld::NodeMain(kit::Life life) {
  // The previous incarnation's fibers are gone: its objects can go too.
  journal_.reset();
  machine_.reset();
  std::function<std::unique_ptr<io::FileSystem>(io::FileSystem&)> wrap;
  if (hooks_.wrap_file_system) wrap = hooks_.wrap_file_system;
  io::FileSystem& fs = node_.FileSystem(wrap);
  if (life == kit::Life::kVerify && swarm_.leftover_tmp) PlantLeftoverTmp(node_.FileSystem());
  bool ok = RecoverAndCheck(fs);
  if (ok && life == kit::Life::kVerify) {
    // The final recovery was checked undamaged; now damage the newest
    // snapshot and recover again (the model's state, or an error naming it).
    if (swarm_.damage != SnapshotDamage::kNone) {
      const uint64_t wal_first = journal_->wal().first_sequence();
      (void)journal_->Close();
      journal_.reset();
      DamageNewestSnapshot(wal_first);  // if there is none, the recovery is simply checked again
      ok = RecoverAndCheck(fs);
    }
    if (ok && !world_.over()) node_.NoteVerified();
  }
  // Epochs: after a fail-stop, recover in process and go on.
  for (int e = 0; ok && life == kit::Life::kWork && e < kMaxEpochsPerIncarnation && !world_.over();
       ++e) {
    RunEpoch();
    const absl::Status health = journal_->health();
    if (health.ok()) break;
    world_.coverage().Count("journal_fail_stop");
    // Close owns up to the failure that stopped the journal.
    const absl::Status closed = journal_->Close();
    if (!Verdict(closed.ok() ? absl::InternalError(absl::StrCat(
                                   "honest close violated: Close() returned OK after the "
                                   "journal stopped with ", health.ToString()))
                             : absl::OkStatus(),
                 "close after fail-stop")) {
      break;
    }
    journal_.reset();
    machine_.reset();
    ok = RecoverAndCheck(fs);
  }
  if (journal_ != nullptr) (void)journal_->Close();
  node_.Finish();
}

void JournalWorld::RunEpoch() {
  writer_done_ = false;
  epoch_event_.Reset();
  runtime::JoinHandle writer = runtime::Spawn(world_.scheduler(), "writer", [this] { Writer(); });
  runtime::JoinHandle checkpointer =
      runtime::Spawn(world_.scheduler(), "checkpointer", [this] { Checkpointer(); });
  writer.Join();
  checkpointer.Join();
}

void JournalWorld::Writer() {
  struct Done {
    JournalWorld& world;
    ~Done() {
      world.writer_done_ = true;
      world.epoch_event_.Set();
    }
  } done{*this};
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  for (int i = 0; i < swarm_.records_per_incarnation && !world_.over() &&
                  journal_->health().ok();
       ++i) {
    if (swarm_.max_think_ns > 0) world_.scheduler().SleepFor(workload.Between(0, swarm_.max_think_ns));
    const std::string key = absl::StrCat("k", workload.Below(swarm_.keys));
    std::string record;
    if (workload.Chance(1, swarm_.delete_one_in)) {
      record = journal::KvStateMachine::EncodeDelete(key);
      if (auto it = model_.find(key); it != model_.end()) {
        model_digest_.Remove(it->first, it->second);
        model_.erase(it);
      }
    } else {
      const size_t value_bytes = static_cast<size_t>(workload.Between(0, swarm_.max_value_bytes));
      const std::string value(value_bytes, static_cast<char>('a' + workload.Below(26)));
      record = journal::KvStateMachine::EncodePut(key, value);
      if (auto it = model_.find(key); it != model_.end()) model_digest_.Remove(it->first, it->second);
      model_digest_.Add(key, value);
      model_[key] = value;
    }
    // The checker learns of the record before any I/O can carry it to disk.
    const uint64_t expected = checker_.last_issued() + 1;
    if (!Verdict(checker_.Issue(expected, model_digest_.value()), "issued")) return;
    absl::StatusOr<uint64_t> sequence = journal_->Append(record);
    if (world_.over()) return;
    if (!sequence.ok()) {
      // A valid record is refused only by a journal that stopped.
      if (absl::IsInvalidArgument(sequence.status())) {
        Verdict(absl::InternalError(absl::StrCat("append refused a valid record: ",
                                                 sequence.status().ToString())),
                "append");
      }
      return;
    }
    if (*sequence != expected) {
      Verdict(absl::InternalError(absl::StrCat("record expected at sequence ", expected,
                                               " got ", *sequence)),
              "append");
      return;
    }
    if (!Verdict(checker_.Acknowledge(*sequence), "acknowledged")) return;
  }
}

void JournalWorld::Checkpointer() {
  // Bounded: the writer finishes its bounded work, and each wait ends.
  while (!writer_done_ && !world_.over() && journal_->health().ok()) {
    epoch_event_.WaitFor(swarm_.checkpoint_period_ns);
    if (writer_done_ || world_.over()) return;
    absl::StatusOr<uint64_t> covered = journal_->Checkpoint();
    if (covered.ok()) {
      world_.coverage().Count("checkpoint");
    } else if (io::IsNoSpace(covered.status())) {
      world_.coverage().Count("checkpoint_no_space");  // ENOSPC while writing the snapshot
    } else if (io::IsIoError(covered.status())) {
      world_.coverage().Count("checkpoint_eio");
    } else {
      world_.coverage().Count("checkpoint_refused");  // stopped by an append's failure
    }
  }
}

std::string JournalWorld::NewestDurableSnapshot(std::string* bytes) {
  const sim::disk::DiskImage image = disk_.DurableImage(node_.id());
  std::string newest;
  const std::string prefix = absl::StrCat(kJournalDir, "/");
  for (const auto& [path, content] : image.files) {  // std::map: sorted by path
    if (path.rfind(prefix, 0) != 0 || content.empty()) continue;
    if (!journal::format::ParseSnapshotName(path.substr(prefix.size())).has_value()) continue;
    newest = path;  // sorted: the last one is the newest
    *bytes = content;
  }
  return newest;
}

void JournalWorld::PlantLeftoverTmp(io::FileSystem& fs) {
  std::string bytes;
  const std::string newest = NewestDurableSnapshot(&bytes);
  if (newest.empty()) return;
  const uint64_t sequence =
      *journal::format::ParseSnapshotName(newest.substr(std::string_view(kJournalDir).size() + 1));
  if (sequence == UINT64_MAX) return;
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const uint64_t bit = crash.Below(bytes.size() * 8);
  bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
  const std::string tmp = io::JoinPath(kJournalDir, journal::format::TmpName(sequence + 1));
  absl::StatusOr<std::unique_ptr<io::File>> file = fs.Open(tmp, io::OpenMode::kCreateTruncate);
  absl::Status status = file.ok() ? (*file)->WriteAt(0, bytes) : file.status();
  if (status.ok()) status = (*file)->Sync();
  if (status.ok()) status = fs.SyncDir(kJournalDir);
  FAULTLINE_CHECK_MSG(status.ok(), "planting a leftover tmp file failed with faults stopped");
  world_.coverage().Count("leftover_tmp_planted");
}

bool JournalWorld::DamageNewestSnapshot(uint64_t wal_first) {
  std::string bytes;
  const std::string newest = NewestDurableSnapshot(&bytes);
  // An older state is kept when the WAL holds every record after an older
  // snapshot (or after none): recovery must fall back to it.
  bool older_state_kept = wal_first <= 1;
  const std::string prefix = absl::StrCat(kJournalDir, "/");
  for (const auto& [path, content] : disk_.DurableImage(node_.id()).files) {
    if (path == newest || path.rfind(prefix, 0) != 0) continue;
    std::optional<uint64_t> sequence =
        journal::format::ParseSnapshotName(path.substr(prefix.size()));
    if (sequence.has_value() && *sequence + 1 >= wal_first) older_state_kept = true;
  }
  const uint64_t size_bytes = bytes.size();
  if (newest.empty()) {
    world_.coverage().Count("damage_without_snapshot");
    return false;
  }
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  absl::Status damaged;
  if (swarm_.damage == SnapshotDamage::kBitFlip) {
    damaged = disk_.FlipDurableBit(node_.id(), newest, crash.Below(size_bytes * 8));
    world_.coverage().Count("snapshot_bit_flip");
  } else {
    const uint64_t sectors = (size_bytes + 511) / 512;
    damaged = disk_.AddLatentSectorError(node_.id(), newest, crash.Below(sectors));
    world_.coverage().Count("snapshot_unreadable_sector");
  }
  FAULTLINE_CHECK(damaged.ok());
  checker_.NoteDamage(newest, older_state_kept);
  return true;
}

void JournalWorld::BeforeCrash() {
  if (journal_ == nullptr || world_.over()) return;
  const journal::CheckpointStage stage = journal_->checkpoint_stage();
  if (stage != journal::CheckpointStage::kNone) {
    world_.coverage().Count(absl::StrCat(
        "crash_in_checkpoint_",
        absl::StrReplaceAll(AsAbsl(journal::CheckpointStageName(stage)), {{" ", "_"}})));
  }
  const uint64_t durable = journal_->wal().durable_sequence();
  if (durable > checker_.last_acked()) Verdict(checker_.Acknowledge(durable), "durable claimed");
}

}  // namespace faultline::scenarios::journal_internal
