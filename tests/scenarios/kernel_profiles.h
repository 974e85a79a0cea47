// tests/scenarios/kernel_profiles.h — the kernel profiles
// (sim/disk/kernel_profile.h) forced on for every seed of a WAL scenario,
// through WalScenarioHooks::adjust_swarm: the sweeps of the real WAL under
// each profile and the bug-detection runs share them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/kit/disk_swarm.h"
#include "sim/disk/sim_file_system.h"

namespace faultline::scenarios::testing {

struct KernelProfileCase {
  std::string name;
  void (*apply)(kit::DiskSwarm& disk);
};

inline void ForceSizeCommit(kit::DiskSwarm& d) {
  d.disk.fsync_profile = sim::disk::FsyncFailureProfile::kExt4;
  d.disk.kernel.failed_sync_commits_size = true;
}
inline void ForcePageFlush(kit::DiskSwarm& d) {
  d.disk.fsync_profile = sim::disk::FsyncFailureProfile::kExt4;
  d.disk.kernel.rewrite_flushes_failed_pages = true;
}
inline void ForceReadOnlyAfterMetadata(kit::DiskSwarm& d) {
  d.disk.kernel.read_only_after = sim::disk::ReadOnlyTrigger::kFailedMetadataWrite;
}
inline void ForceReadOnlyAfterAnySync(kit::DiskSwarm& d) {
  d.disk.kernel.read_only_after = sim::disk::ReadOnlyTrigger::kAnyFailedSync;
}
// Prefixes at sector granularity: the WAL's batches rarely cross a page.
inline void ForceWritePrefix(kit::DiskSwarm& d) {
  d.disk.kernel.failed_write_leaves_prefix = true;
  d.disk.kernel.failed_write_prefix_unit_bytes = 512;
}
// ENOSPC at writeback: delayed allocation, and the 3rd and 11th file syncs
// of the WAL's node fail with it.
inline void ForceSyncNoSpace(kit::DiskSwarm& d) {
  d.disk.kernel.delayed_allocation = true;
  for (uint64_t nth : {3, 11}) {
    d.plan.rules.push_back(sim::disk::FaultRule{.node = 1,
                                                .op = sim::disk::DiskOp::kSync,
                                                .nth = nth,
                                                .action = sim::disk::FaultAction::kNoSpace});
  }
}
inline void ForceAll(kit::DiskSwarm& d) {
  ForceSizeCommit(d);
  ForcePageFlush(d);
  ForceReadOnlyAfterAnySync(d);
  ForceWritePrefix(d);
  ForceSyncNoSpace(d);
}
// Every profile off: the model as it was before the profiles.
inline void ForceNone(kit::DiskSwarm& d) {
  d.disk.kernel = sim::disk::KernelProfile{};
  std::erase_if(d.plan.rules, [](const sim::disk::FaultRule& rule) {
    return rule.op == sim::disk::DiskOp::kSync && rule.action == sim::disk::FaultAction::kNoSpace;
  });
}

inline std::vector<KernelProfileCase> KernelProfileCases() {
  return {{"failed_sync_commits_size", ForceSizeCommit},
          {"rewrite_flushes_failed_pages", ForcePageFlush},
          {"read_only_after_metadata_write", ForceReadOnlyAfterMetadata},
          {"read_only_after_any_sync", ForceReadOnlyAfterAnySync},
          {"failed_write_leaves_prefix", ForceWritePrefix},
          {"sync_enospc", ForceSyncNoSpace},
          {"all", ForceAll}};
}

}  // namespace faultline::scenarios::testing
