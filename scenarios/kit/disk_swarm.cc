// scenarios/kit/disk_swarm.cc — see disk_swarm.h.
#include "scenarios/kit/disk_swarm.h"

#include <cstddef>

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

void DrawDiskFaults(sim::Prng& swarm, const DiskFaultMenu& menu, sim::NodeId node, DiskSwarm& s) {
  using sim::disk::DiskOp;
  using sim::disk::FaultAction;
  sim::disk::FaultRates& r = s.plan.rates;
  if (menu.read_eio && swarm.Chance(1, 3)) r.read_eio_ppm = Ppm(swarm, 2'000, 30'000);
  if (menu.no_space && swarm.Chance(1, 3)) {
    if (swarm.Chance(1, 3)) {
      // A small disk the workload fills: ENOSPC until something shrinks.
      s.disk.capacity_bytes = static_cast<uint64_t>(swarm.Between(2'048, 16'384));
    } else {
      const int rules = static_cast<int>(swarm.Between(1, 2));
      for (int i = 0; i < rules; ++i) {
        // Mostly a write; sometimes the creation of a file (an open).
        const DiskOp op = swarm.Chance(1, 4) ? DiskOp::kOpen : DiskOp::kWrite;
        s.plan.rules.push_back(sim::disk::FaultRule{
            .node = node, .op = op, .nth = static_cast<uint64_t>(swarm.Between(1, 40)),
            .action = FaultAction::kNoSpace});
      }
    }
  }
  if (menu.misdirected_write && swarm.Chance(1, 4)) r.misdirect_write_ppm = Ppm(swarm, 5'000, 50'000);
  if (menu.stuck && swarm.Chance(1, 4)) {
    r.stuck_ppm = Ppm(swarm, 1'000, 20'000);
    r.stuck_ns = swarm.Between(100, 2'000) * kMicrosecondNs;
  }
  if (menu.latency_spike && swarm.Chance(1, 4)) {
    r.latency_spike_ppm = Ppm(swarm, 5'000, 50'000);
    r.latency_spike_ns = swarm.Between(200, 5'000) * kMicrosecondNs;
  }
}

std::vector<std::string_view> EnabledDiskFaults(const DiskSwarm& s) {
  using sim::disk::FaultKind;
  using sim::disk::FaultKindName;
  std::vector<std::string_view> kinds;
  auto enable_if = [&kinds](bool on, FaultKind kind) {
    if (on) kinds.push_back(FaultKindName(kind));
  };
  const sim::disk::FaultRates& r = s.plan.rates;
  bool rule_eio[sim::disk::kDiskOpCount] = {};
  bool rule_no_space = false;
  bool rule_misdirect = false;
  bool rule_stick = false;
  bool rule_crash = false;
  for (const sim::disk::FaultRule& rule : s.plan.rules) {
    switch (rule.action) {
      case sim::disk::FaultAction::kEio: rule_eio[static_cast<size_t>(rule.op)] = true; break;
      case sim::disk::FaultAction::kNoSpace: rule_no_space = true; break;
      case sim::disk::FaultAction::kMisdirect: rule_misdirect = true; break;
      case sim::disk::FaultAction::kStick: rule_stick = true; break;
      case sim::disk::FaultAction::kCrashBefore:
      case sim::disk::FaultAction::kCrashAfter: rule_crash = true; break;
      case sim::disk::FaultAction::kTearOnCrash: break;  // a crash outcome, below
    }
  }
  auto rule_eio_on = [&rule_eio](sim::disk::DiskOp op) { return rule_eio[static_cast<size_t>(op)]; };
  enable_if(r.read_eio_ppm != 0 || rule_eio_on(sim::disk::DiskOp::kRead), FaultKind::kReadEio);
  enable_if(r.write_eio_ppm != 0 || rule_eio_on(sim::disk::DiskOp::kWrite) ||
                rule_eio_on(sim::disk::DiskOp::kTruncate),
            FaultKind::kWriteEio);
  enable_if(r.sync_eio_ppm != 0 || rule_eio_on(sim::disk::DiskOp::kSync), FaultKind::kSyncEio);
  enable_if(r.sync_dir_eio_ppm != 0 || rule_eio_on(sim::disk::DiskOp::kSyncDir),
            FaultKind::kSyncDirEio);
  enable_if(s.disk.capacity_bytes != 0 || rule_no_space, FaultKind::kNoSpace);
  enable_if(r.bit_flip_per_file_ppm != 0, FaultKind::kBitFlip);
  enable_if(r.misdirect_write_ppm != 0 || rule_misdirect, FaultKind::kMisdirectedWrite);
  enable_if(r.stuck_ppm != 0 || rule_stick, FaultKind::kStuck);
  enable_if(rule_crash, FaultKind::kInjectedCrash);
  enable_if(r.latency_spike_ppm != 0 && r.latency_spike_ns > 0, FaultKind::kLatencySpike);
  // The crash model: what a crash can do to unsynced data.
  const sim::disk::CrashRates& c = s.plan.crash;
  const bool torn = c.write_torn_ppm != 0 || s.tear_last_write_ppm != 0;
  enable_if(torn, FaultKind::kTornWrite);
  enable_if(uint64_t{c.write_persist_ppm} + c.write_torn_ppm < kMillion, FaultKind::kDroppedWrite);
  enable_if(torn && c.torn_sector_garbage_ppm != 0, FaultKind::kGarbageSector);
  enable_if(c.size_without_data_ppm != 0, FaultKind::kSizeWithoutData);
  enable_if(c.namespace_persist_ppm < kMillion, FaultKind::kDroppedNamespaceOp);
  return kinds;
}

void StopInjectedFaults(sim::disk::SimDisk& disk) {
  disk.plan().rules.clear();
  disk.plan().rates = sim::disk::FaultRates{};
}

}  // namespace faultline::scenarios::kit
