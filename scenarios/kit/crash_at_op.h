// scenarios/kit/crash_at_op.h — crash a node at its Nth I/O operation of a
// kind: the kit's one seam to the mechanism that does it.
//
// Crashing at a random virtual time mostly hits an idle node; crashing "at
// the 2nd file sync from now" hits a group commit between its write and its
// sync. The mechanism is sim/disk's crash arm (SimFileSystem::ArmCrash,
// fault_injector.h): the node's simulated file system counts the operations
// and, when the arm fires, settles the crash itself (a power loss, or a
// process crash that keeps the page cache) and kills the node from inside
// the operation. This class is the only place in the kit that arms or
// disarms it.
//
// Contract: Attach() gives it the node's file system before any Arm(); the
// `on_fire` callback runs just before the crash (the arm is already
// disarmed) and must not crash the node itself.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "sim/disk/fault_injector.h"
#include "sim/disk/sim_file_system.h"

namespace faultline::scenarios::kit {

using sim::disk::ArmedOps;
using sim::disk::CrashKind;

// One armed crash: at the `countdown`-th operation of class `ops` from now
// (kAnyOp: every operation counts), before it takes effect or just after.
struct OpCrash {
  ArmedOps ops = ArmedOps::kAnyOp;
  uint32_t countdown = 1;  // >= 1
  bool after = false;
  std::string_view label;  // names the crash in the trace and in fault coverage; static storage
  // Count only the operations of a recovery (true) or only the others
  // (false): an arm meant for a group commit is not spent on the recovery
  // before it, and the other way round.
  bool during_recovery = false;
  // A power loss (pending data resolved) or a process crash (page cache kept).
  CrashKind kind = CrashKind::kPowerLoss;
  bool tear_last_write = false;  // a power loss tears the newest pending write
};

class CrashAtOp {
 public:
  explicit CrashAtOp(std::function<void(std::string_view label)> on_fire)
      : on_fire_(std::move(on_fire)) {}
  CrashAtOp(const CrashAtOp&) = delete;
  CrashAtOp& operator=(const CrashAtOp&) = delete;

  // The node's simulated file system (outlives this object).
  void Attach(sim::disk::SimFileSystem& fs) { fs_ = &fs; }

  void Arm(const OpCrash& crash);
  void Disarm();
  bool armed() const { return fs_ != nullptr && fs_->crash_armed(); }
  bool armed_for_recovery() const { return armed() && armed_during_recovery_; }

  // Whether the node is recovering now (see OpCrash::during_recovery).
  void set_recovering(bool recovering) { recovering_ = recovering; }

 private:
  sim::disk::SimFileSystem* fs_ = nullptr;
  bool recovering_ = false;
  bool armed_during_recovery_ = false;
  std::function<void(std::string_view)> on_fire_;
};

}  // namespace faultline::scenarios::kit
