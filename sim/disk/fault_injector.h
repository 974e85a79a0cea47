// sim/disk/fault_injector.h — the per-operation fault decision of one node's
// simulated disk: op counting, FaultPlan rules and rates, the stuck disk,
// latency, EIO/ENOSPC kinds, misdirected writes, and the crash arm ("crash
// at the Nth operation of a class from now").
//
// SimFileSystem asks Decide() once per counted device operation and acts on
// the Decision; it never reads the plan itself. Crash outcomes (what a crash
// does to pending data) are not decided here but by the crash model
// (crash_model.h, crash_choices.h).
//
// CRASH AT AN I/O OPERATION — two ways to name the operation, one mechanism:
//  * absolute: a FaultRule {node, op, nth, kCrashBefore|kCrashAfter}, where
//    nth counts the node's device ops of one DiskOp over the SimDisk's life;
//  * relative: a CrashArm set on a node's file system (SimFileSystem::ArmCrash):
//    "the countdown-th op of class `ops` from now, before or after it takes
//    effect", optionally counting only while a predicate holds (e.g. only
//    during recovery), with a label recorded in the trace.
// Both crash the node from inside the operation: the disk settles the crash
// (a power loss resolves pending ops; a process crash keeps the page cache),
// then calls Scheduler::Crash, which throws runtime::FiberKilled into the
// caller when it is one of the node's fibers; the op never returns to it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/disk/fault_plan.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::disk {

// Counts and traces injected faults (all nodes of one SimDisk).
class FaultRecorder {
 public:
  explicit FaultRecorder(Scheduler& scheduler) : scheduler_(scheduler) {}
  // TraceKind::kFault at `node` with a = kind (printed by name), b = detail,
  // and `text`.
  void Note(FaultKind kind, NodeId node, TraceField detail, std::string_view text);
  // Counts without tracing (per-op latency).
  void Count(FaultKind kind, uint64_t n = 1) { stats_.Add(kind, n); }
  const FaultStats& stats() const { return stats_; }

 private:
  Scheduler& scheduler_;
  FaultStats stats_;
};

// The operation classes a CrashArm counts. Every call on a live node's file
// system or on a live handle counts, whatever it returns (validation errors
// and missing paths included), except File::Close:
enum class ArmedOps : uint8_t {
  kFileSync = 0,  // File::Sync (and the sync stage of WriteAtAndSync)
  kDirSync = 1,   // FileSystem::SyncDir
  kWrite = 2,     // File::WriteAt and File::Append (zero-byte writes too)
  kAnyOp = 3,     // all of the above, and Open, Rename, Remove, CreateDir,
                  // List, Exists, ReadAt, Truncate, Size
};
std::string_view ArmedOpsName(ArmedOps ops);

// A relative crash point. Set with SimFileSystem::ArmCrash; one per node; it
// disarms itself when it fires (before on_fire runs), so on_fire may re-arm.
// It keeps counting across crashes and restarts until it fires or is
// disarmed. An arm that fires after an op during which the node died
// anyway (a rule crashed it) is spent without effect: on_fire is not run.
struct CrashArm {
  ArmedOps ops = ArmedOps::kAnyOp;
  uint32_t countdown = 1;  // fires at the countdown-th counted op from now (>= 1)
  bool after = false;      // crash after the op took effect (else before it does)
  CrashKind kind = CrashKind::kPowerLoss;
  bool tear_last_write = false;  // a power loss tears the newest pending write (CrashOptions)
  // Before a write (or append) only: the crash comes in the middle of it. A
  // prefix of the write, ending at a page boundary (kPageBytes) inside it,
  // drawn from Stream::kDisk, lands in the page cache first, as when a fatal
  // signal interrupts write(2) between pages — after a process crash the
  // restarted node reads it. A write within one page lands not at all.
  bool mid_write = false;
  std::string label;       // in the trace (kInjectedCrash's text) and the crash reason
  // Counts an op only while this returns true (for instance "the node is
  // recovering", or "it is not"); empty: every op of the class counts.
  std::function<bool()> counts_when;
  // Called when the arm fires, before the crash is settled and the node
  // killed: coverage, waking a nemesis. Must not crash the node itself (if
  // it does, that crash stands and this arm is spent without effect).
  std::function<void(const CrashArm&)> on_fire;
};

// The page size of the simulated page cache (mid-write crashes).
inline constexpr uint64_t kPageBytes = 4096;

class FaultInjector {
 public:
  struct Decision {
    bool eio = false;
    bool no_space = false;
    bool crash_before = false;
    bool crash_after = false;
    CrashKind crash_kind = CrashKind::kPowerLoss;
    bool tear_on_crash = false;
    bool misdirect = false;
    uint64_t nth = 0;  // the op's count in its DiskOp class, from 1
  };

  FaultInjector(Scheduler& scheduler, const FaultPlan& plan, FaultRecorder& recorder, NodeId node)
      : scheduler_(scheduler), plan_(plan), recorder_(recorder), node_(node) {}

  // Phase 1: counts one device op of class `op`, applies its rules, waits
  // while the disk is stuck (a rule or rate may stick it first) and sleeps
  // the op's latency. May park the calling fiber: the caller then checks
  // that its node survived the wait, and settles a crash_before.
  Decision Begin(DiskOp op, std::string_view what);
  // Phase 2: draws the op's probabilistic faults (EIO, misdirection) and
  // traces its EIO/ENOSPC.
  void DrawFaults(DiskOp op, Decision& decision, std::string_view what);

  // Where a misdirected write of `offset` lands in a file of `size_bytes`
  // (another sector, same offset within it; in another file any sector of
  // it). Traced.
  uint64_t MisdirectedOffset(uint64_t offset, uint64_t size_bytes, uint32_t unit_bytes,
                             std::string_view what, bool same_file = true);

  // The stuck disk (SimDisk::Stick/Unstick): waiters re-check the deadline.
  void Stick(int64_t until_ns);
  void Unstick();

  // The crash arm (see CrashArm).
  void Arm(CrashArm arm);
  void Disarm() { arm_.reset(); }
  bool armed() const { return arm_.has_value(); }
  // Counts one call of class `ops`; returns the arm (now disarmed) when this
  // call is the one it counts down to.
  std::optional<CrashArm> CountForArm(ArmedOps ops);
  // How much of a write of `length_bytes` at `offset` lands before a
  // mid-write crash: up to a page boundary strictly inside it (0 if none).
  // `why` words the trace event; `unit_bytes` is the boundary's granularity.
  uint64_t MidWritePrefix(uint64_t offset, uint64_t length_bytes,
                          std::string_view why = "crash mid-write: a prefix lands",
                          uint64_t unit_bytes = kPageBytes);

 private:
  void WaitWhileStuck();
  void Sleep(int64_t latency_ns);
  const LatencyModel& LatencyOf(DiskOp op) const;
  uint32_t EioPpmOf(DiskOp op) const;

  Scheduler& scheduler_;
  const FaultPlan& plan_;
  FaultRecorder& recorder_;
  const NodeId node_;
  std::array<uint64_t, kDiskOpCount> op_counts_{};
  // The file whose last read failed by read_eio_ppm: that error is
  // transient, and the read that retries it (the next read of the file)
  // gets the data. Empty: none.
  std::string transient_read_eio_;
  int64_t stuck_until_ns_ = 0;
  std::vector<runtime::Fiber*> stuck_waiters_;
  std::optional<CrashArm> arm_;
};

}  // namespace faultline::sim::disk
