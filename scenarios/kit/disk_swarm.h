// scenarios/kit/disk_swarm.h — the swarm's storage choices for one seed.
//
// Swarm testing (Groce et al., ISSTA 2012): each seed enables a random
// subset of fault kinds, at random rates, so that rare combinations get
// explored instead of every run averaging over everything. For a simulated
// disk that means: the sector size, the fsync-failure profile, which crash
// outcomes (persisted, torn, garbage sectors, sizes without data, dropped
// namespace operations) occur and how often, whether operations take time,
// and whether the newest write is torn at a crash. The scenario adds its
// own fault rules and rates to `plan` and passes `tear_last_write_ppm` to
// Node::AttachDisk.
//
// Draws come from the swarm stream in a fixed order: disk options, crash
// rates, latency, tear-last-write. Append new draws at the end.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios::kit {

struct DiskSwarm {
  sim::disk::DiskOptions disk;
  sim::disk::FaultPlan plan;  // crash model and latencies drawn; no rules, no rates
  uint32_t tear_last_write_ppm = 0;
};

DiskSwarm DrawDiskSwarm(sim::Prng& swarm);

// Storage faults beyond the crash model, for the scenarios whose code under
// test must meet them; each kind the menu allows is enabled in a share of
// the seeds, at a drawn rate:
//   read_eio          reads fail with EIO (a retried read may pass);
//   no_space          ENOSPC at the nth write or segment-file creation, by
//                     rule (transient), or a node capacity the workload can
//                     fill (lasting, until files shrink);
//   misdirected_write a write's bytes reach another sector of its file
//                     (silent until a crash shows the device's bytes);
//   stuck             the disk stalls every op for a while;
//   latency_spike     one op waits much longer than its latency model.
// Rules name `node`. Draws come after DrawDiskSwarm's, in the order above.
struct DiskFaultMenu {
  bool read_eio = false;
  bool no_space = false;
  bool misdirected_write = false;
  bool stuck = false;
  bool latency_spike = false;
};
void DrawDiskFaults(sim::Prng& swarm, const DiskFaultMenu& menu, sim::NodeId node, DiskSwarm& s);

// The fault kinds `s` can inject, named as FaultCoverage reports them (the
// disk's FaultKindName): its rates, rules and capacity, and the crash
// model's outcomes that a crash of unsynced data can produce. No draws.
std::vector<std::string_view> EnabledDiskFaults(const DiskSwarm& s);

// Faults stop (before a final, verifying recovery): no more rules or rates.
// The crash model stays: it is how a crash treats unsynced data, not a fault.
void StopInjectedFaults(sim::disk::SimDisk& disk);

}  // namespace faultline::scenarios::kit
