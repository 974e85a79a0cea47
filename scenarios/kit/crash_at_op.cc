// scenarios/kit/crash_at_op.cc — see crash_at_op.h.
#include "scenarios/kit/crash_at_op.h"

#include <string>

#include "core/base/check.h"

namespace faultline::scenarios::kit {

void CrashAtOp::Arm(const OpCrash& crash) {
  FAULTLINE_CHECK(fs_ != nullptr);
  FAULTLINE_CHECK(crash.countdown >= 1);
  armed_during_recovery_ = crash.during_recovery;
  sim::disk::CrashArm arm;
  arm.ops = crash.ops;
  arm.countdown = crash.countdown;
  arm.after = crash.after;
  arm.kind = crash.kind;
  arm.tear_last_write = crash.tear_last_write;
  arm.label = std::string(crash.label);
  const bool during_recovery = crash.during_recovery;
  arm.counts_when = [this, during_recovery] { return recovering_ == during_recovery; };
  // The label has static storage: it outlives the arm's copy.
  const std::string_view label = crash.label;
  arm.on_fire = [this, label](const sim::disk::CrashArm&) { on_fire_(label); };
  fs_->ArmCrash(std::move(arm));
}

void CrashAtOp::Disarm() {
  if (fs_ != nullptr) fs_->DisarmCrash();
}

}  // namespace faultline::scenarios::kit
