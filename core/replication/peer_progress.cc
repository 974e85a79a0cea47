// core/replication/peer_progress.cc — per-follower progress and flow control.
#include "core/replication/peer_progress.h"

#include <algorithm>
#include <limits>

#include "core/base/check.h"

namespace faultline::replication {

PeerProgress::PeerProgress(uint64_t next_sequence, const FlowOptions& options)
    : options_(options), next_(next_sequence), last_send_ns_(0) {
  FAULTLINE_CHECK(next_sequence >= 1);
  FAULTLINE_CHECK(options.max_inflight_batches >= 1);
  FAULTLINE_CHECK(options.retransmit_timeout_ns > 0 && options.heartbeat_interval_ns > 0);
}

bool PeerProgress::CanSend(uint64_t leader_durable_sequence) const {
  return next_ <= leader_durable_sequence && inflight_.size() < options_.max_inflight_batches;
}

void PeerProgress::OnSent(uint64_t first_sequence, uint64_t last_sequence, int64_t now_ns) {
  FAULTLINE_CHECK(first_sequence == next_ && last_sequence >= first_sequence);
  FAULTLINE_CHECK(inflight_.size() < options_.max_inflight_batches);
  inflight_.push_back(Batch{last_sequence, now_ns});
  next_ = last_sequence + 1;
  last_send_ns_ = now_ns;
  ever_sent_ = true;
  ++counters_.batches_sent;
}

void PeerProgress::OnHeartbeatSent(int64_t now_ns) {
  last_send_ns_ = now_ns;
  ever_sent_ = true;
  ++counters_.heartbeats_sent;
}

bool PeerProgress::HeartbeatDue(int64_t now_ns) const {
  return !ever_sent_ || now_ns - last_send_ns_ >= options_.heartbeat_interval_ns;
}

bool PeerProgress::OnAck(uint64_t durable_sequence, uint64_t leader_durable_sequence) {
  ++counters_.acks;
  if (durable_sequence > leader_durable_sequence) {
    ++counters_.acks_refused;
    return false;
  }
  if (durable_sequence <= acked_) return false;  // stale or reordered
  acked_ = durable_sequence;
  while (!inflight_.empty() && inflight_.front().last_sequence <= acked_) inflight_.pop_front();
  // The follower may hold more than this window sent (after a leader restart,
  // or acks of an earlier window): never send it what it has acknowledged.
  if (next_ <= acked_) {
    next_ = acked_ + 1;
    inflight_.clear();
  }
  return true;
}

void PeerProgress::Rewind(uint64_t to_sequence, int64_t now_ns) {
  next_ = to_sequence;
  inflight_.clear();
  last_rewind_to_ = to_sequence;
  last_rewind_ns_ = now_ns;
}

bool PeerProgress::OnResend(uint64_t from_sequence, uint64_t durable_sequence,
                            uint64_t leader_durable_sequence, int64_t now_ns) {
  const bool advanced = OnAck(durable_sequence, leader_durable_sequence);
  // The follower has everything before from_sequence handed to its WAL,
  // though maybe not durable; never resend below what it acknowledged.
  const uint64_t to = std::max(from_sequence, acked_ + 1);
  const bool repeated =
      to == last_rewind_to_ && now_ns - last_rewind_ns_ < options_.retransmit_timeout_ns;
  if (to >= next_ || repeated) {
    ++counters_.resends_ignored;
    return advanced;
  }
  ++counters_.resends_honoured;
  Rewind(to, now_ns);
  return advanced;
}

bool PeerProgress::OnTick(int64_t now_ns) {
  if (inflight_.empty()) return false;
  if (now_ns - inflight_.front().sent_ns < options_.retransmit_timeout_ns) return false;
  ++counters_.timeouts;
  Rewind(acked_ + 1, now_ns);
  return true;
}

int64_t PeerProgress::NextDeadlineNs() const {
  if (!ever_sent_) return std::numeric_limits<int64_t>::min();
  int64_t deadline = last_send_ns_ + options_.heartbeat_interval_ns;
  if (!inflight_.empty()) {
    deadline = std::min(deadline, inflight_.front().sent_ns + options_.retransmit_timeout_ns);
  }
  return deadline;
}

}  // namespace faultline::replication
