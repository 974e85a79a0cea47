// sim/disk/fault_plan.h — which storage faults a simulated disk injects, and
// the counters that say which ones a run actually exercised.
//
// A FaultPlan has three parts, all plain data so a scenario (or a RapidCheck
// generator, or the swarm) can build one:
//
//  * rules: explicit, counted faults. "Fail the 3rd sync on node 2" is
//      FaultRule{.node = 2, .op = DiskOp::kSync, .nth = 3, .action = FaultAction::kEio}.
//    "Crash node 1 after its 57th write" is {1, kWrite, 57, kCrashAfter}: the
//    write reaches the cache, the disk resolves node 1's crash state, then
//    calls Scheduler::Crash(1), which throws runtime::FiberKilled in the
//    caller when the caller is one of node 1's fibers. Ops are counted per
//    node and per DiskOp from 1; WriteAt and Append both count as kWrite.
//    An op is counted once its arguments and preconditions hold (valid
//    path, existing file or directory, offset in range) — the ops that
//    would reach the device — and every counted op can fault. A crash
//    relative to now ("the 2nd file sync from now") is a CrashArm
//    (fault_injector.h), counted by the same injector.
//  * rates: probabilistic faults, each an integer in parts per million per
//    operation (no floating point decides anything). Zero draws nothing from
//    the PRNG, so a plan with every rate at zero leaves the disk stream for
//    crash decisions alone.
//  * crash: how a crash treats each operation that is not yet durable (see
//    crash_model.h). These are not faults but the model itself; the defaults
//    make every outcome (persisted, dropped, torn) common.
//  * latency: per operation class, a distribution of virtual nanoseconds the
//    calling fiber is parked before the operation takes effect.
//
// Every injected fault is appended to the trace as TraceKind::kFault with
// a = FaultKind | (node << 32), b = a kind-specific detail (op count, offset,
// bit), and a one-line text; and counted in FaultStats (crash outcomes are
// one event per kind per crash, with b = how many). Each crash decision is
// also folded in as a TraceKind::kDisk event (a = ChoicePoint, b = option).
// Exists and List are never counted and never fault.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scheduler/scheduler.h"

namespace faultline::sim::disk {

// The operation classes rules count and match.
enum class DiskOp : uint8_t {
  kRead = 0,
  kWrite = 1,      // WriteAt and Append
  kTruncate = 2,
  kSync = 3,       // File::Sync (fdatasync)
  kSyncDir = 4,
  kOpen = 5,
  kRename = 6,
  kRemove = 7,
  kCreateDir = 8,
};
inline constexpr size_t kDiskOpCount = 9;
std::string_view DiskOpName(DiskOp op);

enum class FaultAction : uint8_t {
  kEio = 0,           // the op fails with EIO (read, write, truncate, sync, sync-dir)
  kNoSpace = 1,       // the op fails with ENOSPC (write, truncate, open-create); a
                      // file sync fails as ENOSPC at writeback (IsIoError, see File::Sync)
  kCrashBefore = 2,   // the node crashes before the op takes effect
  kCrashAfter = 3,    // the node crashes right after the op took effect
  kTearOnCrash = 4,   // (writes) if still pending at the next crash, it is torn
  kMisdirect = 5,     // (writes) the device puts the data at another offset
  kStick = 6,         // the disk sticks at this op for `stuck_for_ns`
};

// What a crash does to the node's storage (SimDisk::Crash, CrashProcess).
enum class CrashKind : uint8_t {
  kPowerLoss = 0,  // power loss / kernel panic: every pending op is resolved
                   // (persisted, dropped or torn); the page cache is gone
  kProcess = 1,    // the process dies (kill -9, OOM): the page cache stays,
                   // pending ops stay pending until a later sync or power loss
};

struct FaultRule {
  NodeId node = 0;
  DiskOp op = DiskOp::kWrite;
  uint64_t nth = 1;  // 1-based count of `op` on `node` in this SimDisk's lifetime
  FaultAction action = FaultAction::kEio;
  // For kStick: how long; runtime::kNoDeadline sticks until SimDisk::Unstick.
  int64_t stuck_for_ns = 0;
  // For kCrashBefore/kCrashAfter: a power loss or a process crash.
  CrashKind crash_kind = CrashKind::kPowerLoss;
};

// Probabilistic faults, in parts per million per operation of the class.
struct FaultRates {
  // A read EIO by rate is transient: the next read of the same file reads.
  uint32_t read_eio_ppm = 0;
  uint32_t write_eio_ppm = 0;
  uint32_t sync_eio_ppm = 0;
  uint32_t sync_dir_eio_ppm = 0;
  uint32_t misdirect_write_ppm = 0;
  // Of the misdirected writes (by rate or rule), the share that lands in
  // another file of the node (its blocks; that file's size is kept) rather
  // than at another sector of the same file.
  uint32_t misdirect_other_file_ppm = 0;
  // Per op of any class: the disk sticks for stuck_ns before serving it.
  uint32_t stuck_ppm = 0;
  int64_t stuck_ns = 0;
  // Per durable file, at each crash: one random bit of its durable bytes flips.
  uint32_t bit_flip_per_file_ppm = 0;
  // Per op of any class: a latency spike — the op alone waits
  // latency_spike_ns more, on top of its latency model (a retried read, a
  // device's garbage collection), and the spike is traced and counted.
  uint32_t latency_spike_ppm = 0;
  int64_t latency_spike_ns = 0;
};

// How a crash resolves operations that are not durable yet (crash_model.h).
// Each pending op is decided independently. All values are ppm.
struct CrashRates {
  // A pending data write: persisted whole with persist_ppm, torn with
  // torn_ppm, dropped otherwise (persist_ppm + torn_ppm <= 1e6).
  uint32_t write_persist_ppm = 333'334;
  uint32_t write_torn_ppm = 333'333;
  // Inside a torn write, each sector persists with this chance...
  uint32_t torn_sector_persist_ppm = 500'000;
  // ...and a persisted torn sector holds garbage instead with this chance.
  uint32_t torn_sector_garbage_ppm = 100'000;
  // A write that extends the file and was not persisted whole still persists
  // the new size with this chance; the unwritten range reads as zeros, or as
  // garbage with size_garbage_ppm.
  uint32_t size_without_data_ppm = 250'000;
  uint32_t size_garbage_ppm = 100'000;
  uint32_t truncate_persist_ppm = 500'000;
  // A create, rename, remove or mkdir not yet made durable by SyncDir.
  uint32_t namespace_persist_ppm = 500'000;
  // Without powersafe overwrite (DiskOptions): a physical sector that a torn
  // write touches but does not cover whole is trashed whole with this chance.
  uint32_t sector_damage_ppm = 500'000;
  // With DiskOptions::torn_sectors_unreadable: a torn sector that turned to
  // garbage (or a trashed physical sector) fails its reads with this chance.
  uint32_t torn_sector_unreadable_ppm = 500'000;
};

// A latency distribution in virtual nanoseconds. kNone costs nothing (no
// draw, no park).
struct LatencyModel {
  enum class Kind : uint8_t { kNone, kFixed, kUniform, kExponential };
  Kind kind = Kind::kNone;
  int64_t min_ns = 0;   // kFixed: the latency; kUniform: lower bound
  int64_t max_ns = 0;   // kUniform: upper bound (inclusive)
  int64_t mean_ns = 0;  // kExponential: mean (added to min_ns, capped by Prng)

  static LatencyModel Fixed(int64_t latency_ns) { return {Kind::kFixed, latency_ns, 0, 0}; }
  static LatencyModel Uniform(int64_t min_ns, int64_t max_ns) {
    return {Kind::kUniform, min_ns, max_ns, 0};
  }
  static LatencyModel Exponential(int64_t min_ns, int64_t mean_ns) {
    return {Kind::kExponential, min_ns, 0, mean_ns};
  }
  // One draw (0 for kNone).
  int64_t Draw(Prng& prng) const;
};

struct Latencies {
  LatencyModel read;
  LatencyModel write;     // WriteAt, Append, Truncate
  LatencyModel sync;      // Sync and SyncDir
  LatencyModel metadata;  // Open, Rename, Remove, CreateDir
};

struct FaultPlan {
  std::vector<FaultRule> rules;  // at most kMaxRules
  FaultRates rates;
  CrashRates crash;
  Latencies latency;

  static constexpr size_t kMaxRules = 4096;
};

// Every kind of fault the disk counts. Append only: values go into traces.
enum class FaultKind : uint8_t {
  kReadEio = 0,
  kWriteEio = 1,
  kSyncEio = 2,
  kSyncDirEio = 3,
  kNoSpace = 4,
  kLatentSectorRead = 5,   // a read hit a latent sector error (EIO)
  kBitFlip = 6,            // a durable bit flipped silently
  kMisdirectedWrite = 7,
  kStuck = 8,              // an op waited on a stuck disk
  kInjectedCrash = 9,      // a rule crashed the node
  kTornWrite = 10,         // crash: a write persisted partly
  kDroppedWrite = 11,      // crash: a write was lost
  kGarbageSector = 12,     // crash: a torn sector persisted as garbage
  kSizeWithoutData = 13,   // crash: an extension persisted without its data
  kDroppedTruncate = 14,
  kDroppedNamespaceOp = 15,  // crash: a create/rename/remove/mkdir was undone
  kErrseqReport = 16,      // a sync reported an earlier failure seen via another handle
  kLatency = 17,           // an op was delayed (counted, not traced per op)
  kLostFile = 18,          // a durable file vanished (SimDisk::LoseDurableFile)
  kTruncatedFile = 19,     // a durable file was cut short (SimDisk::TruncateDurableFile)
  kLatencySpike = 20,      // an op waited FaultRates::latency_spike_ns more
  kPhysicalSectorDamage = 21,  // crash: a torn write trashed its whole physical sector
  kUnreadableTornSector = 22,  // crash: a torn sector was left unreadable (latent error)
  kTornWriteHole = 23,     // crash: a torn write lost a sector and kept a later one
  // Kernel profile (kernel_profile.h):
  kReadOnlyRemount = 24,   // the file system went read-only after a failure
  kSyncNoSpace = 25,       // a sync failed with ENOSPC at writeback (delayed allocation)
  kFailedWritePrefix = 26, // a failed write left a prefix in the cache
  kStaleSizeCommit = 27,   // a failed sync committed the size over stale blocks
  kFailedPageFlush = 28,   // a write re-dirtied a page holding a failed sync's bytes
  kMisdirectedOtherFile = 29,  // a misdirected write lands in another file
};
inline constexpr size_t kFaultKindCount = 30;
std::string_view FaultKindName(FaultKind kind);

// Counts per FaultKind, over a SimDisk's lifetime (all nodes).
struct FaultStats {
  std::array<uint64_t, kFaultKindCount> counts{};

  uint64_t count(FaultKind kind) const { return counts[static_cast<size_t>(kind)]; }
  void Add(FaultKind kind, uint64_t n = 1) { counts[static_cast<size_t>(kind)] += n; }
  // "torn_write=3 sync_eio=1" — only the kinds that occurred, in enum order.
  std::string ToString() const;
};

}  // namespace faultline::sim::disk
