// scenarios/kit/crash_rounds.cc — see crash_rounds.h.
//
// The order of draws from Stream::kCrash is part of every trace hash: per
// round the moment, the crash kind, then (timed) the delay or (at an
// operation) the countdown and the before/after choice; after a crash what
// Node::SettleDisk draws, and for kProcessThenPowerLoss whether the power
// goes while the node is down (and what PowerLoss draws); per restart the
// pause, whether to crash the recovery, and that crash's countdown and
// before/after, or else (when enabled) whether to crash the first write
// after it, and that crash's before/after; at the end what Node::SettleDisk and the scenario's
// before_verify draw.
#include "scenarios/kit/crash_rounds.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace faultline::scenarios::kit {
namespace {

constexpr int64_t kMaxRestartPauseNs = 20'000;  // between a crash and the restart
// Crashes armed in a recovery: any operation of it, one of the first 16.
constexpr CrashMoment kRecoveryCrash{"crash_in_recovery", ArmedOps::kAnyOp, 16, 2};
// The power loss that follows a process crash: at the 2nd to 4th file sync
// of the restarted node, before it takes effect (one commit or more done).
constexpr CrashMoment kPowerLossAfterProcessCrash{"power_loss_after_process_crash",
                                                  ArmedOps::kFileSync, 4, 0};
// The first write once a recovery is over, before it or just after it.
constexpr CrashMoment kFirstWriteAfterRecovery{"crash_first_write_after_recovery",
                                               ArmedOps::kWrite, 1, 2};

OpCrash DrawOpCrash(sim::Prng& crash, const CrashMoment& moment, bool during_recovery,
                    CrashKind kind) {
  FAULTLINE_CHECK(moment.ops.has_value() && moment.max_countdown >= 1);
  OpCrash op{.ops = *moment.ops,
             .label = moment.label,
             .during_recovery = during_recovery,
             .kind = kind};
  op.countdown = static_cast<uint32_t>(crash.Between(1, moment.max_countdown));
  op.after = moment.after_one_in == 1 ||
             (moment.after_one_in > 1 && crash.Chance(1, moment.after_one_in));
  return op;
}

// Restarts the crashed node; some restarts are crashed again in the middle
// of their recovery, and restarted again.
void RestartCrashingRecoveries(World& world, Node& node, const CrashRoundsPlan& plan,
                               CrashKind kind) {
  sim::Prng& crash = world.prng(sim::Stream::kCrash);
  for (int again = 0; again <= kMaxRecoveryCrashes && !world.over(); ++again) {
    world.scheduler().SleepFor(crash.Between(1, kMaxRestartPauseNs));
    const bool crash_recovery =
        plan.crash_in_recovery && again < kMaxRecoveryCrashes && crash.Chance(1, 2);
    const bool crash_first_write = !crash_recovery && plan.crash_first_write_after_recovery &&
                                   again < kMaxRecoveryCrashes && crash.Chance(1, 2);
    if (crash_recovery) node.ArmCrashAtOp(DrawOpCrash(crash, kRecoveryCrash, true, kind));
    if (crash_first_write) {
      node.ArmCrashAtOp(DrawOpCrash(crash, kFirstWriteAfterRecovery, false, kind));
    }
    node.Restart(Life::kWork);
    if (!crash_recovery && !crash_first_write) return;
    // Wait for the armed crash or the end of what it was armed for (a
    // recovery's RecoveryScope disarms and wakes us; an incarnation that
    // never writes finishes). Each iteration parks once.
    while (node.alive() && (crash_recovery ? node.armed_for_recovery() : node.armed()) &&
           !world.over() && !node.finished()) {
      node.wake().Reset();
      node.wake().Wait();
    }
    if (node.alive()) return;
    node.SettleDisk(kind);
  }
}

// One round: crash the node at a moment, settle, restart. `power_loss_due`:
// an earlier process crash's page cache must go at this crash (in: this
// round is a power loss; out: a later one must be).
void CrashRound(World& world, Node& node, const CrashRoundsPlan& plan, bool& power_loss_due) {
  sim::Prng& crash = world.prng(sim::Stream::kCrash);
  const CrashMoment* moment = &plan.moments[crash.Below(plan.moments.size())];
  RoundCrash round_crash = plan.kinds[crash.Below(plan.kinds.size())];
  if (power_loss_due) {
    // The restarted node acknowledges a group commit or more, then the
    // power goes: what it acknowledged on top of the kept page cache must
    // have been made durable.
    round_crash = RoundCrash::kPowerLoss;
    moment = &kPowerLossAfterProcessCrash;
  }
  power_loss_due = false;
  const CrashKind kind =
      round_crash == RoundCrash::kPowerLoss ? CrashKind::kPowerLoss : CrashKind::kProcess;
  if (kind == CrashKind::kProcess) world.coverage().Count("process_crash");
  const bool timed = !moment->ops.has_value();
  if (timed) {
    node.wake().Reset();
    if (!node.finished()) node.wake().WaitFor(crash.Between(1, plan.time_horizon_ns));
  } else {
    node.ArmCrashAtOp(DrawOpCrash(crash, *moment, false, kind));
    node.WaitForCrashOrFinish();
  }
  if (world.over()) return;
  // Armed but never reached, or timed but the workload finished first: the
  // crash hits an idle node, and is counted as such (not as the moment).
  const std::string_view label =
      timed && !node.finished() ? moment->label : std::string_view("crash_idle");
  node.CrashNow(label, label);
  node.SettleDisk(kind);
  if (round_crash == RoundCrash::kProcessThenPowerLoss) {
    if (crash.Chance(1, 4)) {
      node.PowerLoss();  // before the restart
    } else {
      power_loss_due = true;  // after the restarted node acknowledged records
    }
  }
  RestartCrashingRecoveries(world, node, plan, kind);
}

}  // namespace

std::vector<CrashMoment> DrawMoments(sim::Prng& swarm, absl::Span<const CrashMoment> all) {
  FAULTLINE_CHECK(!all.empty());
  std::vector<CrashMoment> enabled;
  for (const CrashMoment& moment : all) {
    if (swarm.Chance(1, 2)) enabled.push_back(moment);
  }
  if (enabled.empty()) enabled.push_back(all[swarm.Below(all.size())]);
  return enabled;
}

std::vector<RoundCrash> DrawRoundCrashes(sim::Prng& swarm) {
  std::vector<RoundCrash> kinds = {RoundCrash::kPowerLoss};
  if (swarm.Chance(1, 3)) return kinds;
  const bool process = swarm.Chance(1, 2);
  const bool then_power_loss = !process || swarm.Chance(1, 2);
  if (process) kinds.push_back(RoundCrash::kProcess);
  if (then_power_loss) kinds.push_back(RoundCrash::kProcessThenPowerLoss);
  return kinds;
}

void RunCrashRounds(World& world, Node& node, const CrashRoundsPlan& plan,
                    const std::function<void()>& before_verify) {
  FAULTLINE_CHECK(!plan.moments.empty() && !plan.kinds.empty());
  FAULTLINE_CHECK(plan.time_horizon_ns >= 1);
  bool power_loss_due = false;
  for (int round = 0; round < plan.rounds && !world.over(); ++round) {
    CrashRound(world, node, plan, power_loss_due);
  }
  if (world.over()) return;
  // The final round: let the incarnation finish, crash it, and verify.
  node.WaitForCrashOrFinish();
  if (world.over()) return;
  node.CrashNow("crash_final", "crash_final");
  node.SettleDisk();
  if (before_verify) before_verify();
  node.Restart(Life::kVerify);
  node.WaitForCrashOrFinish();
  if (world.over()) return;
  if (!node.verified()) {
    world.Fail(absl::StrCat("durability violated: final recovery never completed; faults "
                            "injected: ", world.coverage().Summary()));
    return;
  }
  world.scheduler().Stop("every recovery checked");
}

}  // namespace faultline::scenarios::kit
