// scenarios/kit/crash_at_op.h — crash a node at its Nth I/O operation of a
// kind: the kit's one seam to the mechanism that does it.
//
// Crashing at a random virtual time mostly hits an idle node; crashing "at
// the 2nd file sync from now" hits a group commit between its write and its
// sync. Today the mechanism is a CrashArm read by a CrashPointFileSystem
// (scenarios/io/crash_points.h) wrapped around the node's file system. This
// class is the only place in the kit that arms, disarms or wraps, so that
// moving to another mechanism (e.g. crash rules in sim/disk's fault plan)
// changes this file and its .cc alone.
//
// Contract: Wrap() must be called for every file system the code under test
// opens on the node (the crash fires from inside an operation on it);
// `fire` crashes the node and, when called on one of the node's fibers,
// does not return (Scheduler::Crash throws runtime::FiberKilled).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "core/io/file_system.h"
#include "scenarios/io/crash_points.h"

namespace faultline::scenarios::kit {

// One armed crash: at the `countdown`-th operation of class `point` from now
// (kAnyOp: every operation counts), before it takes effect or just after.
struct OpCrash {
  CrashPoint point = CrashPoint::kNone;
  uint32_t countdown = 1;  // >= 1
  bool after = false;
  std::string_view label;  // names the crash in the trace and in fault coverage; static storage
  // Count only the operations of a recovery (true) or only the others
  // (false): an arm meant for a group commit is not spent on the recovery
  // before it, and the other way round.
  bool during_recovery = false;
};

class CrashAtOp {
 public:
  // `fire(label)` crashes the node; the arm is already disarmed when it runs.
  explicit CrashAtOp(std::function<void(std::string_view label)> fire) : fire_(std::move(fire)) {}
  CrashAtOp(const CrashAtOp&) = delete;
  CrashAtOp& operator=(const CrashAtOp&) = delete;

  void Arm(const OpCrash& crash);
  void Disarm() { arm_.Disarm(); }
  bool armed() const { return arm_.point != CrashPoint::kNone; }
  bool armed_for_recovery() const { return armed() && arm_.during_recovery; }

  // Whether the node is recovering now (see OpCrash::during_recovery).
  void set_recovering(bool recovering) { recovering_ = recovering; }

  // `fs` seen through the crash points. The result must not outlive `fs` or
  // this object.
  std::unique_ptr<io::FileSystem> Wrap(io::FileSystem& fs);

 private:
  CrashArm arm_;
  bool recovering_ = false;
  std::function<void(std::string_view)> fire_;
};

}  // namespace faultline::scenarios::kit
