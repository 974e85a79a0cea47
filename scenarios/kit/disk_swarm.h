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

// The device profile of a power loss (sim/disk SectorModel), for scenarios
// that opt in: powersafe overwrite or not (half the seeds), a 512e drive
// (4 KiB physical sectors under 512-byte logical ones) in half the seeds
// with 512-byte sectors, torn sectors left unreadable in two thirds of the
// seeds without powersafe overwrite (an unreadable sector loses the synced
// bytes in it too; garbage sectors then always possible), and forced tears that
// leave a hole before a kept sector in half of them.
void DrawDeviceProfile(sim::Prng& swarm, DiskSwarm& s);

// Faults stop (before a final, verifying recovery): no more rules or rates.
// The crash model stays: it is how a crash treats unsynced data, not a fault.
void StopInjectedFaults(sim::disk::SimDisk& disk);

}  // namespace faultline::scenarios::kit
