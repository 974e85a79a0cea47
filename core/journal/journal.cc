// core/journal/journal.cc — Append and Checkpoint (journal.h); recovery is
// in journal_recovery.cc.
#include "core/journal/journal.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/journal/snapshot_format.h"
#include "core/journal/snapshot_io.h"
#include "core/journal/stage_error.h"

namespace faultline::journal {

std::string_view CheckpointStageName(CheckpointStage stage) {
  switch (stage) {
    case CheckpointStage::kNone: return "none";
    case CheckpointStage::kWrite: return "write";
    case CheckpointStage::kSync: return "sync";
    case CheckpointStage::kRename: return "rename";
    case CheckpointStage::kDirSync: return "directory sync";
    case CheckpointStage::kRelease: return "release";
  }
  return "?";
}

Journal::Journal(io::FileSystem& fs, runtime::Executor& executor, std::string dir,
                 const JournalOptions& options, StateMachine& machine)
    : fs_(fs),
      executor_(executor),
      dir_(std::move(dir)),
      options_(options),
      machine_(machine),
      apply_mutex_(executor) {}

Journal::~Journal() = default;

std::string Journal::PathOf(std::string_view name) const { return io::JoinPath(dir_, name); }

absl::Status Journal::Usable() const {
  if (closed_) return absl::FailedPreconditionError(absl::StrCat("journal ", dir_, " is closed"));
  if (!health_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal ", dir_, " stopped after a failure: ", health_.message()));
  }
  return absl::OkStatus();
}

absl::Status Journal::Stop(absl::Status status) {
  FAULTLINE_CHECK(!status.ok());
  if (health_.ok()) health_ = status;
  // Nothing more is applied: the owner recovers from what is durable.
  pending_.clear();
  return status;
}

absl::StatusOr<uint64_t> Journal::Append(std::string_view record) {
  FAULTLINE_RETURN_IF_ERROR(Usable());
  FAULTLINE_RETURN_IF_ERROR(machine_.Validate(record));
  absl::StatusOr<wal::AppendResult> appended = wal_->Append(record);
  if (!appended.ok()) {
    const absl::Status error = StageError(appended.status(), "wal append", dir_);
    if (!wal_->health().ok()) return Stop(error);
    return error;
  }
  const uint64_t sequence = appended->last_sequence;
  // Inserted before any park, so that whichever appender applies next finds
  // every durable record here.
  pending_.emplace(sequence, std::string(record));
  ++stats_.appended;
  const absl::StatusOr<uint64_t>& durable = appended->durable.Get();
  if (!durable.ok()) return Stop(StageError(durable.status(), "wal", dir_));
  FAULTLINE_RETURN_IF_ERROR(Usable());
  FAULTLINE_RETURN_IF_ERROR(ApplyDurable());
  FAULTLINE_CHECK(applied_ >= sequence);
  return sequence;
}

absl::Status Journal::ApplyDurable() {
  runtime::MutexLock lock(apply_mutex_);
  FAULTLINE_RETURN_IF_ERROR(Usable());
  const uint64_t durable = wal_->durable_sequence();
  // Bounded by the records pending (the WAL's queue bounds how many).
  while (!pending_.empty() && pending_.begin()->first <= durable) {
    auto next = pending_.begin();
    FAULTLINE_CHECK(next->first == applied_ + 1);
    const absl::Status status = machine_.Apply(next->first, next->second);
    if (!status.ok()) return Stop(StageError(status, "apply", dir_));
    applied_ = next->first;
    pending_.erase(next);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<io::File>> Journal::WriteTmp(uint64_t sequence,
                                                           const std::string& tmp,
                                                           uint64_t* size_bytes) {
  absl::StatusOr<std::unique_ptr<io::File>> file = fs_.Open(tmp, io::OpenMode::kCreateTruncate);
  if (!file.ok()) return file.status();
  absl::StatusOr<uint64_t> size = WriteSnapshotFile(**file, machine_, sequence,
                                                    options_.chunk_bytes);
  if (!size.ok()) return size.status();
  *size_bytes = *size;
  return file;
}

absl::StatusOr<uint64_t> Journal::Checkpoint() {
  FAULTLINE_RETURN_IF_ERROR(Usable());
  if (checkpointing_) {
    return absl::FailedPreconditionError(absl::StrCat("journal ", dir_,
                                                      ": a checkpoint is in progress"));
  }
  checkpointing_ = true;
  struct EndCheckpoint {
    Journal& journal;
    ~EndCheckpoint() {
      journal.checkpointing_ = false;
      journal.stage_ = CheckpointStage::kNone;
    }
  } end{*this};

  uint64_t sequence = 0;
  uint64_t size_bytes = 0;
  std::string tmp;
  std::unique_ptr<io::File> file;
  {
    // Applies wait while the state is written, so the snapshot is the state
    // after exactly `sequence` records.
    runtime::MutexLock lock(apply_mutex_);
    FAULTLINE_RETURN_IF_ERROR(Usable());
    sequence = applied_;
    if (sequence == snapshot_sequence_) return sequence;
    tmp = PathOf(format::TmpName(sequence));
    stage_ = CheckpointStage::kWrite;
    absl::StatusOr<std::unique_ptr<io::File>> written = WriteTmp(sequence, tmp, &size_bytes);
    if (!written.ok()) {
      (void)fs_.Remove(tmp);  // best effort; recovery removes it otherwise
      return StageError(written.status(), "write", tmp);
    }
    file = *std::move(written);
  }
  // Outside the lock: appends go on while the snapshot is synced.
  stage_ = CheckpointStage::kSync;
  absl::Status status = file->Sync();
  if (!status.ok()) return Stop(StageError(status, "sync", tmp));
  (void)file->Close();
  file.reset();
  const std::string path = PathOf(format::SnapshotName(sequence));
  stage_ = CheckpointStage::kRename;
  status = fs_.Rename(tmp, path);
  if (!status.ok()) {
    (void)fs_.Remove(tmp);
    return StageError(status, "rename", tmp);
  }
  stage_ = CheckpointStage::kDirSync;
  status = fs_.SyncDir(dir_);
  if (!status.ok()) return Stop(StageError(status, "directory sync", dir_));
  // Durable under its name: from here on it may replace what it covers.
  snapshot_sequence_ = sequence;
  if (snapshots_.empty() || snapshots_.back() != sequence) snapshots_.push_back(sequence);
  unusable_.erase(sequence);
  ++stats_.checkpoints;
  stats_.snapshot_bytes += size_bytes;

  stage_ = CheckpointStage::kRelease;
  FAULTLINE_RETURN_IF_ERROR(RemoveOldSnapshots());
  status = wal_->Release(sequence + 1);
  if (!status.ok()) return StageError(status, "release", PathOf(format::kWalDirName));
  return sequence;
}

absl::Status Journal::RemoveOldSnapshots() {
  std::vector<uint64_t> keep;
  std::vector<uint64_t> remove;
  // Snapshots that failed verification go first; then the oldest beyond
  // kept_snapshots. Bounded by the snapshot files present.
  for (uint64_t sequence : snapshots_) {
    if (unusable_.count(sequence) != 0) {
      remove.push_back(sequence);
    } else {
      keep.push_back(sequence);
    }
  }
  while (keep.size() > options_.kept_snapshots) {
    remove.push_back(keep.front());
    keep.erase(keep.begin());
  }
  if (remove.empty()) return absl::OkStatus();
  for (uint64_t sequence : remove) {
    const std::string path = PathOf(format::SnapshotName(sequence));
    const absl::Status status = fs_.Remove(path);
    if (!status.ok() && !absl::IsNotFound(status)) return StageError(status, "release", path);
    unusable_.erase(sequence);
    ++stats_.removed_snapshots;
  }
  snapshots_ = std::move(keep);
  const absl::Status status = fs_.SyncDir(dir_);
  if (!status.ok()) return Stop(StageError(status, "directory sync", dir_));
  return absl::OkStatus();
}

absl::Status Journal::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  const absl::Status wal_closed = wal_->Close();
  // A journal a failure stopped owns up to it, as the WAL's Close does.
  return health_.ok() ? wal_closed : health_;
}

}  // namespace faultline::journal
