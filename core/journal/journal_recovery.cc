// core/journal/journal_recovery.cc — Journal::Recover: tmp cleanup, the
// newest snapshot that verifies, WAL replay (journal.h; FORMAT.md,
// "Recovery").
#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"
#include "core/journal/journal.h"
#include "core/journal/snapshot_format.h"
#include "core/journal/snapshot_io.h"
#include "core/journal/stage_error.h"

namespace faultline::journal {
namespace {

constexpr uint32_t kMaxKeptSnapshots = 16;
constexpr uint32_t kMinChunkBytes = 512;
constexpr uint32_t kMaxChunkBytes = 16u << 20;
// The most entries a journal directory may hold: the WAL's directory, the
// kept snapshots, a few tmp files and snapshots a crash brought back.
constexpr size_t kMaxDirectoryEntries = 4096;

absl::Status ValidateOptions(const JournalOptions& options) {
  if (options.kept_snapshots < 1 || options.kept_snapshots > kMaxKeptSnapshots) {
    return absl::InvalidArgumentError(absl::StrCat("kept_snapshots must be 1..",
                                                   kMaxKeptSnapshots));
  }
  if (options.chunk_bytes < kMinChunkBytes || options.chunk_bytes > kMaxChunkBytes) {
    return absl::InvalidArgumentError(absl::StrCat("chunk_bytes must be ", kMinChunkBytes, "..",
                                                   kMaxChunkBytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Journal>> Journal::Recover(io::FileSystem& fs,
                                                          runtime::Executor& executor,
                                                          std::string_view dir,
                                                          const JournalOptions& options,
                                                          StateMachine& machine) {
  FAULTLINE_RETURN_IF_ERROR(ValidateOptions(options));
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(dir));
  std::unique_ptr<Journal> journal(new Journal(fs, executor, std::string(dir), options, machine));
  const absl::Status status = journal->RecoverState();
  if (!status.ok()) {
    // Never leave a partial state behind for a caller to mistake for one.
    machine.Clear();
    return status;
  }
  return journal;
}

absl::Status Journal::RecoverState() {
  absl::Status status = fs_.CreateDir(dir_);
  if (!status.ok()) return StageError(status, "write", dir_);
  // The directory's own creation is durable before anything in it is.
  status = fs_.SyncDir(io::ParentDir(dir_));
  if (!status.ok()) return StageError(status, "directory sync", io::ParentDir(dir_));
  std::vector<uint64_t> snapshots;
  FAULTLINE_RETURN_IF_ERROR(ListDirectory(&snapshots));
  absl::Status newest_failure;
  FAULTLINE_RETURN_IF_ERROR(RestoreNewestSnapshot(snapshots, &newest_failure));
  return OpenWalAndReplay(newest_failure);
}

absl::Status Journal::ListDirectory(std::vector<uint64_t>* snapshots) {
  absl::StatusOr<std::vector<std::string>> names = fs_.List(dir_);
  if (!names.ok()) return StageError(names.status(), "read", dir_);
  if (names->size() > kMaxDirectoryEntries) {
    return absl::FailedPreconditionError(absl::StrCat("journal ", dir_, " holds ", names->size(),
                                                      " entries, more than ",
                                                      kMaxDirectoryEntries));
  }
  for (const std::string& name : *names) {
    if (name == format::kWalDirName) continue;
    if (format::IsTmpName(name)) {
      // A checkpoint that never reached its rename: never read, removed.
      // Not synced: a crash that brings it back leaves it to the next one.
      const std::string path = PathOf(name);
      const absl::Status status = fs_.Remove(path);
      if (!status.ok() && !absl::IsNotFound(status)) return StageError(status, "cleanup", path);
      ++recovery_.removed_tmp_files;
      continue;
    }
    std::optional<uint64_t> sequence = format::ParseSnapshotName(name);
    if (!sequence.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "journal directory ", dir_, " holds a file that is not the journal's: '", name, "'"));
    }
    snapshots->push_back(*sequence);
  }
  // List() is sorted, and fixed-width names sort numerically.
  FAULTLINE_CHECK(std::is_sorted(snapshots->begin(), snapshots->end()));
  snapshots_ = *snapshots;
  return absl::OkStatus();
}

absl::Status Journal::RestoreNewestSnapshot(const std::vector<uint64_t>& snapshots,
                                            absl::Status* newest_failure) {
  machine_.Clear();
  snapshot_sequence_ = 0;
  // Newest first; bounded by the snapshot files listed.
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    const std::string path = PathOf(format::SnapshotName(*it));
    absl::StatusOr<std::unique_ptr<io::File>> file = fs_.Open(path, io::OpenMode::kReadWrite);
    absl::Status status = file.ok() ? LoadSnapshotFile(**file, *it, options_.chunk_bytes, machine_)
                                    : file.status();
    if (file.ok()) (void)(*file)->Close();
    if (status.ok()) {
      snapshot_sequence_ = *it;
      recovery_.from_snapshot = true;
      recovery_.snapshot_sequence = *it;
      return absl::OkStatus();
    }
    if (absl::IsFailedPrecondition(status)) return StageError(status, "verify", path);
    // Never used; an older snapshot may still do, if the WAL holds the
    // records after it (OpenWalAndReplay decides).
    const absl::Status named = StageError(status, io::IsIoError(status) ? "read" : "verify", path);
    recovery_.skipped_snapshots.push_back(std::string(named.message()));
    unusable_.insert(*it);
    if (newest_failure->ok()) *newest_failure = named;
    machine_.Clear();
  }
  return absl::OkStatus();
}

absl::Status Journal::OpenWalAndReplay(const absl::Status& newest_failure) {
  const uint64_t from = snapshot_sequence_;
  FAULTLINE_CHECK(from < UINT64_MAX);
  wal::WalOptions wal_options = options_.wal;
  // A log with no segment left starts right after the snapshot.
  wal_options.initial_sequence = from + 1;
  const std::string wal_dir = PathOf(format::kWalDirName);
  absl::StatusOr<std::unique_ptr<wal::Wal>> opened =
      wal::Wal::Open(fs_, executor_, wal_dir, wal_options);
  if (!opened.ok()) return StageError(opened.status(), "wal", wal_dir);
  wal_ = *std::move(opened);
  const uint64_t first = wal_->first_sequence();
  const uint64_t durable = wal_->durable_sequence();
  if (first > from + 1) {
    // The records between the usable state and the log are gone.
    if (!newest_failure.ok()) {
      if (io::IsIoError(newest_failure)) return newest_failure;  // retry may read it
      return absl::DataLossError(absl::StrCat(
          newest_failure.message(), "; no older state can replace it: the wal starts at record ",
          first, " and the newest usable state covers ", from));
    }
    return absl::DataLossError(absl::StrCat(
        "journal verify ", dir_, ": the wal starts at record ", first, " but ",
        from == 0 ? std::string("no snapshot exists")
                  : absl::StrCat(format::SnapshotName(from), " covers only ", from)));
  }
  if (durable < from) {
    return absl::DataLossError(absl::StrCat("journal verify ", wal_dir, ": the wal ends at record ",
                                            durable, ", before ", format::SnapshotName(from)));
  }
  absl::StatusOr<std::unique_ptr<wal::WalReader>> reader = wal_->NewReader(from + 1);
  if (!reader.ok()) return StageError(reader.status(), "replay", wal_dir);
  applied_ = from;
  // Bounded by the durable records after the snapshot.
  while (applied_ < durable) {
    absl::StatusOr<std::optional<wal::Record>> next = (*reader)->Next();
    if (!next.ok()) return StageError(next.status(), "replay", wal_dir);
    if (!next->has_value()) break;
    FAULTLINE_CHECK((*next)->sequence == applied_ + 1);
    const absl::Status status = machine_.Apply((*next)->sequence, (*next)->payload);
    if (!status.ok()) {
      return absl::DataLossError(absl::StrCat("journal replay ", wal_dir, ": record ",
                                              (*next)->sequence, " refused by the state machine: ",
                                              status.message()));
    }
    applied_ = (*next)->sequence;
    ++recovery_.replayed_records;
  }
  if (applied_ != durable) {
    return absl::DataLossError(absl::StrCat("journal replay ", wal_dir, ": the wal ended at ",
                                            applied_, " of ", durable));
  }
  // A snapshot is written only of durable records, so a skipped snapshot's
  // name alone says records up to its sequence existed: a log that ends
  // before it (its segments released, the last one lost) cannot make an
  // older state whole.
  if (!unusable_.empty() && *unusable_.rbegin() > applied_) {
    FAULTLINE_CHECK(!newest_failure.ok());
    if (io::IsIoError(newest_failure)) return newest_failure;  // retry may read it
    return absl::DataLossError(absl::StrCat(
        newest_failure.message(), "; no older state can replace it: the wal ends at record ",
        applied_, " and the newest usable state covers ", from));
  }
  return absl::OkStatus();
}

}  // namespace faultline::journal
