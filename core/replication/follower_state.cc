// core/replication/follower_state.cc — the follower's apply decisions.
#include "core/replication/follower_state.h"

#include <algorithm>

#include "core/base/check.h"

namespace faultline::replication {

FollowerState::FollowerState(uint64_t durable_sequence, int64_t resend_interval_ns)
    : resend_interval_ns_(resend_interval_ns),
      durable_(durable_sequence),
      appended_(durable_sequence) {
  FAULTLINE_CHECK(resend_interval_ns >= 0);
}

std::optional<uint64_t> FollowerState::RequestResend(int64_t now_ns) {
  ++counters_.gaps;
  const uint64_t from = appended_ + 1;
  // Reordered batches behind one loss each reveal the same gap; one request
  // per interval is enough, and a lost request is repeated after it.
  if (last_resend_from_ == from && now_ns - last_resend_ns_ < resend_interval_ns_) {
    ++counters_.resends_suppressed;
    return std::nullopt;
  }
  last_resend_from_ = from;
  last_resend_ns_ = now_ns;
  ++counters_.resends_requested;
  return from;
}

FollowerState::Decision FollowerState::OnAppend(uint64_t first_sequence, size_t entry_count,
                                                uint64_t commit_sequence,
                                                uint64_t leader_durable_sequence,
                                                int64_t now_ns) {
  FAULTLINE_CHECK(first_sequence >= 1);
  ++counters_.appends;
  leader_commit_ = std::max(leader_commit_, commit_sequence);
  Decision decision;
  if (entry_count == 0) {
    ++counters_.heartbeats;
    if (leader_durable_sequence > appended_) {
      decision.resend_from = RequestResend(now_ns);
    } else {
      decision.ack_now = true;  // tells a restarted leader where this follower is
    }
    return decision;
  }
  const uint64_t last = first_sequence + (entry_count - 1);
  if (first_sequence > appended_ + 1) {
    decision.resend_from = RequestResend(now_ns);
    return decision;
  }
  if (last <= appended_) {
    counters_.entries_skipped += entry_count;
    decision.ack_now = true;
    return decision;
  }
  decision.skip = static_cast<size_t>(appended_ + 1 - first_sequence);
  decision.take = entry_count - decision.skip;
  counters_.entries_skipped += decision.skip;
  counters_.entries_taken += decision.take;
  appended_ = last;
  return decision;
}

void FollowerState::OnDurable(uint64_t sequence) {
  FAULTLINE_CHECK_MSG(sequence <= appended_, "durable past what was appended");
  durable_ = std::max(durable_, sequence);
}

}  // namespace faultline::replication
