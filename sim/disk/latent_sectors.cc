// sim/disk/latent_sectors.cc — latent sector errors of one file (see
// latent_sectors.h).
#include "sim/disk/latent_sectors.h"

#include <algorithm>

namespace faultline::sim::disk {

std::optional<uint64_t> LatentSectors::FirstUnreadable(uint64_t offset, uint64_t length_bytes,
                                                       uint32_t unit_bytes) const {
  const uint64_t last = (offset + length_bytes - 1) / unit_bytes;
  for (auto it = bad_.lower_bound(offset / unit_bytes); it != bad_.end() && *it <= last; ++it) {
    if (dirty_.count(*it) == 0 && clean_.count(*it) == 0) return *it;
  }
  return std::nullopt;
}

void LatentSectors::Rewrote(uint64_t offset, uint64_t end_bytes, uint32_t unit_bytes) {
  const uint64_t first_full = (offset + unit_bytes - 1) / unit_bytes;
  const uint64_t end_full = end_bytes / unit_bytes;
  for (auto it = bad_.lower_bound(first_full); it != bad_.end() && *it < end_full; ++it) {
    dirty_.insert(*it);
    clean_.erase(*it);
  }
}

void LatentSectors::Truncated(uint64_t size_bytes, uint32_t unit_bytes) {
  const uint64_t first_freed = (size_bytes + unit_bytes - 1) / unit_bytes;
  for (auto it = bad_.lower_bound(first_freed); it != bad_.end(); ++it) {
    dirty_.insert(*it);
    clean_.erase(*it);
  }
}

void LatentSectors::Synced(uint64_t durable_size_bytes, uint32_t unit_bytes) {
  for (uint64_t sector : dirty_) bad_.erase(sector);
  dirty_.clear();
  ErasePast(durable_size_bytes, unit_bytes);
}

void LatentSectors::SyncFailed(bool cache_kept) {
  if (cache_kept) clean_.insert(dirty_.begin(), dirty_.end());
  dirty_.clear();
  if (!cache_kept) clean_.clear();
}

void LatentSectors::PowerLoss(std::string_view cache, std::string_view durable,
                              uint32_t unit_bytes) {
  auto same_on_device = [&](uint64_t sector) {
    const uint64_t begin = sector * unit_bytes;
    const uint64_t end = std::min<uint64_t>(begin + unit_bytes, durable.size());
    return end <= cache.size() &&
           cache.substr(begin, end - begin) == durable.substr(begin, end - begin);
  };
  for (const std::set<uint64_t>* hidden : {&dirty_, &clean_}) {
    for (uint64_t sector : *hidden) {
      if (sector * uint64_t{unit_bytes} < durable.size() && same_on_device(sector)) {
        bad_.erase(sector);
      }
    }
  }
  dirty_.clear();
  clean_.clear();
  ErasePast(durable.size(), unit_bytes);
}

void LatentSectors::ErasePast(uint64_t size_bytes, uint32_t unit_bytes) {
  const uint64_t first_past = (size_bytes + unit_bytes - 1) / unit_bytes;
  bad_.erase(bad_.lower_bound(first_past), bad_.end());
}

}  // namespace faultline::sim::disk
