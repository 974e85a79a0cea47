// sim/disk/sim_file.h — one open handle of a simulated file (internal to
// sim/disk; see sim_file_system.h for the model). A handle belongs to the
// incarnation and cache generation it was opened in: after a crash of
// either kind every call but Close fails with io::NodeDeadError.
//
// A call may park (latency, a stuck disk) while another fiber closes or
// destroys the handle. So the io::File given out is a SimFileHandle that
// shares the SimFile with each call in flight: the SimFile outlives the
// handle until those calls return, and a call that resumes on a closed
// SimFile fails with FailedPrecondition instead of touching an inode that
// closing may have freed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/io/file_system.h"
#include "sim/disk/sim_file_system.h"

namespace faultline::sim::disk {

class SimFile final : public io::File {
 public:
  SimFile(SimFileSystem* fs, uint64_t inode_id, SimFileSystem::CacheInode* inode, std::string path);
  ~SimFile() override { (void)Close(); }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override;
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override;
  absl::Status Append(absl::Span<const char> data) override;
  absl::Status Sync() override;
  absl::Status Truncate(uint64_t size_bytes) override;
  absl::StatusOr<uint64_t> Size() override;
  // Releases the handle; OK on a handle of a crashed node (nothing to release).
  absl::Status Close() override;

 private:
  bool Live() const;
  absl::Status Check(std::string_view what) const;
  SimFileSystem::OpTicket Ticket() const { return {incarnation_, generation_}; }

  absl::StatusOr<size_t> DoRead(uint64_t offset, absl::Span<char> out);
  absl::Status DoWrite(uint64_t offset, bool append, absl::Span<const char> data);
  // Puts `data` at `offset` into the cache and logs it as a pending write.
  absl::Status CacheWrite(uint64_t offset, absl::Span<const char> data, bool tear_on_crash,
                          bool misdirect);
  // --- kernel profile (kernel_profile.cc) ---
  // A failed write of `data` at `offset` may have copied a prefix first
  // (failed_write_leaves_prefix): it lands, up to a page boundary (and,
  // when `fit`, only as much as the capacity allows).
  void LandFailedWritePrefix(uint64_t offset, absl::Span<const char> data, bool fit);
  // A write to [begin, end) dirties its pages whole: the bytes a failed
  // sync left in them are logged again as pending writes
  // (rewrite_flushes_failed_pages).
  void RedirtyFailedBytes(uint64_t begin, uint64_t end);
  // Logs [begin, end) of the cache as one pending write.
  void LogPendingWrite(uint64_t begin, uint64_t end, bool tear_on_crash, bool misdirect);
  // After a failed sync: the bytes it left in the cache, and the size it
  // committed over stale blocks (failed_sync_commits_size).
  void KeepFailedBytes();
  void CommitSizeOverStaleBlocks();
  absl::Status DoSync();
  absl::Status DoTruncate(uint64_t size_bytes);
  // fsyncgate: the failed sync's dirty pages are marked clean.
  void FailSync();
  void Misdirect(DataOp& op);
  // A crash arm fires in the middle of this write: a page-aligned prefix lands.
  void MidWrite(uint64_t offset, bool append, absl::Span<const char> data);
  // After a call parked: FailedPrecondition when the handle was closed meanwhile.
  absl::Status CheckStillOpen(std::string_view what) const;

  SimFileSystem* const fs_;
  const uint64_t inode_id_;
  SimFileSystem::CacheInode* const inode_;
  const std::string path_;
  const std::shared_ptr<bool> fs_exists_;
  const uint64_t incarnation_;
  const uint64_t generation_;
  uint64_t seen_error_seq_;
  bool closed_ = false;
};

// The io::File given out by SimFileSystem::Open: each call holds a reference
// to the SimFile for its duration, so destroying this object while a call
// is parked is safe (the call fails with FailedPrecondition).
class SimFileHandle final : public io::File {
 public:
  explicit SimFileHandle(std::shared_ptr<SimFile> file) : file_(std::move(file)) {}
  ~SimFileHandle() override { (void)file_->Close(); }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    return Pin()->ReadAt(offset, out);
  }
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    return Pin()->WriteAt(offset, data);
  }
  absl::Status Append(absl::Span<const char> data) override { return Pin()->Append(data); }
  absl::Status Sync() override { return Pin()->Sync(); }
  absl::Status Truncate(uint64_t size_bytes) override { return Pin()->Truncate(size_bytes); }
  absl::StatusOr<uint64_t> Size() override { return Pin()->Size(); }
  absl::Status Close() override { return file_->Close(); }

 private:
  // A reference for one call (a temporary: it lives until the call
  // returns), keeping the SimFile alive if this handle is destroyed meanwhile.
  std::shared_ptr<SimFile> Pin() const { return file_; }

  const std::shared_ptr<SimFile> file_;
};

}  // namespace faultline::sim::disk
