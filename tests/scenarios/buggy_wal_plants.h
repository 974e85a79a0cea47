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
//  SaltKnownToPayloads  (defect 4) payload authors know the salt of the
//      segment their record lands in: a decorator records the salt of every
//      segment header the WAL writes, and the scenario hook
//      WalScenarioHooks::payload_salt hands it to the writers, who forge
//      "this log's" frames with it (sequences and watermarks just ahead of
//      their own record, as a writer would write them next). A torn tail
//      behind such a payload then looks like damage, as it did for every
//      embedded frame before the salt existed. Faithful in kind: the WAL's
//      own salt derivation is untouched (guessing its seed does not help);
//      the plant only lets the author know its result. Only the active
//      segment's salt can be known when a payload is made, so a record that
//      opens a new segment carries frames that do not verify there.
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

#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
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

// --- SaltKnownToPayloads --------------------------------------------------------

// The salts of the segments a WAL wrote headers for, by first sequence.
// Shared by the decorator (which learns them) and the payload hook (which
// tells them), across the runs of a sweep.
class KnownSalts {
 public:
  // A header for `first_sequence` is written only for the newest segment
  // (a rotation, or recovery creating the active segment), so the salts
  // recorded for later first sequences are stale: dropped. That also keeps
  // an earlier run's salts from answering: every run writes its first
  // segment's header before any payload is made.
  void Learn(uint64_t first_sequence, uint32_t salt) {
    salts_.erase(salts_.upper_bound(first_sequence), salts_.end());
    salts_[first_sequence] = salt;
  }
  // The salt of the newest segment that can hold `sequence`.
  std::optional<uint32_t> SaltFor(uint64_t sequence) const {
    auto it = salts_.upper_bound(sequence);
    if (it == salts_.begin()) return std::nullopt;
    return std::prev(it)->second;
  }

 private:
  std::map<uint64_t, uint32_t> salts_;
};

class SaltKnownToPayloadsFileSystem final : public ForwardingFileSystem {
 public:
  SaltKnownToPayloadsFileSystem(io::FileSystem& inner, KnownSalts& salts)
      : ForwardingFileSystem(inner), salts_(salts) {}

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view path,
                                     std::unique_ptr<io::File> file) override;

 private:
  KnownSalts& salts_;
};

// Learns the salt from a segment header written at offset 0.
class SaltKnownToPayloadsFile final : public ForwardingFile {
 public:
  SaltKnownToPayloadsFile(std::unique_ptr<io::File> inner, KnownSalts& salts)
      : ForwardingFile(std::move(inner)), salts_(salts) {}
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    const absl::Status status = ForwardingFile::WriteAt(offset, data);
    if (status.ok() && offset == 0 && data.size() >= wal::format::kSegmentHeaderBytes) {
      const wal::format::DecodedHeader decoded = wal::format::DecodeSegmentHeader(
          std::string_view(data.data(), wal::format::kSegmentHeaderBytes));
      if (decoded.problem == wal::format::HeaderProblem::kNone) {
        salts_.Learn(decoded.header.first_sequence, decoded.header.salt);
      }
    }
    return status;
  }

 private:
  KnownSalts& salts_;
};

inline std::unique_ptr<io::File> SaltKnownToPayloadsFileSystem::WrapFile(
    std::string_view path, std::unique_ptr<io::File> file) {
  const std::string_view name = path.substr(path.rfind('/') + 1);
  if (!wal::format::ParseSegmentName(name).has_value()) return file;
  return std::make_unique<SaltKnownToPayloadsFile>(std::move(file), salts_);
}

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
