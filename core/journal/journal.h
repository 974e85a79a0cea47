// core/journal/journal.h — a state machine fed by a WAL, with snapshots:
// Append, Checkpoint, Recover.
//
// A Journal owns one directory (FORMAT.md, "Directory"): a WAL in `wal/`
// (core/wal) and snapshot files beside it. Records are opaque to the
// journal; a user StateMachine (state_machine.h) gives them meaning.
//
// APPEND. A record is validated by the machine, appended to the WAL, and
// applied to the machine once it is durable, in sequence order. Append
// returns its sequence number when the record is durable and applied.
// Several fibers may append at once (the WAL batches them).
//
// CHECKPOINT. Writes the machine's state as a snapshot covering every record
// applied so far (applies are held back while the state is being written):
//   write   the body, in chunks, then the header, into snapshot-<seq>.snap.tmp
//   sync    the tmp file (fdatasync)
//   rename  tmp -> snapshot-<seq>.snap
//   directory sync  of the journal directory: the new name is durable
//   release snapshots older than the newest `kept_snapshots` are removed
//           (directory synced), then the WAL segments whose records the new
//           snapshot covers are released
// Nothing is released before the snapshot that covers it is durable under
// its name. A crash at any point leaves a directory Recover accepts, with
// the state of some acknowledged-or-later prefix of the records.
//
// FAIL-STOP. A failed sync or directory sync (in a checkpoint or in the
// WAL) stops the journal for good, as the WAL stops: the failed call and
// every later one fail (FailedPrecondition for the later ones) and the owner
// must Recover again. A failed write, rename or release does not: the call
// fails, the tmp file is removed if possible, and the journal goes on.
//
// RECOVER. Removes leftover tmp files (never reads them); restores the
// newest snapshot that verifies (magic, header and body checksums, its
// name's sequence, its length, a body the machine accepts); opens the WAL
// and replays every record after the snapshot's sequence. A snapshot that
// does not verify is never used: recovery falls back to an older one when
// the WAL still holds every record after it; otherwise it fails with
// DataLoss naming the file (or the I/O error, naming the file, if reading it
// failed). It never starts from an empty or partial state while a snapshot
// or the WAL says records existed. Recovery is idempotent.
//
// ERRORS name the stage that failed — "write", "sync", "rename",
// "directory sync", "release", "read", "verify", "replay", "wal" — and the
// file, and keep the code of the underlying error (io::IsIoError still
// holds for an EIO).
//
// THREADING. All calls from fibers of the executor given to Recover. At
// most one Checkpoint at a time (another is FailedPrecondition). Destroy
// the journal only when no call is in flight (a crashed node's calls have
// unwound).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/file_system.h"
#include "core/journal/state_machine.h"
#include "core/runtime/executor.h"
#include "core/runtime/mutex.h"
#include "core/wal/wal.h"

namespace faultline::journal {

// The WAL options a journal starts from: the WAL's defaults with 1 MiB
// segments, so that a checkpoint releases all but the newest MiB of the
// records it covers, and recovery skips at most that much to reach the
// first record after the snapshot.
inline wal::WalOptions DefaultJournalWalOptions() {
  wal::WalOptions options;
  options.segment_size_bytes = 1u << 20;
  return options;
}

struct JournalOptions {
  // The WAL's options; initial_sequence is set by the journal (the record
  // after the snapshot recovery starts from).
  wal::WalOptions wal = DefaultJournalWalOptions();
  // Snapshot files kept (1..16): the newest and older ones to fall back on
  // while the WAL still holds the records after them.
  uint32_t kept_snapshots = 2;
  // The largest piece of a snapshot written or read at once (512 B..16 MiB).
  uint32_t chunk_bytes = 1u << 20;
};

enum class CheckpointStage : uint8_t {
  kNone,  // no checkpoint in progress
  kWrite,
  kSync,
  kRename,
  kDirSync,
  kRelease,
};
std::string_view CheckpointStageName(CheckpointStage stage);

// What Recover found.
struct JournalRecovery {
  bool from_snapshot = false;
  uint64_t snapshot_sequence = 0;   // 0 without a snapshot
  uint64_t replayed_records = 0;
  uint32_t removed_tmp_files = 0;
  // Snapshots newer than the one used that did not verify or could not be
  // read: "name: error", newest first.
  std::vector<std::string> skipped_snapshots;
};

struct JournalStats {
  uint64_t appended = 0;
  uint64_t checkpoints = 0;        // completed (renamed and directory synced)
  uint64_t snapshot_bytes = 0;     // written by completed checkpoints
  uint64_t removed_snapshots = 0;
};

class Journal {
 public:
  // Recovers (or creates) the journal in `dir` of `fs`, restoring into
  // `machine` (which must outlive the journal; Recover clears it first).
  //  InvalidArgument     bad options or path
  //  FailedPrecondition  a foreign file in `dir`, a snapshot of another
  //                      format version, the WAL's own refusals
  //  DataLoss            no usable snapshot and WAL combination (message
  //                      names the file), or the WAL's DataLoss
  //  I/O errors          as returned, with the stage and file
  static absl::StatusOr<std::unique_ptr<Journal>> Recover(io::FileSystem& fs,
                                                          runtime::Executor& executor,
                                                          std::string_view dir,
                                                          const JournalOptions& options,
                                                          StateMachine& machine);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends `record`; returns its sequence once it is durable and applied.
  //  InvalidArgument     the machine refuses it, or the WAL does (size)
  //  FailedPrecondition  stopped after a failure, or closed
  //  WAL errors          the WAL's (a failed sync stops the journal)
  absl::StatusOr<uint64_t> Append(std::string_view record);

  // Writes a snapshot of everything applied (see the file comment) and
  // returns the sequence it covers; OK at once when the newest snapshot
  // already covers it.
  absl::StatusOr<uint64_t> Checkpoint();

  // Closes the WAL. Returns the failure that stopped the journal, if one
  // did, else the WAL's Close result. Later calls fail. Idempotent.
  absl::Status Close();

  uint64_t applied_sequence() const { return applied_; }
  // The sequence the newest durable snapshot covers (0: none).
  uint64_t snapshot_sequence() const { return snapshot_sequence_; }
  // OK, or the failure that stopped the journal.
  absl::Status health() const { return health_; }
  // The stage of the checkpoint in progress (kNone when none is).
  CheckpointStage checkpoint_stage() const { return stage_; }
  const JournalRecovery& recovery() const { return recovery_; }
  JournalStats stats() const { return stats_; }
  wal::Wal& wal() { return *wal_; }

 private:
  Journal(io::FileSystem& fs, runtime::Executor& executor, std::string dir,
          const JournalOptions& options, StateMachine& machine);

  // --- recovery (journal_recovery.cc) ---
  absl::Status RecoverState();
  absl::Status ListDirectory(std::vector<uint64_t>* snapshots);
  // Restores the newest snapshot that verifies; sets snapshot_sequence_.
  absl::Status RestoreNewestSnapshot(const std::vector<uint64_t>& snapshots,
                                     absl::Status* newest_failure);
  absl::Status OpenWalAndReplay(const absl::Status& newest_failure);

  // --- work ---
  // Applies every durable record held in pending_, in order.
  absl::Status ApplyDurable();
  // Creates `tmp` and writes the snapshot of the state after `sequence`
  // records into it (not synced).
  absl::StatusOr<std::unique_ptr<io::File>> WriteTmp(uint64_t sequence, const std::string& tmp,
                                                     uint64_t* size_bytes);
  absl::Status RemoveOldSnapshots();
  // Stops the journal with `status` (the first failure wins); returns it.
  absl::Status Stop(absl::Status status);
  absl::Status Usable() const;
  std::string PathOf(std::string_view name) const;

  io::FileSystem& fs_;
  runtime::Executor& executor_;
  const std::string dir_;
  const JournalOptions options_;
  StateMachine& machine_;
  std::unique_ptr<wal::Wal> wal_;
  runtime::Mutex apply_mutex_;      // held by appliers and while a snapshot is written
  std::map<uint64_t, std::string> pending_;  // appended, not applied: sequence -> record
  uint64_t applied_ = 0;
  uint64_t snapshot_sequence_ = 0;
  std::vector<uint64_t> snapshots_;  // snapshot files present, ascending
  std::set<uint64_t> unusable_;      // of those, the ones recovery could not use
  absl::Status health_;
  bool closed_ = false;
  bool checkpointing_ = false;
  CheckpointStage stage_ = CheckpointStage::kNone;
  JournalRecovery recovery_;
  JournalStats stats_;
};

}  // namespace faultline::journal
