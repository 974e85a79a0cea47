// tests/scenarios/buggy_wal_plants.h — test-only re-plants of five defects
// that once lived inside core/wal, to prove the WAL scenarios now find
// their kind (see docs/results/bug_detection.md).
//
// The defects were fixed inside the WAL, where no decorator reaches, so each
// plant reproduces the defect's effect at the closest seam it has:
//
//  RecoveryKeepsDirUnsynced  (defect 1) the SyncDir that ends a recovery
//      (after the final truncate + fdatasync of the active segment) does
//      nothing: recovery adopts a segment whose name may not be durable, as
//      the WAL did before the fix. Faithful: the same calls minus that one.
//  ReaderRefusesWriterLimit  (defect 2) the reader's limit on segments is
//      below the writer's: listing a directory that holds max_segments
//      segments (which the writer may create) fails with
//      FailedPrecondition, as recovery once refused more than 2^20 segments
//      the writer never limited. Scaled down: the gap is one segment, so
//      only seeds that reach the writer's limit (extreme configurations)
//      can see it.
//  SecondOpenSucceeds  (defect 3) LockFile never refuses: a second Wal opens
//      the directory while the destroyed one's flusher is still parked in a
//      write, whose bytes then land over the new Wal's acknowledged record.
//      Half of the fix (the flusher's abandonment checks) stays in force;
//      they cannot stop a call already in flight, which is what the lock is
//      for.
//  (defect 4) a WAL whose salt payload authors know: the scenario hook
//      WalScenarioHooks::salt_seed = kGuessedSaltSeed. The writer mixes the
//      clock and the directory into each salt, so with the hook set the
//      writers forge frames with the newest segment's salt itself (an author
//      who knows the seed and guesses the creation time); those frames
//      verify, as every embedded frame did before the salt existed. Records
//      that land in a segment created after the payload was made are not
//      covered, so this detects less often than a fixed salt would.
//  (defect 5) Close() that returns OK although abandonment cancelled what it
//      was flushing: WalScenarioHooks::close_status maps Cancelled to OK.
//  CloseHidesFailure  Close() of a Wal stopped by a failed write or sync
//      returns OK instead of that failure (every error but Cancelled to OK).
//  RefusesMaxSizeRecord  Append refuses a payload of exactly
//      max_record_bytes (WalScenarioHooks::refuse_append; the WAL is not
//      called, as if its size check were off by one).
//
// Contract: each decorator forwards to an inner file system that outlives
// it and the files it opens.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/wal/format.h"
#include "core/wal/wal.h"
#include "scenarios/io/forwarding_file_system.h"

namespace faultline::scenarios::testing {

// --- RecoveryKeepsDirUnsynced ---------------------------------------------------

class RecoveryKeepsDirUnsyncedFileSystem final : public ForwardingFileSystem {
 public:
  RecoveryKeepsDirUnsyncedFileSystem(io::FileSystem& inner, const wal::WalOptions&)
      : ForwardingFileSystem(inner) {}

  enum class Op : uint8_t { kOther, kTruncate, kSync };
  void Note(Op op) {
    before_last_ = last_;
    last_ = op;
  }

  absl::Status SyncDir(std::string_view dir) override {
    const bool ends_recovery = before_last_ == Op::kTruncate && last_ == Op::kSync;
    Note(Op::kOther);
    if (ends_recovery) return absl::OkStatus();  // the sync the fix added
    return ForwardingFileSystem::SyncDir(dir);
  }
  absl::Status Remove(std::string_view path) override {
    Note(Op::kOther);
    return ForwardingFileSystem::Remove(path);
  }
  absl::Status Rename(std::string_view from, std::string_view to) override {
    Note(Op::kOther);
    return ForwardingFileSystem::Rename(from, to);
  }

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view, std::unique_ptr<io::File> file) override;

 private:
  Op last_ = Op::kOther;
  Op before_last_ = Op::kOther;
};

class RecoveryKeepsDirUnsyncedFile final : public ForwardingFile {
 public:
  RecoveryKeepsDirUnsyncedFile(std::unique_ptr<io::File> inner,
                               RecoveryKeepsDirUnsyncedFileSystem& fs)
      : ForwardingFile(std::move(inner)), fs_(fs) {}
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    fs_.Note(RecoveryKeepsDirUnsyncedFileSystem::Op::kOther);
    return ForwardingFile::WriteAt(offset, data);
  }
  absl::Status Append(absl::Span<const char> data) override {
    fs_.Note(RecoveryKeepsDirUnsyncedFileSystem::Op::kOther);
    return ForwardingFile::Append(data);
  }
  absl::Status Truncate(uint64_t size_bytes) override {
    fs_.Note(RecoveryKeepsDirUnsyncedFileSystem::Op::kTruncate);
    return ForwardingFile::Truncate(size_bytes);
  }
  absl::Status Sync() override {
    fs_.Note(RecoveryKeepsDirUnsyncedFileSystem::Op::kSync);
    return ForwardingFile::Sync();
  }

 private:
  RecoveryKeepsDirUnsyncedFileSystem& fs_;
};

inline std::unique_ptr<io::File> RecoveryKeepsDirUnsyncedFileSystem::WrapFile(
    std::string_view, std::unique_ptr<io::File> file) {
  return std::make_unique<RecoveryKeepsDirUnsyncedFile>(std::move(file), *this);
}

// --- ReaderRefusesWriterLimit ---------------------------------------------------

class ReaderRefusesWriterLimitFileSystem final : public ForwardingFileSystem {
 public:
  ReaderRefusesWriterLimitFileSystem(io::FileSystem& inner, const wal::WalOptions& options)
      : ForwardingFileSystem(inner), writer_limit_(options.max_segments) {}

  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override {
    absl::StatusOr<std::vector<std::string>> names = ForwardingFileSystem::List(dir);
    if (!names.ok()) return names;
    size_t segments = 0;
    for (const std::string& name : *names) {
      if (wal::format::ParseSegmentName(name).has_value()) ++segments;
    }
    if (segments >= writer_limit_) {
      return absl::FailedPreconditionError("wal holds more segments than recovery reads");
    }
    return names;
  }

 private:
  const size_t writer_limit_;
};

// --- SecondOpenSucceeds ----------------------------------------------------------

class SecondOpenSucceedsFileSystem final : public ForwardingFileSystem {
 public:
  SecondOpenSucceedsFileSystem(io::FileSystem& inner, const wal::WalOptions&)
      : ForwardingFileSystem(inner) {}

  absl::StatusOr<std::unique_ptr<io::FileLock>> LockFile(std::string_view path) override {
    absl::StatusOr<std::unique_ptr<io::FileLock>> lock = ForwardingFileSystem::LockFile(path);
    if (absl::IsFailedPrecondition(lock.status())) return std::make_unique<NoLock>();
    return lock;
  }

 private:
  class NoLock final : public io::FileLock {};
};

// --- Close misreporting -----------------------------------------------------------

inline absl::Status CloseHidesCancellation(absl::Status status) {
  return absl::IsCancelled(status) ? absl::OkStatus() : status;
}

// Close() of a Wal that stopped after a failed write or sync returns OK
// instead of that failure (as if nothing it had been given was lost). A
// cancellation (the Wal was destroyed) is still reported.
inline absl::Status CloseHidesFailure(absl::Status status) {
  return absl::IsCancelled(status) ? status : absl::OkStatus();
}

// --- Append refusing valid records --------------------------------------------------

// An off-by-one in Append's size check: a payload of exactly
// max_record_bytes is refused as too large.
inline bool RefusesMaxSizeRecord(std::string_view payload, const wal::WalOptions& options) {
  return payload.size() >= options.max_record_bytes;
}

}  // namespace faultline::scenarios::testing
