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

#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios::kit {

struct DiskSwarm {
  sim::disk::DiskOptions disk;
  sim::disk::FaultPlan plan;  // crash model and latencies drawn; no rules, no rates
  uint32_t tear_last_write_ppm = 0;
};

DiskSwarm DrawDiskSwarm(sim::Prng& swarm);

// The kernel profile (sim/disk/kernel_profile.h), each behaviour in about
// one seed in eight: a failed sync that commits the size over stale blocks
// and failed pages a later write flushes (ext4 cache profile only), a
// read-only remount after a failed metadata write or any failed sync,
// failed writes that leave a prefix (at a page or a sector), in one seed in
// four half of the misdirected writes (if the scenario misdirects any)
// landing in another file, and — with `inject_no_space` — ENOSPC
// at writeback: delayed allocation, and one or two file syncs of `node`
// failing with it. A separate call, made after a scenario's other swarm
// draws, so that adding it moved none of them.
void DrawKernelProfile(sim::Prng& swarm, sim::NodeId node, bool inject_no_space, DiskSwarm& s);

// Faults stop (before a final, verifying recovery): no more rules or rates.
// The crash model stays: it is how a crash treats unsynced data, not a fault.
void StopInjectedFaults(sim::disk::SimDisk& disk);

}  // namespace faultline::scenarios::kit
