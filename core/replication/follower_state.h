// core/replication/follower_state.h — the follower's apply decisions, with
// no I/O: which entries of an Append to take, when to ask for a retransmit,
// what is durable and what is committed.
//
// The follower's log is the leader's log, entry for entry: the follower
// appends entry s to its own WAL only when every entry before s is there
// already (strictly in sequence), so its WAL's sequence numbers are the
// leader's. Three positions, never decreasing:
//   durable_sequence   <= appended_sequence: what its WAL has made durable;
//   appended_sequence: the last entry handed to its WAL;
//   committed_sequence = min(commit index seen from the leader, durable).
// An Append is classified against appended_sequence:
//   starts past appended+1          a gap: ask for a resend from appended+1
//                                   (at most once per resend interval for the
//                                   same position), take nothing;
//   ends at or before appended      a duplicate: take nothing, ack at once;
//   otherwise                       take the suffix past appended (an
//                                   overlap's prefix is skipped).
// The ack for taken entries is sent by the caller once its WAL has made
// them durable (OnDurable), never before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace faultline::replication {

struct FollowerCounters {
  uint64_t appends = 0;             // Append messages classified
  uint64_t heartbeats = 0;          // of which with no entries
  uint64_t entries_taken = 0;
  uint64_t entries_skipped = 0;     // duplicates and overlapping prefixes
  uint64_t gaps = 0;                // Appends that started past appended+1
  uint64_t resends_requested = 0;
  uint64_t resends_suppressed = 0;  // gaps inside the resend interval
};

class FollowerState {
 public:
  // After a (re)start: the WAL's recovered durable position.
  FollowerState(uint64_t durable_sequence, int64_t resend_interval_ns);

  struct Decision {
    size_t skip = 0;  // leading entries of the Append to drop
    size_t take = 0;  // entries after those to append, in order
    bool ack_now = false;  // reply with Ack(durable_sequence()) now
    std::optional<uint64_t> resend_from;  // send Resend(from, durable)
  };
  // Classifies an Append of `entry_count` entries from `first_sequence` (>=
  // 1, with first + count - 1 not overflowing: the codec guarantees both).
  // When take > 0 the caller must append exactly those entries to its WAL
  // (or stop the follower): appended_sequence() already counts them.
  Decision OnAppend(uint64_t first_sequence, size_t entry_count, uint64_t commit_sequence,
                    uint64_t leader_durable_sequence, int64_t now_ns);

  // The WAL made everything through `sequence` durable (<= appended).
  void OnDurable(uint64_t sequence);

  uint64_t durable_sequence() const { return durable_; }
  uint64_t appended_sequence() const { return appended_; }
  uint64_t leader_commit_sequence() const { return leader_commit_; }
  uint64_t committed_sequence() const {
    return leader_commit_ < durable_ ? leader_commit_ : durable_;
  }
  const FollowerCounters& counters() const { return counters_; }

 private:
  std::optional<uint64_t> RequestResend(int64_t now_ns);

  int64_t resend_interval_ns_;
  uint64_t durable_;
  uint64_t appended_;
  uint64_t leader_commit_ = 0;
  std::optional<uint64_t> last_resend_from_;
  int64_t last_resend_ns_ = 0;
  FollowerCounters counters_;
};

}  // namespace faultline::replication
