// core/replication/peer_progress.h — what the leader knows about one
// follower and what it may send it next, with no I/O.
//
// acked_sequence: the follower reported everything through it durable (the
//   only number the commit index may count; never decreases; an ack past
//   the leader's own durable log is impossible from a correct follower and
//   is refused, never counted).
// next_sequence: the first entry not yet sent in the current window.
// In flight: the batches sent and not yet covered by an ack, at most
//   max_inflight_batches (flow control); the oldest one unacknowledged for
//   retransmit_timeout_ns sends the window again from acked+1 (go-back-N).
// A Resend request moves next_sequence back to the follower's gap at once,
// unless the same rewind was made within the retransmit timeout (requests
// reordered or repeated by the network would otherwise resend a window per
// copy).
// A heartbeat (an Append with no entries) is due when nothing was sent for
// heartbeat_interval_ns; it carries the commit index.
#pragma once

#include <cstdint>
#include <cstddef>
#include <deque>

namespace faultline::replication {

struct FlowOptions {
  uint32_t max_inflight_batches = 8;
  int64_t retransmit_timeout_ns = 200'000'000;  // 200 ms
  int64_t heartbeat_interval_ns = 50'000'000;   // 50 ms
};

struct PeerCounters {
  uint64_t batches_sent = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t timeouts = 0;           // windows resent after retransmit_timeout_ns
  uint64_t resends_honoured = 0;   // rewinds on a Resend request
  uint64_t resends_ignored = 0;    // stale or repeated requests
  uint64_t acks = 0;
  uint64_t acks_refused = 0;       // past the leader's durable log
};

class PeerProgress {
 public:
  // A (re)started leader knows nothing of the follower: it optimistically
  // starts sending after its own log (`next_sequence`); the follower's reply
  // to the first heartbeat reveals where it is.
  PeerProgress(uint64_t next_sequence, const FlowOptions& options);

  uint64_t acked_sequence() const { return acked_; }
  uint64_t next_sequence() const { return next_; }
  size_t inflight_batches() const { return inflight_.size(); }
  const PeerCounters& counters() const { return counters_; }

  // Whether a batch starting at next_sequence() may be sent now.
  bool CanSend(uint64_t leader_durable_sequence) const;
  // A batch [first, last] went out; first must be next_sequence().
  void OnSent(uint64_t first_sequence, uint64_t last_sequence, int64_t now_ns);
  void OnHeartbeatSent(int64_t now_ns);
  bool HeartbeatDue(int64_t now_ns) const;

  // An Ack. Returns whether acked_sequence() advanced.
  bool OnAck(uint64_t durable_sequence, uint64_t leader_durable_sequence);
  // A Resend request (which also carries the follower's durable position).
  // Returns whether acked_sequence() advanced.
  bool OnResend(uint64_t from_sequence, uint64_t durable_sequence,
                uint64_t leader_durable_sequence, int64_t now_ns);
  // Applies the retransmit timeout; returns whether the window was rewound.
  bool OnTick(int64_t now_ns);

  // When OnTick or a heartbeat next has something to do.
  int64_t NextDeadlineNs() const;

 private:
  struct Batch {
    uint64_t last_sequence;
    int64_t sent_ns;
  };
  void Rewind(uint64_t to_sequence, int64_t now_ns);

  const FlowOptions options_;
  uint64_t acked_ = 0;
  uint64_t next_;
  std::deque<Batch> inflight_;  // oldest first; at most max_inflight_batches
  int64_t last_send_ns_;
  bool ever_sent_ = false;
  uint64_t last_rewind_to_ = 0;
  int64_t last_rewind_ns_ = 0;
  PeerCounters counters_;
};

}  // namespace faultline::replication
