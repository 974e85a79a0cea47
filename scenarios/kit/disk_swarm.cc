// scenarios/kit/disk_swarm.cc — see disk_swarm.h.
#include "scenarios/kit/disk_swarm.h"

namespace faultline::scenarios::kit {
namespace {

constexpr int64_t kMicrosecondNs = 1'000;
constexpr uint32_t kMillion = 1'000'000;

// A rate in [low, high] ppm; Maybe: that, or zero half of the time.
uint32_t Ppm(sim::Prng& swarm, int64_t low, int64_t high) {
  return static_cast<uint32_t>(swarm.Between(low, high));
}
uint32_t MaybePpm(sim::Prng& swarm, int64_t low, int64_t high) {
  return swarm.Chance(1, 2) ? Ppm(swarm, low, high) : 0;
}

}  // namespace

DiskSwarm DrawDiskSwarm(sim::Prng& swarm) {
  DiskSwarm s;
  s.disk.atomic_unit_bytes = swarm.Chance(1, 2) ? 512 : 4096;
  s.disk.fsync_profile = swarm.Chance(1, 2) ? sim::disk::FsyncFailureProfile::kExt4
                                            : sim::disk::FsyncFailureProfile::kBtrfs;
  // The crash model: each outcome kind on or off, with a drawn rate.
  sim::disk::CrashRates& c = s.plan.crash;
  c.write_persist_ppm = Ppm(swarm, 0, 600'000);
  c.write_torn_ppm = MaybePpm(swarm, 0, kMillion - c.write_persist_ppm);
  c.torn_sector_persist_ppm = Ppm(swarm, 100'000, 900'000);
  c.torn_sector_garbage_ppm = MaybePpm(swarm, 0, 500'000);
  c.size_without_data_ppm = MaybePpm(swarm, 0, 600'000);
  c.size_garbage_ppm = MaybePpm(swarm, 0, 500'000);
  c.truncate_persist_ppm = Ppm(swarm, 0, kMillion);
  c.namespace_persist_ppm = Ppm(swarm, 0, kMillion);
  if (swarm.Chance(1, 2)) {
    s.plan.latency.sync = sim::disk::LatencyModel::Uniform(10 * kMicrosecondNs, 200 * kMicrosecondNs);
    s.plan.latency.write = sim::disk::LatencyModel::Uniform(1 * kMicrosecondNs, 20 * kMicrosecondNs);
  }
  s.tear_last_write_ppm = swarm.Chance(1, 2) ? 500'000 : 0;
  return s;
}

void DrawDeviceProfile(sim::Prng& swarm, DiskSwarm& s) {
  sim::disk::DiskOptions& d = s.disk;
  sim::disk::CrashRates& c = s.plan.crash;
  d.powersafe_overwrite = swarm.Chance(1, 2);
  d.physical_sector_bytes = d.atomic_unit_bytes == 512 && swarm.Chance(1, 2) ? 4096 : 0;
  c.sector_damage_ppm = Ppm(swarm, 200'000, kMillion);
  // An unreadable sector loses every byte in it, synced ones included: only
  // a device without powersafe overwrite does that.
  d.torn_sectors_unreadable = !d.powersafe_overwrite && swarm.Chance(2, 3);
  c.torn_sector_unreadable_ppm = Ppm(swarm, 200'000, kMillion);
  if (d.torn_sectors_unreadable && c.torn_sector_garbage_ppm == 0) {
    c.torn_sector_garbage_ppm = Ppm(swarm, 300'000, 900'000);
  }
  d.forced_tear_may_hole = swarm.Chance(1, 2);
}

void StopInjectedFaults(sim::disk::SimDisk& disk) {
  disk.plan().rules.clear();
  disk.plan().rates = sim::disk::FaultRates{};
}

}  // namespace faultline::scenarios::kit
