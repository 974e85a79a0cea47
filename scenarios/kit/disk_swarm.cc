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

void DrawKernelProfile(sim::Prng& swarm, sim::NodeId node, bool inject_no_space, DiskSwarm& s) {
  using sim::disk::ReadOnlyTrigger;
  sim::disk::KernelProfile& k = s.disk.kernel;
  // Every draw is made whatever the others gave: the stream stays aligned.
  const bool ext4 = s.disk.fsync_profile == sim::disk::FsyncFailureProfile::kExt4;
  const bool size_commit = swarm.Chance(1, 8);
  const bool page_flush = swarm.Chance(1, 8);
  const bool read_only = swarm.Chance(1, 8);
  const bool any_sync = swarm.Chance(1, 2);
  const bool prefix = swarm.Chance(1, 8);
  const bool no_space = swarm.Chance(1, 8);
  const auto rules = static_cast<int>(swarm.Between(1, 2));
  const bool sector_prefix = swarm.Chance(1, 2);
  const bool other_file = swarm.Chance(1, 4);
  k.failed_sync_commits_size = ext4 && size_commit;
  k.rewrite_flushes_failed_pages = ext4 && page_flush;
  if (read_only) {
    k.read_only_after =
        any_sync ? ReadOnlyTrigger::kAnyFailedSync : ReadOnlyTrigger::kFailedMetadataWrite;
  }
  k.failed_write_leaves_prefix = prefix;
  k.failed_write_prefix_unit_bytes = sector_prefix ? 512 : 4096;
  // Of the misdirected writes (a rate the scenario may set), a share lands
  // in another file.
  if (other_file) s.plan.rates.misdirect_other_file_ppm = 500'000;
  if (inject_no_space && no_space) {
    k.delayed_allocation = true;
    for (int i = 0; i < rules; ++i) {
      s.plan.rules.push_back(sim::disk::FaultRule{.node = node,
                                                  .op = sim::disk::DiskOp::kSync,
                                                  .nth = static_cast<uint64_t>(swarm.Between(1, 40)),
                                                  .action = sim::disk::FaultAction::kNoSpace});
    }
  }
}

void StopInjectedFaults(sim::disk::SimDisk& disk) {
  disk.plan().rules.clear();
  disk.plan().rates = sim::disk::FaultRates{};
}

}  // namespace faultline::scenarios::kit
