// sim/disk/sim_disk.cc — the simulated disks of every node: settling
// crashes, images, and the faults a test drives directly (see
// sim_file_system.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "sim/disk/sim_file_system.h"
#include "core/base/absl_string_view.h"
#include "core/base/status_macros.h"

namespace faultline::sim::disk {

SimDisk::SimDisk(Scheduler& scheduler, DiskOptions options, FaultPlan plan)
    : scheduler_(scheduler), options_(options), plan_(std::move(plan)), recorder_(scheduler) {
  FAULTLINE_CHECK_MSG(options_.atomic_unit_bytes == 512 || options_.atomic_unit_bytes == 4096,
                      "atomic_unit_bytes must be 512 or 4096");
}

SimDisk::~SimDisk() = default;

SimFileSystem& SimDisk::ForNode(NodeId node) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) {
    it = nodes_.emplace(node, std::make_unique<SimFileSystem>(this, node)).first;
  }
  return *it->second;
}

SimFileSystem& SimDisk::DeadNode(NodeId node) {
  FAULTLINE_CHECK_MSG(!scheduler_.IsAlive(node),
                      "SimDisk: settle a crash after Scheduler::Crash (the node must be dead)");
  SimFileSystem& fs = ForNode(node);
  fs.CatchUpIncarnation();
  return fs;
}

void SimDisk::Crash(NodeId node, const CrashOptions& options) {
  SimFileSystem& fs = DeadNode(node);
  if (fs.settled_incarnation_ == fs.incarnation_) return;  // a rule or CrashProcess settled it
  fs.SettlePowerLoss(options, nullptr);
}

void SimDisk::CrashProcess(NodeId node) {
  SimFileSystem& fs = DeadNode(node);
  if (fs.settled_incarnation_ == fs.incarnation_) return;
  fs.SettleProcessCrash();
}

void SimDisk::PowerLoss(NodeId node, const CrashOptions& options) {
  SimFileSystem& fs = DeadNode(node);
  scheduler_.Record(TraceKind::kDisk, {"node", node}, {"pending_ops", fs.pending_op_count()},
                    "power loss");
  fs.SettlePowerLoss(options, nullptr);
}

void SimDisk::CrashInto(NodeId node, const DiskImage& state) {
  SimFileSystem& fs = DeadNode(node);
  fs.SettlePowerLoss(CrashOptions{}, &state);
}

void SimDisk::LoadImage(NodeId node, const DiskImage& image) {
  SimFileSystem& fs = ForNode(node);
  fs.durable_ = DurableState::FromImage(image, fs.next_inode_);
  fs.next_inode_ += image.files.size();
  fs.ResetCacheFromDurable();
}

DiskImage SimDisk::DurableImage(NodeId node) {
  DurableState state = ForNode(node).durable_;
  CollectOrphans(state);
  return state.ToImage();
}

DiskImage SimDisk::CacheImage(NodeId node) {
  SimFileSystem& fs = ForNode(node);
  DiskImage image;
  image.dirs = fs.dirs_;
  for (const auto& [path, id] : fs.files_) image.files.emplace(path, fs.inodes_.at(id).data);
  return image;
}

void SimDisk::Stick(NodeId node, int64_t until_ns) { ForNode(node).injector_.Stick(until_ns); }

void SimDisk::Unstick(NodeId node) { ForNode(node).injector_.Unstick(); }

absl::Status SimDisk::AddLatentSectorError(NodeId node, std::string_view path,
                                           uint64_t sector_index) {
  SimFileSystem& fs = ForNode(node);
  auto it = fs.files_.find(std::string(path));
  if (it == fs.files_.end()) return absl::NotFoundError(absl::StrCat("no file ", AsAbsl(path)));
  fs.inodes_.at(it->second).latent.Add(sector_index);
  scheduler_.Record(TraceKind::kDisk, {"node", node}, {"sector", sector_index},
                    "latent sector error planted");
  return absl::OkStatus();
}

absl::Status SimDisk::FlipDurableBit(NodeId node, std::string_view path, uint64_t bit_offset) {
  SimFileSystem& fs = ForNode(node);
  auto it = fs.durable_.files.find(std::string(path));
  if (it == fs.durable_.files.end()) {
    return absl::NotFoundError(absl::StrCat("no durable file ", AsAbsl(path)));
  }
  std::string& bytes = fs.durable_.inodes[it->second];
  if (bit_offset >= uint64_t{bytes.size()} * 8) {
    return absl::OutOfRangeError(absl::StrCat("bit ", bit_offset, " past the end of ", AsAbsl(path)));
  }
  const uint64_t byte = bit_offset / 8;
  const char old_byte = bytes[byte];
  bytes[byte] = static_cast<char>(old_byte ^ static_cast<char>(1u << (bit_offset % 8)));
  auto cached = fs.inodes_.find(it->second);
  if (cached != fs.inodes_.end() && cached->second.pending.empty() &&
      cached->second.data.size() > byte && cached->second.data[byte] == old_byte) {
    // The cache shows the device's byte (a clean page is re-read sooner or
    // later): show the flip now. Bytes the cache holds that never reached
    // the device (ext4 after a failed sync) are left alone.
    cached->second.data[byte] = bytes[byte];
  }
  recorder_.Note(FaultKind::kBitFlip, node, {"bit", bit_offset},
                 absl::StrCat("bit flip in ", AsAbsl(path)));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> SimDisk::SettledDurableInode(SimFileSystem& fs, std::string_view path) {
  const std::string key(path);
  auto durable = fs.durable_.files.find(key);
  if (durable == fs.durable_.files.end()) {
    return absl::NotFoundError(absl::StrCat("no durable file ", AsAbsl(path)));
  }
  auto cached = fs.files_.find(key);
  if (!fs.namespace_ops_.empty() || cached == fs.files_.end() || cached->second != durable->second) {
    return absl::FailedPreconditionError(
        absl::StrCat("the namespace of ", AsAbsl(path), " has changes not yet durable"));
  }
  const SimFileSystem::CacheInode& inode = fs.inodes_.at(cached->second);
  if (!inode.pending.empty() || inode.open_handles != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(AsAbsl(path), " is open or has writes not yet durable"));
  }
  return durable->second;
}

absl::Status SimDisk::LoseDurableFile(NodeId node, std::string_view path) {
  SimFileSystem& fs = ForNode(node);
  const absl::StatusOr<uint64_t> id = SettledDurableInode(fs, path);
  if (!id.ok()) return id.status();
  const std::string key(path);
  fs.durable_.EraseName(key);
  fs.durable_.inodes.erase(*id);
  fs.files_.erase(key);
  fs.UnlinkInode(*id);  // no handle: frees it (nothing names it any more)
  recorder_.Note(FaultKind::kLostFile, node, {"inode", *id},
                 absl::StrCat("durable file lost: ", AsAbsl(path)));
  return absl::OkStatus();
}

absl::Status SimDisk::TruncateDurableFile(NodeId node, std::string_view path, uint64_t size_bytes) {
  SimFileSystem& fs = ForNode(node);
  const absl::StatusOr<uint64_t> id = SettledDurableInode(fs, path);
  if (!id.ok()) return id.status();
  std::string& bytes = fs.durable_.inodes[*id];
  if (size_bytes > bytes.size()) {
    return absl::OutOfRangeError(absl::StrCat("truncating ", AsAbsl(path), " to ", size_bytes,
                                              " bytes would grow it"));
  }
  bytes.resize(size_bytes);
  SimFileSystem::CacheInode& inode = fs.inodes_.at(*id);
  if (inode.data.size() > size_bytes) {
    fs.ReleaseBytes(inode.data.size() - size_bytes);
    inode.data.resize(size_bytes);
  }
  // The freed blocks are gone on the device too: their latent errors with them.
  inode.latent.Truncated(size_bytes, options_.atomic_unit_bytes);
  inode.latent.Synced(size_bytes, options_.atomic_unit_bytes);
  recorder_.Note(FaultKind::kTruncatedFile, node, {"size", size_bytes},
                 absl::StrCat("durable file truncated: ", AsAbsl(path), " to ", size_bytes));
  return absl::OkStatus();
}

}  // namespace faultline::sim::disk
