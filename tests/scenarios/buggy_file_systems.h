// tests/scenarios/buggy_file_systems.h — test-only decorators that turn the
// correct WAL into a buggy one, to prove the WAL scenarios' checkers bite.
//
// core/wal may not be edited for this, and a deliberate bug must never reach
// the library, so each bug is emulated from outside: the WAL talks to the
// simulated disk through one of these io::FileSystem decorators, which makes
// the WAL's own, correct calls behave like the buggy variant's:
//
//  AckBeforeSync          File::Sync reports OK at once and performs the
//                         real sync a little later in a fiber of its own:
//                         the WAL acknowledges a batch before its sync
//                         completed.
//  RetryFailedSync        a Sync that fails with EIO is retried, and the
//                         retry's OK is reported (the "fsyncgate" retry).
//  NoTornTailTruncate     File::Truncate does nothing and reports OK: the
//                         torn tail (and a failed batch) stays in the file
//                         while the WAL appends after it.
//  NoRotationDirSync      the SyncDir that follows the exclusive creation of
//                         a new segment (rotation) does nothing and reports
//                         OK.
//  CorruptionAsCleanEnd   a segment with an invalid record ends, for the WAL,
//                         right before it, and every later segment is
//                         hidden: mid-log corruption read as a clean end.
//
//  RetrySyncOnNoSpace     a Sync that failed with ENOSPC at writeback is
//                         taken for a full disk that will drain: retried,
//                         and the retry's OK reported. Only ENOSPC at
//                         writeback (kernel profile sync_enospc) reaches it.
//  RetryFailedWriteAtEnd  a write that failed with EIO is taken to have
//                         written nothing and is retried once at the end of
//                         the file (Append). Harmless while a failed write
//                         leaves nothing; wrong once it leaves a prefix
//                         (kernel profile failed_write_leaves_prefix).
//
// Contract: each decorator forwards to an inner file system that outlives
// it and the files it opens.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/runtime/spawn.h"
#include "core/wal/format.h"
#include "scenarios/io/forwarding_file_system.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::scenarios::testing {

// --- AckBeforeSync -----------------------------------------------------------

// Sync() starts the real sync in a fiber of its own, kAckBeforeSyncDelayNs of
// virtual time later, and reports OK at once. The fiber runs on the caller's
// node, so a crash in the window loses the "acknowledged" data.
inline constexpr int64_t kAckBeforeSyncDelayNs = 50'000;

class AckBeforeSyncFile final : public io::File {
 public:
  explicit AckBeforeSyncFile(std::unique_ptr<io::File> inner) : inner_(std::move(inner)) {}

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    return inner_->ReadAt(offset, out);
  }
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    return inner_->WriteAt(offset, data);
  }
  absl::Status Append(absl::Span<const char> data) override { return inner_->Append(data); }
  absl::Status Sync() override {
    sim::Scheduler* scheduler = sim::Scheduler::Active();
    FAULTLINE_CHECK(scheduler != nullptr);
    std::shared_ptr<io::File> inner = inner_;  // alive until the late sync ran
    (void)runtime::Spawn(*scheduler, "late-sync", [scheduler, inner] {
      scheduler->SleepFor(kAckBeforeSyncDelayNs);
      (void)inner->Sync();
    });
    return absl::OkStatus();
  }
  absl::Status Truncate(uint64_t size_bytes) override { return inner_->Truncate(size_bytes); }
  absl::StatusOr<uint64_t> Size() override { return inner_->Size(); }
  absl::Status Close() override { return absl::OkStatus(); }  // the late sync may still need it

 private:
  std::shared_ptr<io::File> inner_;
};

class AckBeforeSyncFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view, std::unique_ptr<io::File> file) override {
    return std::make_unique<AckBeforeSyncFile>(std::move(file));
  }
};

// --- RetryFailedSync ---------------------------------------------------------

class RetryFailedSyncFile final : public ForwardingFile {
 public:
  using ForwardingFile::ForwardingFile;
  absl::Status Sync() override {
    absl::Status status = ForwardingFile::Sync();
    // Bounded: a few retries, as a buggy retry loop would do.
    for (int retry = 0; retry < 3 && io::IsIoError(status); ++retry) status = ForwardingFile::Sync();
    return status;
  }
};

class RetryFailedSyncFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view, std::unique_ptr<io::File> file) override {
    return std::make_unique<RetryFailedSyncFile>(std::move(file));
  }
};

// --- RetrySyncOnNoSpace ------------------------------------------------------

class RetrySyncOnNoSpaceFile final : public ForwardingFile {
 public:
  using ForwardingFile::ForwardingFile;
  absl::Status Sync() override {
    absl::Status status = ForwardingFile::Sync();
    // Bounded: a few retries, as a "wait for space" loop would do.
    for (int retry = 0; retry < 3 && io::IsIoError(status) &&
                        status.message().find("ENOSPC") != absl::string_view::npos;
         ++retry) {
      status = ForwardingFile::Sync();
    }
    return status;
  }
};

class RetrySyncOnNoSpaceFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view, std::unique_ptr<io::File> file) override {
    return std::make_unique<RetrySyncOnNoSpaceFile>(std::move(file));
  }
};

// --- RetryFailedWriteAtEnd ---------------------------------------------------

class RetryFailedWriteAtEndFile final : public ForwardingFile {
 public:
  using ForwardingFile::ForwardingFile;
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    const absl::Status status = ForwardingFile::WriteAt(offset, data);
    if (!io::IsIoError(status)) return status;
    return ForwardingFile::Append(data);  // "nothing was written": write it again
  }
};

class RetryFailedWriteAtEndFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view, std::unique_ptr<io::File> file) override {
    return std::make_unique<RetryFailedWriteAtEndFile>(std::move(file));
  }
};

// --- NoTornTailTruncate ------------------------------------------------------

class NoTruncateFile final : public ForwardingFile {
 public:
  using ForwardingFile::ForwardingFile;
  absl::Status Truncate(uint64_t) override { return absl::OkStatus(); }
};

class NoTruncateFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view, std::unique_ptr<io::File> file) override {
    return std::make_unique<NoTruncateFile>(std::move(file));
  }
};

// --- NoRotationDirSync -------------------------------------------------------

class NoRotationDirSyncFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path,
                                                 io::OpenMode mode) override {
    // The WAL creates a segment exclusively only when it rotates.
    if (mode == io::OpenMode::kCreateExclusive) skip_next_dir_sync_ = true;
    return ForwardingFileSystem::Open(path, mode);
  }
  absl::Status SyncDir(std::string_view dir) override {
    if (skip_next_dir_sync_) {
      skip_next_dir_sync_ = false;
      return absl::OkStatus();
    }
    return ForwardingFileSystem::SyncDir(dir);
  }

 private:
  bool skip_next_dir_sync_ = false;
};

// --- CorruptionAsCleanEnd ----------------------------------------------------

// Files of a segment that ends early for the WAL: Size() reports the clean
// end (reads stay as they are: the WAL reads only up to Size()).
class CleanEndFile final : public ForwardingFile {
 public:
  CleanEndFile(std::unique_ptr<io::File> inner, uint64_t clean_end_bytes)
      : ForwardingFile(std::move(inner)), clean_end_bytes_(clean_end_bytes) {}
  absl::StatusOr<uint64_t> Size() override {
    absl::StatusOr<uint64_t> size = ForwardingFile::Size();
    if (!size.ok()) return size;
    return std::min(*size, clean_end_bytes_);
  }

 private:
  uint64_t clean_end_bytes_;
};

// The offset of the first invalid header or record of segment `path` in
// `fs`, or nullopt if it is valid to its end (or cannot be read).
inline std::optional<uint64_t> FirstBadSegmentOffset(io::FileSystem& fs, const std::string& path) {
  absl::StatusOr<std::unique_ptr<io::File>> file = fs.Open(path, io::OpenMode::kReadWrite);
  if (!file.ok()) return std::nullopt;
  absl::StatusOr<uint64_t> size = (*file)->Size();
  if (!size.ok()) return std::nullopt;
  std::string bytes(*size, '\0');
  absl::StatusOr<size_t> got = (*file)->ReadAt(0, absl::Span<char>(bytes.data(), bytes.size()));
  if (!got.ok()) return std::nullopt;
  bytes.resize(*got);
  const wal::format::DecodedHeader header = wal::format::DecodeSegmentHeader(bytes);
  if (header.problem != wal::format::HeaderProblem::kNone) return 0;
  uint64_t offset = wal::format::kSegmentHeaderBytes;
  while (offset < bytes.size()) {  // bounded: each frame consumes >= 1 byte
    const wal::format::DecodedFrame frame =
        wal::format::DecodeFrame(std::string_view(bytes).substr(offset), header.header.salt);
    if (frame.problem != wal::format::FrameProblem::kNone) return offset;
    offset += wal::format::FrameBytes(frame.payload.size());
  }
  return std::nullopt;
}

class CorruptionAsCleanEndFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override {
    absl::StatusOr<std::vector<std::string>> names = ForwardingFileSystem::List(dir);
    if (!names.ok()) return names;
    std::vector<std::string> kept;
    for (const std::string& name : *names) {  // sorted: segment order
      kept.push_back(name);
      if (!wal::format::ParseSegmentName(name).has_value()) continue;
      const std::string path = io::JoinPath(dir, name);
      std::optional<uint64_t> bad_at = FirstBadSegmentOffset(inner(), path);
      if (bad_at.has_value()) {
        clean_end_path_ = path;
        clean_end_bytes_ = *bad_at;
        break;  // the log "ends" here: later segments are not looked at
      }
    }
    return kept;
  }

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view path,
                                     std::unique_ptr<io::File> file) override {
    if (path != clean_end_path_) return file;
    return std::make_unique<CleanEndFile>(std::move(file), clean_end_bytes_);
  }

 private:
  std::string clean_end_path_;
  uint64_t clean_end_bytes_ = 0;
};

}  // namespace faultline::scenarios::testing
