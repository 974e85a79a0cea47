// sim/disk/latent_sectors.h — the latent sector errors of one file: which
// sectors the device cannot read, and which of them the page cache hides
// because it holds their pages (rewritten whole, or freed by a truncate)
// and so never reads the device for them.
//
// A rewrite remaps a bad sector only when it reaches the device: at a
// successful sync, or when a power loss persisted it (the sector then holds
// what the cache held). Until then the cache serves the new bytes, and a
// power loss that drops the rewrite leaves the sector as unreadable as
// before. A truncate frees the blocks wholly past the new size: once that is
// durable, a later write there gets a fresh, readable block. Sectors are
// counted from offset 0 in atomic units (DiskOptions::atomic_unit_bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string_view>

namespace faultline::sim::disk {

class LatentSectors {
 public:
  bool empty() const { return bad_.empty(); }
  void Add(uint64_t sector) { bad_.insert(sector); }

  // The first bad sector a read of `length_bytes` (> 0) at `offset` reaches
  // on the device (the cache hides the ones it holds), if any.
  std::optional<uint64_t> FirstUnreadable(uint64_t offset, uint64_t length_bytes,
                                          uint32_t unit_bytes) const;
  // The cache holds new bytes for every sector [offset, end_bytes) covers whole.
  void Rewrote(uint64_t offset, uint64_t end_bytes, uint32_t unit_bytes);
  // A truncate to `size_bytes`: sectors wholly past it have no block in the
  // cache's view.
  void Truncated(uint64_t size_bytes, uint32_t unit_bytes);
  // A successful sync: what the cache held dirty reached the device
  // (rewritten sectors are remapped, freed ones gone); so did the size.
  void Synced(uint64_t durable_size_bytes, uint32_t unit_bytes);
  // A failed sync: the dirty pages were marked clean without reaching the
  // device. `cache_kept`: the cache still serves them (ext4), else it
  // reverted to the device's bytes (btrfs).
  void SyncFailed(bool cache_kept);
  // A power loss: `cache` was the file's cache bytes, `durable` its bytes
  // after the crash. A hidden sector whose durable bytes are the cache's
  // was rewritten on the device; sectors past the durable size have no block.
  void PowerLoss(std::string_view cache, std::string_view durable, uint32_t unit_bytes);

 private:
  void ErasePast(uint64_t size_bytes, uint32_t unit_bytes);

  std::set<uint64_t> bad_;    // device sectors that fail reads, by index
  std::set<uint64_t> dirty_;  // bad sectors the cache holds dirty (a sync remaps them)
  std::set<uint64_t> clean_;  // bad sectors the cache holds clean (a failed sync's)
};

}  // namespace faultline::sim::disk
