// sim/scheduler/node_clock.h — a node's own clock in the simulation: an
// offset and a drift against the scheduler's virtual time.
//
// Real machines disagree about time: each monotonic clock starts somewhere
// else and runs a little fast or slow. Code with retransmit and lease
// timers must not assume otherwise, so a node may get its own clock
// (Scheduler::SetNodeClock): its fibers read it from NowNs(), and their
// timers fire when it reaches their deadline. Local time at virtual time t
// is offset_ns + t + floor(t * drift_ppm / 10^6) — integers only, so a seed
// replays exactly. The drift is bounded so that local time never runs
// backwards (it may stand still for a nanosecond at a negative drift).
#pragma once

#include <cstdint>

namespace faultline::sim {

struct NodeClock {
  static constexpr int64_t kMaxDriftPpm = 500'000;  // +-50%: far beyond real clocks

  int64_t offset_ns = 0;  // local time at virtual time 0; >= 0
  int64_t drift_ppm = 0;  // in [-kMaxDriftPpm, kMaxDriftPpm]

  bool identity() const { return offset_ns == 0 && drift_ppm == 0; }
  bool valid() const {
    return offset_ns >= 0 && drift_ppm >= -kMaxDriftPpm && drift_ppm <= kMaxDriftPpm;
  }
  // Local time at virtual time `virtual_ns` (>= 0); INT64_MAX past the range.
  int64_t LocalAt(int64_t virtual_ns) const;
  // The first virtual time (>= 0) at which local time reaches `local_ns`;
  // INT64_MAX (runtime::kNoDeadline) when that is past the range, as for
  // local_ns == INT64_MAX itself.
  int64_t VirtualAt(int64_t local_ns) const;
};

}  // namespace faultline::sim
