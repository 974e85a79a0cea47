// sim/disk/kernel_profile.h — how the simulated node's kernel and file
// system react to I/O errors, beyond the device's own faults: a profile the
// swarm can draw per seed (scenarios/kit/disk_swarm.h). Every field defaults
// to today's behaviour, so a default profile changes no run.
//
// The behaviours and their sources (docs/disk_model.md has the table):
//  * failed_sync_commits_size — ext4's default data_err=ignore: a failed
//    fdatasync still commits the file's size and extents, so the file is
//    durably as long as the cache says, over blocks that never got the data
//    (stale: zeros or old garbage).
//  * rewrite_flushes_failed_pages — after a failed sync, ext4 and xfs keep
//    the new bytes in clean pages of the cache (fsyncgate); a later write to
//    the same page dirties the whole page, so the bytes of the failed sync in
//    it reach the disk at the next successful sync. Meaningful with the
//    ext4 fsync profile only (btrfs drops the pages).
//  * read_only_after — ext4 errors=remount-ro aborts the journal and remounts
//    read-only after a failed metadata write; xfs shuts down; with
//    data_err=abort a failed data sync does the same. From then on every
//    write, truncate, create, rename, remove, mkdir and sync of the node
//    fails with EIO (reported as io::IsIoError: the seam has no EROFS; a
//    caller can only stop) and nothing more reaches the device: un-synced
//    data and names stay readable from the cache and are lost at the next
//    power loss. Reads, List, Exists and LockFile still work. A process crash
//    leaves the file system read-only (the kernel stays up); a power loss
//    (the machine restarts) ends it.
//  * delayed_allocation — the file system allocates blocks at writeback: a
//    write past DiskOptions::capacity_bytes is accepted into the cache, and
//    the next Sync of that file fails (IsIoError, ENOSPC in the message, as
//    the File::Sync contract says) like any failed sync: the dirty pages are
//    marked clean, partly written back at most.
//  * failed_write_leaves_prefix — a write that fails (EIO, ENOSPC) may have
//    copied part of its bytes into the cache first: a prefix ending at a
//    boundary of failed_write_prefix_unit_bytes inside the write (for ENOSPC
//    against the capacity: the largest one that fits) is in the cache,
//    pending, as after a short write(2). The unit is the page (4096) for
//    buffered writes, which the kernel copies page by page; 512 stands for
//    direct I/O, or any implementation of the seam whose writes stop at a
//    sector (File::WriteAt leaves the range unspecified after an error).
#pragma once

#include <cstdint>

namespace faultline::sim::disk {

// What makes the node's file system read-only until the machine restarts.
enum class ReadOnlyTrigger : uint8_t {
  kNever = 0,
  // A failed metadata write: a directory sync (the journal commit) or a
  // create, rename, remove or mkdir that failed with EIO (ext4
  // errors=remount-ro, xfs shutdown).
  kFailedMetadataWrite = 1,
  // That, or any failed file sync (ext4 data_err=abort with
  // errors=remount-ro).
  kAnyFailedSync = 2,
};

struct KernelProfile {
  bool failed_sync_commits_size = false;
  bool rewrite_flushes_failed_pages = false;
  ReadOnlyTrigger read_only_after = ReadOnlyTrigger::kNever;
  bool delayed_allocation = false;
  bool failed_write_leaves_prefix = false;
  uint32_t failed_write_prefix_unit_bytes = 4096;  // 512 or 4096

  bool operator==(const KernelProfile&) const = default;
};

}  // namespace faultline::sim::disk
