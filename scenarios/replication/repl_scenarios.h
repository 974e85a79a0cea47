// scenarios/replication/repl_scenarios.h — core/replication (Leader and
// Follower, unchanged production code) on the simulated network and disks.
//
// Three nodes: n1 leads, n2 and n3 follow; each has its own simulated disk
// (the swarm's crash model: torn writes, lost unsynced data, garbage
// sectors) and the simulated network. The leader's appenders append a
// bounded number of records through Leader::Append (each returns once its
// record is committed, or times out); followers apply into their own WALs.
// Per seed the swarm chooses the network's latency and fault rates and
// rules for the fault horizon, and a nemesis crashes followers and the
// leader (a power loss or a process crash, which the disk settles) and
// restarts them; every incarnation reopens its WAL and the replication code
// recovers from it. Then every fault stops and every partition heals.
//
// Checkers (scenarios/checkers/replication_checker.h): gap-free apply on
// every follower across restarts, byte-equal to the leader's log; every
// entry reported committed is, at every commit and after every recovery,
// within what a majority's logs made durable, and after the heal on every
// replica; liveness — within a bound after the heal every follower holds
// everything committed (a stall names the replica and the sequence it waits
// for); and every corrupted frame the network delivered was rejected by the
// codec (the replicas' reject counters equal the network's count).
//
// The three profiles differ in what the swarm is pushed towards:
//   repl_reorder    high reorder / duplicate / delay rates, few crashes;
//   repl_partition  at least one partition or isolation window;
//   repl_crash      up to six crashes, the leader among the victims.
//
// ReplHooks is the seam through which tests run deliberately broken
// replicas (endpoint decorators); the registered scenarios use none.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "core/io/network.h"
#include "scenarios/scenario.h"

namespace faultline::scenarios {

enum class ReplProfile : uint8_t { kReorder, kPartition, kCrash };

struct ReplHooks {
  // Wraps a replica's endpoint before the replication code gets it. Replica
  // 0 is the leader. `appended` reads the follower's appended position (the
  // Follower's, once it exists; 0 for the leader). Empty: no wrapping.
  std::function<std::unique_ptr<io::Endpoint>(int replica, std::unique_ptr<io::Endpoint> inner,
                                               std::function<uint64_t()> appended)>
      wrap_endpoint;
};

ScenarioResult RunReplication(ReplProfile profile, const ScenarioOptions& options,
                              const ReplHooks& hooks = {});

Scenario ReplReorderScenario();
Scenario ReplPartitionScenario();
Scenario ReplCrashScenario();

}  // namespace faultline::scenarios
