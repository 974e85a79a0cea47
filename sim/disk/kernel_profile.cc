// sim/disk/kernel_profile.cc — the kernel profile's behaviours
// (kernel_profile.h): the read-only remount, failed pages flushed by a later
// write, the size a failed sync commits over stale blocks, and the prefix a
// failed write leaves.
#include "sim/disk/kernel_profile.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "sim/disk/sim_file.h"
#include "sim/disk/sim_file_system.h"

namespace faultline::sim::disk {

// --- the read-only remount ------------------------------------------------------

const KernelProfile& SimFileSystem::kernel() const { return disk_->options_.kernel; }

absl::Status SimFileSystem::RefuseIfReadOnly(DiskOp op, std::string_view what) const {
  if (!read_only_ || op == DiskOp::kRead) return absl::OkStatus();
  const bool sync = op == DiskOp::kSync || op == DiskOp::kSyncDir;
  return io::IoError(absl::StrCat(AsAbsl(what), " (read-only file system)"),
                     sync ? io::IoFailure::kDataAtRisk : io::IoFailure::kRefused);
}

void SimFileSystem::NoteFailure(DiskOp op, std::string_view what) {
  const ReadOnlyTrigger trigger = kernel().read_only_after;
  if (trigger == ReadOnlyTrigger::kNever) return;
  const bool data = op == DiskOp::kSync || op == DiskOp::kWrite || op == DiskOp::kTruncate ||
                    op == DiskOp::kRead;
  if (!data || (op == DiskOp::kSync && trigger == ReadOnlyTrigger::kAnyFailedSync)) {
    RemountReadOnly(what);
  }
}

absl::Status SimFileSystem::FailMetadataOp(std::string_view what) {
  NoteFailure(DiskOp::kRename, what);  // any namespace op: a metadata write
  return io::IoError(what);
}

void SimFileSystem::RemountReadOnly(std::string_view why) {
  if (read_only_) return;
  read_only_ = true;
  disk_->recorder_.Note(FaultKind::kReadOnlyRemount, node_, {"pending_ops", pending_op_count()},
                        absl::StrCat("file system read-only after a failed ", AsAbsl(why)));
  // The journal is aborted: nothing pending will reach the device, though
  // the cache keeps showing it until a power loss.
  for (auto& [id, inode] : inodes_) {
    pending_data_ops_ -= inode.pending.ops.size();
    inode.pending.Clear();
    inode.writeback_enospc = false;
  }
  FAULTLINE_CHECK(pending_data_ops_ == 0);
  namespace_ops_.clear();
  RecountNamespaceRefs();
  const std::set<uint64_t> candidates = unreachable_candidates_;
  for (uint64_t inode_id : candidates) MaybeFreeInode(inode_id);
}

// --- a failed sync's pages and size ---------------------------------------------

void SimFile::KeepFailedPages() {
  if (!fs_->kernel().rewrite_flushes_failed_pages ||
      fs_->disk_->options_.fsync_profile == FsyncFailureProfile::kBtrfs) {
    return;  // btrfs drops the pages: nothing of them is left to flush
  }
  for (const DataOp& op : inode_->pending.ops) {
    if (op.kind != DataOp::Kind::kWrite || op.length_bytes == 0) continue;
    const uint64_t last = (op.offset + op.length_bytes - 1) / kPageBytes;
    // Bounded by the pages of the file (max_file_bytes).
    for (uint64_t page = op.offset / kPageBytes; page <= last; ++page) {
      inode_->failed_pages.insert(page);
    }
  }
}

void SimFile::CommitSizeOverStaleBlocks() {
  if (!fs_->kernel().failed_sync_commits_size) return;
  std::string& durable = fs_->durable_.inodes[inode_id_];
  const uint64_t old_size_bytes = durable.size();
  const uint64_t new_size_bytes = inode_->data.size();
  if (old_size_bytes == new_size_bytes) return;
  durable.resize(new_size_bytes, '\0');
  Prng& prng = fs_->disk_->scheduler_.prng(Stream::kDisk);
  const uint32_t garbage_ppm = fs_->disk_->plan_.crash.size_garbage_ppm;
  if (new_size_bytes > old_size_bytes && garbage_ppm != 0 && prng.ChancePpm(garbage_ppm)) {
    // The blocks held something else before (stale data, not zeros).
    for (uint64_t i = old_size_bytes; i < new_size_bytes; i += 8) {
      const uint64_t word = prng.NextU64();
      std::memcpy(durable.data() + i, &word, std::min<uint64_t>(8, new_size_bytes - i));
    }
  }
  fs_->disk_->recorder_.Note(FaultKind::kStaleSizeCommit, fs_->node_, {"size", new_size_bytes},
                             absl::StrCat("failed fdatasync commits the size of ", path_,
                                          " over stale blocks"));
}

void SimFile::WidenOverFailedPages(uint64_t* begin, uint64_t* end) {
  std::set<uint64_t>& pages = inode_->failed_pages;
  const uint64_t first = *begin / kPageBytes;
  const uint64_t last = (*end - 1) / kPageBytes;
  auto from = pages.lower_bound(first);
  auto to = pages.upper_bound(last);
  if (from == to) return;
  if (*from == first) *begin = first * kPageBytes;
  if (*std::prev(to) == last) {
    *end = std::max<uint64_t>(*end, std::min<uint64_t>(inode_->data.size(), (last + 1) * kPageBytes));
  }
  const auto flushed = static_cast<uint64_t>(std::distance(from, to));
  pages.erase(from, to);
  fs_->disk_->recorder_.Note(FaultKind::kFailedPageFlush, fs_->node_, {"pages", flushed},
                             absl::StrCat("a write to ", path_,
                                          " re-dirties pages a failed sync left in the cache"));
}

// --- a failed write's prefix ------------------------------------------------------

void SimFile::LandFailedWritePrefix(uint64_t offset, absl::Span<const char> data, bool fit) {
  if (!fs_->kernel().failed_write_leaves_prefix) return;
  uint64_t prefix_bytes = 0;
  if (fit) {
    // ENOSPC against the capacity: the pages that still fitted.
    const uint64_t capacity_bytes = fs_->disk_->options_.capacity_bytes;
    if (capacity_bytes == 0) return;
    const uint64_t free_bytes =
        capacity_bytes > fs_->used_bytes_ ? capacity_bytes - fs_->used_bytes_ : 0;
    const uint64_t reachable_end =
        (inode_->data.size() + free_bytes) / kPageBytes * kPageBytes;
    if (reachable_end <= offset) return;
    prefix_bytes = std::min<uint64_t>(reachable_end - offset, data.size());
    if (prefix_bytes >= data.size()) return;
  } else {
    prefix_bytes =
        fs_->injector_.MidWritePrefix(offset, data.size(), "failed write: a prefix lands");
  }
  if (prefix_bytes == 0) return;
  if (!CacheWrite(offset, data.first(prefix_bytes), false, false).ok()) return;
  fs_->disk_->recorder_.Note(FaultKind::kFailedWritePrefix, fs_->node_, {"bytes", prefix_bytes},
                             absl::StrCat("failed write to ", path_, " leaves ", prefix_bytes,
                                          " of ", data.size(), " bytes"));
}

}  // namespace faultline::sim::disk
