// sim/disk/crash_enumerator.h — every distinct crash state of a small set of
// pending operations, for exhaustive (ALICE-style) crash testing.
//
// A random crash (SimDisk::Crash) draws one outcome per pending op. For a
// scenario with a handful of pending ops it is better to test all of them:
//
//   CrashStates all = EnumerateCrashStates(disk, node, {.max_states = 256});
//   for (const DiskImage& state : all.states) {
//     // fresh scheduler + SimDisk, disk.LoadImage(node, state), run recovery,
//     // check invariants
//   }
//
// The enumeration walks the tree of crash decisions (crash_model.h) depth
// first, with option 0 first at every decision, and keeps each resulting
// image the first time it appears. So the order is deterministic and
// depends only on the pending ops. Explored outcomes: each namespace op and
// truncate kept or dropped (a namespace op ordered after a dropped one is
// dropped with it, namespace_ops.h); each write dropped, persisted, or torn into any
// subset of its sectors; an extending write's size persisted without its
// data (zeros). Garbage is not enumerated (it has no finite set of values),
// except that a write forced to tear (FaultAction::kTearOnCrash) inside one
// sector becomes 0xEE bytes. GarbageCrashState gives one garbage
// representative to check beside the enumerated states.
//
// Bounds: stops after `max_states` distinct states or `max_sequences`
// decision sequences, whichever comes first; `complete` says whether the
// whole tree was walked. Cost grows as 2^(sectors + ops): keep it small.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/disk/crash_model.h"
#include "sim/disk/sim_file_system.h"

namespace faultline::sim::disk {

struct EnumerationOptions {
  size_t max_states = 1024;
  uint64_t max_sequences = uint64_t{1} << 20;
  // Also explore "the size update persisted without the data".
  bool include_size_without_data = true;
};

struct CrashStates {
  std::vector<DiskImage> states;  // distinct, in discovery order
  bool complete = false;          // the whole decision tree was walked
  uint64_t sequences_explored = 0;
};

// The crash states of `input` (see crash_model.h).
CrashStates EnumerateCrashStates(const CrashInput& input, const EnumerationOptions& options);

// The crash states of `node`'s current pending operations. Does not change
// the disk; install one with SimDisk::CrashInto or SimDisk::LoadImage.
CrashStates EnumerateCrashStates(SimDisk& disk, NodeId node, const EnumerationOptions& options);

// The one garbage representative the enumeration leaves out: every pending
// namespace op and truncate persisted, every pending write torn with each of
// its sectors garbage (0xEE bytes), an extending write's size persisted. It
// equals an enumerated state when nothing is written (a caller deduplicates).
DiskImage GarbageCrashState(SimDisk& disk, NodeId node);

}  // namespace faultline::sim::disk
