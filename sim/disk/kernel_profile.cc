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

void SimFile::KeepFailedBytes() {
  if (!fs_->kernel().rewrite_flushes_failed_pages ||
      fs_->disk_->options_.fsync_profile == FsyncFailureProfile::kBtrfs) {
    return;  // btrfs drops the pages: nothing of them is left to flush
  }
  std::map<uint64_t, uint64_t>& failed = inode_->failed_ranges;
  for (const DataOp& op : inode_->pending.ops) {
    if (op.kind == DataOp::Kind::kTruncate) {
      failed.erase(failed.lower_bound(op.offset), failed.end());
      if (!failed.empty() && failed.rbegin()->second > op.offset) failed.rbegin()->second = op.offset;
      continue;
    }
    if (op.length_bytes == 0) continue;
    // Insert [begin, end), merged with the ranges it meets (disjoint map).
    uint64_t begin = op.offset;
    uint64_t end = op.offset + op.length_bytes;
    auto it = failed.upper_bound(begin);
    if (it != failed.begin() && std::prev(it)->second >= begin) --it;
    while (it != failed.end() && it->first <= end) {  // bounded by the map's size
      begin = std::min(begin, it->first);
      end = std::max(end, it->second);
      it = failed.erase(it);
    }
    failed.emplace(begin, end);
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

void SimFile::RedirtyFailedBytes(uint64_t begin, uint64_t end) {
  std::map<uint64_t, uint64_t>& failed = inode_->failed_ranges;
  const uint64_t page_begin = begin / kPageBytes * kPageBytes;
  const uint64_t page_end =
      std::min<uint64_t>(inode_->data.size(), (end + kPageBytes - 1) / kPageBytes * kPageBytes);
  auto it = failed.upper_bound(page_begin);
  if (it != failed.begin() && std::prev(it)->second > page_begin) --it;
  uint64_t flushed_bytes = 0;
  // Bounded by the map's size: each step removes one range (and may put
  // back at most two pieces outside the pages).
  while (it != failed.end() && it->first < page_end) {
    const auto [range_begin, range_end] = *it;
    it = failed.erase(it);
    const uint64_t from = std::max(range_begin, page_begin);
    const uint64_t to = std::min(range_end, page_end);
    if (from < to) {
      LogPendingWrite(from, to, /*tear_on_crash=*/false, /*misdirect=*/false);
      flushed_bytes += to - from;
    }
    if (range_begin < from) failed.emplace(range_begin, from);
    if (to < range_end) it = failed.emplace(to, range_end).first, ++it;
  }
  if (flushed_bytes == 0) return;
  fs_->disk_->recorder_.Note(FaultKind::kFailedPageFlush, fs_->node_, {"bytes", flushed_bytes},
                             absl::StrCat("a write to ", path_, " re-dirties ", flushed_bytes,
                                          " bytes a failed sync left in the cache"));
}

// --- a failed write's prefix ------------------------------------------------------

void SimFile::LandFailedWritePrefix(uint64_t offset, absl::Span<const char> data, bool fit) {
  if (!fs_->kernel().failed_write_leaves_prefix) return;
  const uint64_t unit_bytes = fs_->kernel().failed_write_prefix_unit_bytes;
  uint64_t prefix_bytes = 0;
  if (fit) {
    // ENOSPC against the capacity: the pages that still fitted.
    const uint64_t capacity_bytes = fs_->disk_->options_.capacity_bytes;
    if (capacity_bytes == 0) return;
    const uint64_t free_bytes =
        capacity_bytes > fs_->used_bytes_ ? capacity_bytes - fs_->used_bytes_ : 0;
    const uint64_t reachable_end = (inode_->data.size() + free_bytes) / unit_bytes * unit_bytes;
    if (reachable_end <= offset) return;
    prefix_bytes = std::min<uint64_t>(reachable_end - offset, data.size());
    if (prefix_bytes >= data.size()) return;
  } else {
    prefix_bytes = fs_->injector_.MidWritePrefix(offset, data.size(),
                                                 "failed write: a prefix lands", unit_bytes);
  }
  if (prefix_bytes == 0) return;
  if (!CacheWrite(offset, data.first(prefix_bytes), false, false).ok()) return;
  fs_->disk_->recorder_.Note(FaultKind::kFailedWritePrefix, fs_->node_, {"bytes", prefix_bytes},
                             absl::StrCat("failed write to ", path_, " leaves ", prefix_bytes,
                                          " of ", data.size(), " bytes"));
}

}  // namespace faultline::sim::disk
