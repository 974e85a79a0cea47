// scenarios/kit/crash_rounds.h — the crash-round nemesis: crash a node at
// seeded moments, restart it (crashing some recoveries too), and end with a
// crash and a verifying incarnation once faults stop.
//
// Each round the nemesis picks one of the enabled moments (Stream::kCrash):
// a random virtual time within the horizon, or the Nth I/O operation of a
// kind (a group commit's sync, a rotation's directory sync, a write...), and
// one of the enabled crash kinds: a power loss (unsynced data resolved), a
// process crash (the page cache survives the restart), or a process crash
// whose page cache is lost later — by a power loss while the node is down,
// or by a power loss at one of the restarted node's first file syncs, once
// it has acknowledged a group commit or more (the next round, or the final
// crash if none is left). It
// waits until the node crashes there or finishes its work — an armed crash
// the workload never reached, or a timed one that finds the node finished,
// becomes a crash now, "crash_idle" — lets the
// disk settle, and restarts the node after a short pause. With
// crash_in_recovery, a restart may arm a crash at one of the recovery's own
// operations ("crash_in_recovery"), up to kMaxRecoveryCrashes times in a
// row, so that a crash during recovery must converge too. With
// crash_first_write_after_recovery, a restart whose recovery is not crashed
// may arm a crash at the first write after the recovery
// ("crash_first_write_after_recovery", before or just after it): whatever
// the recovery repaired (a torn tail cut off) must be durable by then.
//
// After the rounds: wait for the node to finish, crash it ("crash_final"),
// settle, call `before_verify` (the scenario stops faults there, and may
// damage durable data on purpose), restart it with Life::kVerify, and wait.
// The verifying incarnation must call Node::NoteVerified(); if it never
// does, the run fails. Otherwise the run stops: "every recovery checked".
//
// Every draw comes from Stream::kCrash, in a fixed order (see the .cc); the
// moments and rounds are decided by the scenario's swarm.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios::kit {

// A moment a round may crash the node at.
struct CrashMoment {
  std::string_view label;               // trace and coverage name; static storage
  std::optional<ArmedOps> ops;          // none: at a random time within the horizon
  uint32_t max_countdown = 1;            // at the Between(1, max)-th operation from now
  // 0: before the operation; 1: after it; n > 1: after it with probability
  // 1/n (one draw).
  uint32_t after_one_in = 0;
};

// What a round's crash does to the node's storage.
enum class RoundCrash : uint8_t {
  kPowerLoss,              // unsynced data resolved by the crash model
  kProcess,                // the page cache survives
  kProcessThenPowerLoss,   // the page cache survives, and is lost later
};

struct CrashRoundsPlan {
  int rounds = 0;                     // crash rounds before the final one
  std::vector<CrashMoment> moments;   // enabled moments, never empty
  // Enabled crash kinds, never empty.
  std::vector<RoundCrash> kinds = {RoundCrash::kPowerLoss};
  bool crash_in_recovery = false;     // arm crashes in some recoveries
  bool crash_first_write_after_recovery = false;  // and at the first write after some
  int64_t time_horizon_ns = 1;        // a timed crash lands in [1, horizon] ns from the round's start
};

inline constexpr int kMaxRecoveryCrashes = 3;  // crashed recoveries in a row, per round

// Each moment of `all` enabled with probability 1/2 (one draw each, in
// order); if none is, one drawn at random. The swarm's usual choice of moments.
std::vector<CrashMoment> DrawMoments(sim::Prng& swarm, absl::Span<const CrashMoment> all);
// The swarm's choice of crash kinds: power loss alone in a third of the
// seeds; otherwise each process kind with probability 1/2 besides power
// loss, and at least one of them.
std::vector<RoundCrash> DrawRoundCrashes(sim::Prng& swarm);

// Runs the nemesis against `node` until the run ends. Call it from the
// nemesis fiber (World::StartNemesis), after node.Start().
void RunCrashRounds(World& world, Node& node, const CrashRoundsPlan& plan,
                    const std::function<void()>& before_verify);

}  // namespace faultline::scenarios::kit
