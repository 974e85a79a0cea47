// scenarios/kit/crash_at_op.cc — see crash_at_op.h.
#include "scenarios/kit/crash_at_op.h"

#include "core/base/check.h"

namespace faultline::scenarios::kit {

void CrashAtOp::Arm(const OpCrash& crash) {
  FAULTLINE_CHECK(crash.point != CrashPoint::kNone);
  FAULTLINE_CHECK(crash.countdown >= 1);
  arm_ = CrashArm{crash.point, crash.countdown, crash.after, crash.label, crash.during_recovery};
}

std::unique_ptr<io::FileSystem> CrashAtOp::Wrap(io::FileSystem& fs) {
  // The arm may be re-armed while a fired operation is parked: the label is
  // read at once, before anything can park.
  return std::make_unique<CrashPointFileSystem>(fs, arm_, recovering_,
                                                [this] { fire_(arm_.label); });
}

}  // namespace faultline::scenarios::kit
