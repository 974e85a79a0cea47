// sim/disk/crash_choices.h — one random crash state: the crash model's
// decisions (crash_model.h) drawn from Stream::kDisk with the plan's
// CrashRates, each folded into the trace; the outcomes counted as faults;
// and the per-crash silent bit flips. The crash enumerator is the other
// ChoiceSource (crash_enumerator.h).
#pragma once

#include <map>
#include <vector>

#include "sim/disk/crash_model.h"
#include "sim/disk/fault_injector.h"
#include "sim/disk/fault_plan.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::disk {

// Resolves `input` into a new durable state for `node`: draws every
// decision, traces what it did to each pending op (a kDisk event at `node`:
// file, offset, length; persisted, dropped, or torn with its sectors kept,
// lost and garbage; size without data), notes each outcome kind (one kFault
// event per kind, b = count) and flips bits at rates.bit_flip_per_file_ppm.
// The logical sectors the crash left unreadable, by inode, go to
// `unreadable_sectors` when given.
DurableState DrawCrashState(Scheduler& scheduler, const FaultPlan& plan, FaultRecorder& recorder,
                            NodeId node, const CrashInput& input,
                            std::map<uint64_t, std::vector<uint64_t>>* unreadable_sectors = nullptr);

// A sync that failed partway: each of one file's pending data ops reached
// the device or not, as at a crash (same rates), applied to `durable_bytes`
// (and, for writes misdirected into other files, to `durable_inodes`).
// `inode` and `path` name the file in the trace.
void DrawFailedSyncWriteback(Scheduler& scheduler, const FaultPlan& plan, FaultRecorder& recorder,
                             NodeId node, uint32_t unit_bytes, const PendingData& pending,
                             uint64_t inode, std::string_view path, std::string& durable_bytes,
                             std::map<uint64_t, std::string>& durable_inodes);

}  // namespace faultline::sim::disk
