// sim/disk/sim_file.h — one open handle of a simulated file (internal to
// sim/disk; see sim_file_system.h for the model). A handle belongs to the
// incarnation and cache generation it was opened in: after a crash of
// either kind every call but Close fails with io::NodeDeadError.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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
  absl::Status DoSync();
  absl::Status DoTruncate(uint64_t size_bytes);
  // fsyncgate: the failed sync's dirty pages are marked clean.
  void FailSync();
  void Misdirect(DataOp& op);

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

}  // namespace faultline::sim::disk
