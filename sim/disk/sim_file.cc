// sim/disk/sim_file.cc — one open handle of a simulated file (see
// sim_file.h and sim_file_system.h).
#include "sim/disk/sim_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"
#include "sim/disk/crash_choices.h"

namespace faultline::sim::disk {
namespace {

constexpr uint64_t kMaxOffset = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

}  // namespace

SimFile::SimFile(SimFileSystem* fs, uint64_t inode_id, SimFileSystem::CacheInode* inode,
                 std::string path)
    : fs_(fs),
      inode_id_(inode_id),
      inode_(inode),
      path_(std::move(path)),
      fs_exists_(fs->exists_),
      incarnation_(fs->incarnation_),
      generation_(fs->generation_),
      seen_error_seq_(inode->error_seq) {}

bool SimFile::Live() const {
  return *fs_exists_ && fs_->TicketLive(Ticket());
}

absl::Status SimFile::Check(std::string_view what) const {
  if (closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat(AsAbsl(what), " ", path_, ": the file is closed"));
  }
  if (!*fs_exists_) {
    return absl::FailedPreconditionError(
        absl::StrCat(AsAbsl(what), " ", path_, ": the SimDisk was destroyed"));
  }
  if (!Live()) return io::NodeDeadError(absl::StrCat(AsAbsl(what), " ", path_));
  return absl::OkStatus();
}

absl::StatusOr<size_t> SimFile::ReadAt(uint64_t offset, absl::Span<char> out) {
  FAULTLINE_RETURN_IF_ERROR(Check("read"));
  auto read = fs_->Armed(ArmedOps::kAnyOp, path_, [&] { return DoRead(offset, out); });
  // len is what was read (short at the end of the file), or asked for on error.
  fs_->TraceIo("read", path_, inode_id_, {"off", offset}, {"len", read.ok() ? *read : out.size()},
               read.status());
  return read;
}

absl::Status SimFile::WriteAt(uint64_t offset, absl::Span<const char> data) {
  FAULTLINE_RETURN_IF_ERROR(Check("write"));
  absl::Status status = fs_->Armed(
      ArmedOps::kWrite, path_, [&] { return DoWrite(offset, /*append=*/false, data); },
      [&](const CrashArm&) { MidWrite(offset, /*append=*/false, data); });
  fs_->TraceIo("write", path_, inode_id_, {"off", offset}, {"len", data.size()}, status);
  return status;
}

absl::Status SimFile::Append(absl::Span<const char> data) {
  FAULTLINE_RETURN_IF_ERROR(Check("append"));
  const uint64_t offset = inode_->data.size();  // where the bytes go, for the trace
  absl::Status status = fs_->Armed(
      ArmedOps::kWrite, path_, [&] { return DoWrite(0, /*append=*/true, data); },
      [&](const CrashArm&) { MidWrite(0, /*append=*/true, data); });
  fs_->TraceIo("append", path_, inode_id_, {"off", offset}, {"len", data.size()}, status);
  return status;
}

absl::Status SimFile::Sync() {
  FAULTLINE_RETURN_IF_ERROR(Check("fdatasync"));
  absl::Status status = fs_->Armed(ArmedOps::kFileSync, path_, [&] { return DoSync(); });
  fs_->TraceIo("fdatasync", path_, inode_id_, {}, {}, status);
  return status;
}

absl::Status SimFile::Truncate(uint64_t size_bytes) {
  FAULTLINE_RETURN_IF_ERROR(Check("truncate"));
  absl::Status status =
      fs_->Armed(ArmedOps::kAnyOp, path_, [&] { return DoTruncate(size_bytes); });
  fs_->TraceIo("truncate", path_, inode_id_, {"size", size_bytes}, {}, status);
  return status;
}

absl::StatusOr<uint64_t> SimFile::Size() {
  FAULTLINE_RETURN_IF_ERROR(Check("size"));
  return fs_->Armed(ArmedOps::kAnyOp, path_,
                    [&]() -> absl::StatusOr<uint64_t> { return uint64_t{inode_->data.size()}; });
}

absl::Status SimFile::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  if (Live()) fs_->CloseHandle(inode_id_);
  return absl::OkStatus();
}

absl::Status SimFile::CheckStillOpen(std::string_view what) const {
  if (!closed_) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(AsAbsl(what), " ", path_, ": the file was closed during the call"));
}

absl::StatusOr<size_t> SimFile::DoRead(uint64_t offset, absl::Span<char> out) {
  if (offset > kMaxOffset || out.size() > kMaxOffset - offset) {
    return absl::InvalidArgumentError(absl::StrCat("read past the largest offset: ", path_));
  }
  auto decision = fs_->BeginOp(DiskOp::kRead, path_, Ticket());
  if (!decision.ok()) return decision.status();
  FAULTLINE_RETURN_IF_ERROR(CheckStillOpen("read"));
  if (decision->eio) return io::IoError(absl::StrCat("read ", path_), io::IoFailure::kDataAtRisk);
  size_t read_bytes = 0;
  const uint64_t size_bytes = inode_->data.size();
  if (offset < size_bytes && !out.empty()) {
    const uint64_t length_bytes = std::min<uint64_t>(out.size(), size_bytes - offset);
    if (!inode_->latent.empty()) {
      const std::optional<uint64_t> bad = inode_->latent.FirstUnreadable(
          offset, length_bytes, fs_->disk_->options_.atomic_unit_bytes);
      if (bad.has_value()) {
        fs_->disk_->recorder_.Note(FaultKind::kLatentSectorRead, fs_->node_, {"sector", *bad},
                                   absl::StrCat("latent sector error reading ", path_));
        return io::IoError(absl::StrCat("read ", path_), io::IoFailure::kDataAtRisk);
      }
    }
    std::memcpy(out.data(), inode_->data.data() + offset, length_bytes);
    read_bytes = static_cast<size_t>(length_bytes);
  }
  if (decision->crash_after) {
    return fs_->CrashFromOp(decision->crash_kind, "disk fault plan", absl::StrCat("read ", path_));
  }
  return read_bytes;
}

absl::Status SimFile::DoWrite(uint64_t offset, bool append, absl::Span<const char> data) {
  // Like pwrite(2) of zero bytes: nothing changes, not even the size, and
  // no device operation happens (so none is counted or faulted) — but an
  // offset past the largest is still invalid.
  if (data.empty()) {
    if (append || offset <= kMaxOffset) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("write past the largest offset: ", path_));
  }
  const uint64_t max_file_bytes = fs_->disk_->options_.max_file_bytes;
  // Checked before and after the op's waits: an append's offset moves.
  auto check_range = [&]() -> absl::Status {
    const uint64_t start = append ? uint64_t{inode_->data.size()} : offset;
    if (start > kMaxOffset || data.size() > kMaxOffset - start) {
      return absl::InvalidArgumentError(absl::StrCat("write past the largest offset: ", path_));
    }
    if (start + data.size() > max_file_bytes) {
      return io::ErrnoToStatus(EFBIG, absl::StrCat("write ", path_));
    }
    return absl::OkStatus();
  };
  FAULTLINE_RETURN_IF_ERROR(check_range());
  auto decision = fs_->BeginOp(DiskOp::kWrite, path_, Ticket());
  if (!decision.ok()) return decision.status();
  FAULTLINE_RETURN_IF_ERROR(CheckStillOpen("write"));
  FAULTLINE_RETURN_IF_ERROR(check_range());
  if (append) offset = inode_->data.size();
  if (decision->eio || decision->no_space) {
    LandFailedWritePrefix(offset, data, /*fit=*/false);
    return decision->eio ? io::IoError(absl::StrCat("write ", path_))
                         : io::NoSpaceError(absl::StrCat("write ", path_));
  }
  const absl::Status status = CacheWrite(offset, data, decision->tear_on_crash, decision->misdirect);
  if (io::IsNoSpace(status)) LandFailedWritePrefix(offset, data, /*fit=*/true);
  FAULTLINE_RETURN_IF_ERROR(status);
  if (decision->crash_after) {
    return fs_->CrashFromOp(decision->crash_kind, "disk fault plan", absl::StrCat("write ", path_));
  }
  return absl::OkStatus();
}

absl::Status SimFile::CacheWrite(uint64_t offset, absl::Span<const char> data, bool tear_on_crash,
                                 bool misdirect) {
  SimFileSystem::CacheInode& inode = *inode_;
  const uint64_t end_bytes = offset + data.size();
  const uint64_t old_size_bytes = inode.data.size();
  if (end_bytes > old_size_bytes) {
    bool overcommitted = false;
    FAULTLINE_RETURN_IF_ERROR(fs_->ReserveBytes(old_size_bytes, end_bytes,
                                                absl::StrCat("write ", path_), &overcommitted));
    if (overcommitted) inode.writeback_enospc = true;
    inode.data.resize(end_bytes, '\0');
  }
  std::memcpy(inode.data.data() + offset, data.data(), data.size());
  // The device gets whole dirty pages: bytes a failed sync left in them go
  // along (rewrite_flushes_failed_pages).
  if (!inode.failed_ranges.empty()) RedirtyFailedBytes(offset, end_bytes);
  LogPendingWrite(offset, end_bytes, tear_on_crash, misdirect);
  // A sector rewritten whole is read from the cache; the device remaps it
  // once the write reaches it.
  if (!inode.latent.empty()) {
    inode.latent.Rewrote(offset, end_bytes, fs_->disk_->options_.atomic_unit_bytes);
  }
  return absl::OkStatus();
}

void SimFile::LogPendingWrite(uint64_t begin, uint64_t end, bool tear_on_crash, bool misdirect) {
  SimFileSystem::CacheInode& inode = *inode_;
  DataOp op{.kind = DataOp::Kind::kWrite,
            .tear_on_crash = tear_on_crash,
            .offset = begin,
            .durable_offset = begin,
            .length_bytes = end - begin,
            .arena_offset = inode.pending.arena.size(),
            .seq = fs_->next_write_seq_++};
  if (misdirect) Misdirect(op);
  inode.pending.ops.push_back(op);
  inode.pending.arena.append(inode.data.data() + begin, end - begin);
  ++fs_->pending_data_ops_;
  fs_->CheckPendingBound();
}

void SimFile::MidWrite(uint64_t offset, bool append, absl::Span<const char> data) {
  const uint64_t start = append ? uint64_t{inode_->data.size()} : offset;
  if (start > kMaxOffset || data.size() > kMaxOffset - start) return;  // refused anyway
  const uint64_t prefix_bytes = fs_->injector_.MidWritePrefix(start, data.size());
  // The prefix is an ordinary write (counted, faulted, pending); its own
  // failure means only that less of the write landed.
  if (prefix_bytes > 0) (void)DoWrite(start, /*append=*/false, data.first(prefix_bytes));
}

void SimFile::Misdirect(DataOp& op) {
  // The cache is right; the device puts the bytes at another sector — of
  // another file, at misdirect_other_file_ppm.
  const uint32_t other_file_ppm = fs_->disk_->plan_.rates.misdirect_other_file_ppm;
  if (other_file_ppm != 0 &&
      fs_->disk_->scheduler_.prng(Stream::kDisk).ChancePpm(other_file_ppm)) {
    std::vector<std::pair<uint64_t, uint64_t>> others;  // inode, size; by inode id
    for (const auto& [id, inode] : fs_->inodes_) {
      if (id != inode_id_ && !inode.data.empty()) others.emplace_back(id, inode.data.size());
    }
    if (!others.empty()) {
      const auto& [victim, victim_bytes] =
          others[fs_->disk_->scheduler_.prng(Stream::kDisk).Below(others.size())];
      op.landing_inode = victim;
      op.durable_offset = fs_->injector_.MisdirectedOffset(
          op.offset, victim_bytes, fs_->disk_->options_.atomic_unit_bytes,
          absl::StrCat("write ", path_, " (into inode ", victim, ")"), /*same_file=*/false);
      fs_->disk_->recorder_.Note(FaultKind::kMisdirectedOtherFile, fs_->node_,
                                 {"inode", victim},
                                 absl::StrCat("write to ", path_, " lands in inode ", victim));
      return;
    }
  }
  op.durable_offset = fs_->injector_.MisdirectedOffset(
      op.offset, inode_->data.size(), fs_->disk_->options_.atomic_unit_bytes,
      absl::StrCat("write ", path_));
}

void SimFile::FailSync() {
  SimFileSystem::CacheInode& inode = *inode_;
  if (fs_->disk_->options_.failed_sync_writes_partway && !inode.pending.empty()) {
    // Writeback failed partway: some of the dirty pages reached the device.
    DrawFailedSyncWriteback(fs_->disk_->scheduler_, fs_->disk_->plan_, fs_->disk_->recorder_,
                            fs_->node_, fs_->disk_->options_.atomic_unit_bytes, inode.pending,
                            inode_id_, path_, fs_->durable_.inodes[inode_id_], fs_->durable_.inodes);
  }
  // The (rest of the) dirty pages are marked clean without reaching the
  // durable image; nothing will write them again.
  KeepFailedBytes();
  CommitSizeOverStaleBlocks();
  fs_->pending_data_ops_ -= inode.pending.ops.size();
  inode.pending.Clear();
  inode.writeback_enospc = false;
  ++inode.error_seq;
  seen_error_seq_ = inode.error_seq;
  const bool btrfs = fs_->disk_->options_.fsync_profile == FsyncFailureProfile::kBtrfs;
  inode.latent.SyncFailed(/*cache_kept=*/!btrfs);
  if (btrfs) {
    auto durable = fs_->durable_.inodes.find(inode_id_);
    std::string reverted = durable == fs_->durable_.inodes.end() ? std::string() : durable->second;
    fs_->ReleaseBytes(inode.data.size());
    fs_->used_bytes_ += reverted.size();  // a revert is never refused for space
    inode.data = std::move(reverted);
  }
}

absl::Status SimFile::DoSync() {
  auto decision = fs_->BeginOp(DiskOp::kSync, path_, Ticket());
  if (!decision.ok()) return decision.status();
  FAULTLINE_RETURN_IF_ERROR(CheckStillOpen("fdatasync"));
  SimFileSystem::CacheInode& inode = *inode_;
  absl::Status status;
  // ENOSPC at writeback (a rule, or blocks allocated only now): a failed
  // sync like EIO, reported as IsIoError with ENOSPC in the message.
  const bool no_space = decision->no_space || inode.writeback_enospc;
  if (decision->eio || no_space) {
    if (!decision->eio && inode.writeback_enospc) {
      fs_->disk_->recorder_.Note(FaultKind::kSyncNoSpace, fs_->node_, {"inode", inode_id_},
                                 absl::StrCat("ENOSPC at writeback of ", path_));
    }
    FailSync();
    status = io::IoError(absl::StrCat("fdatasync ", path_,
                                      decision->eio ? "" : " (ENOSPC at writeback)"),
                         io::IoFailure::kDataAtRisk);
    fs_->NoteFailure(DiskOp::kSync, path_);
  } else {
    if (!inode.pending.empty()) {
      std::string& durable_bytes = fs_->durable_.inodes[inode_id_];
      std::vector<MisplacedWrite> misplaced;
      ApplyAllDataOps(durable_bytes, inode.pending, misplaced);
      ApplyMisplacedWrites(fs_->durable_.inodes, misplaced);
      fs_->pending_data_ops_ -= inode.pending.ops.size();
      inode.pending.Clear();
      inode.latent.Synced(durable_bytes.size(), fs_->disk_->options_.atomic_unit_bytes);
    }
    if (inode.error_seq != seen_error_seq_) {
      // errseq: a failure this handle has not been told about yet.
      seen_error_seq_ = inode.error_seq;
      fs_->disk_->recorder_.Note(
          FaultKind::kErrseqReport, fs_->node_, {"inode", inode_id_},
          absl::StrCat("fdatasync reports an earlier writeback error on ", path_));
      status = io::IoError(absl::StrCat("fdatasync ", path_, " (earlier writeback error)"),
                           io::IoFailure::kDataAtRisk);
    }
  }
  if (decision->crash_after) {
    return fs_->CrashFromOp(decision->crash_kind, "disk fault plan", absl::StrCat("fdatasync ", path_));
  }
  return status;
}

absl::Status SimFile::DoTruncate(uint64_t size_bytes) {
  if (size_bytes > kMaxOffset) {
    return absl::InvalidArgumentError(absl::StrCat("truncate past the largest offset: ", path_));
  }
  if (size_bytes > fs_->disk_->options_.max_file_bytes) {
    return io::ErrnoToStatus(EFBIG, absl::StrCat("truncate ", path_));
  }
  auto decision = fs_->BeginOp(DiskOp::kTruncate, path_, Ticket());
  if (!decision.ok()) return decision.status();
  FAULTLINE_RETURN_IF_ERROR(CheckStillOpen("truncate"));
  if (decision->eio) return io::IoError(absl::StrCat("truncate ", path_));
  if (decision->no_space) return io::NoSpaceError(absl::StrCat("truncate ", path_));
  FAULTLINE_RETURN_IF_ERROR(
      fs_->ReserveBytes(inode_->data.size(), size_bytes, absl::StrCat("truncate ", path_)));
  inode_->data.resize(size_bytes, '\0');
  inode_->latent.Truncated(size_bytes, fs_->disk_->options_.atomic_unit_bytes);
  // Failed bytes past the new end are gone from the cache.
  std::map<uint64_t, uint64_t>& failed = inode_->failed_ranges;
  failed.erase(failed.lower_bound(size_bytes), failed.end());
  if (!failed.empty() && failed.rbegin()->second > size_bytes) failed.rbegin()->second = size_bytes;
  inode_->pending.ops.push_back(DataOp{.kind = DataOp::Kind::kTruncate, .offset = size_bytes});
  ++fs_->pending_data_ops_;
  fs_->CheckPendingBound();
  if (decision->crash_after) {
    return fs_->CrashFromOp(decision->crash_kind, "disk fault plan", absl::StrCat("truncate ", path_));
  }
  return absl::OkStatus();
}

}  // namespace faultline::sim::disk
