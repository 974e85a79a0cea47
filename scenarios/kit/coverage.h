// scenarios/kit/coverage.h — fault coverage: how many faults of each kind a
// run injected, by name.
//
// A scenario counts what its nemesis and workload do ("crash",
// "crash_mid_commit", "wal_fail_stop", ...) with Count(); the faults a
// simulated disk injected (its FaultStats, latency excepted: a delay, not a
// fault worth counting) join every snapshot once the disk is watched, and
// so do a simulated network's (its NetFaultStats, named net_*). The
// snapshot becomes ScenarioResult::faults_injected, and Summary() is what a
// checker's violation message says about "faults injected so far".
//
// A scenario also declares which kinds its swarm enabled for this seed
// (Enable): a kind enabled but never injected over a whole sweep is a fault
// the sweep claims to test and does not (the sweep's table flags it).
//
// Ordered by name (std::map), so no output depends on hashing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "sim/disk/sim_file_system.h"
#include "sim/network/sim_network.h"

namespace faultline::scenarios::kit {

class FaultCoverage {
 public:
  // Adds `n` faults of `kind`; returns the new total of that kind.
  uint64_t Count(std::string_view kind, uint64_t n = 1);
  // The faults of `kind` counted so far (the disk's are not included).
  uint64_t count(std::string_view kind) const;

  // Includes `disk`'s fault counters in every later snapshot. The disk must
  // outlive this object's last use.
  void WatchDisk(const sim::disk::SimDisk& disk) { disk_ = &disk; }
  // The same for a network's fault counters.
  void WatchNetwork(const sim::net::SimNetwork& network) { network_ = &network; }

  // This seed's swarm enabled `kind` (a name as Snapshot() reports it).
  void Enable(std::string_view kind) { enabled_.emplace(kind); }
  const std::set<std::string, std::less<>>& enabled() const { return enabled_; }

  // Every kind with a non-zero count, by name.
  std::map<std::string, uint64_t> Snapshot() const;
  // The snapshot on one line: "crash=3 torn_write=2".
  std::string Summary() const;

 private:
  std::map<std::string, uint64_t, std::less<>> counts_;
  std::set<std::string, std::less<>> enabled_;
  const sim::disk::SimDisk* disk_ = nullptr;
  const sim::net::SimNetwork* network_ = nullptr;
};

}  // namespace faultline::scenarios::kit
