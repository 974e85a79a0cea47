// core/replication/commit_tracker.h — the leader's commit index, with no I/O.
//
// An entry is committed once a majority of the cluster (the leader
// included) has it durable: with the leader's durable position and each
// follower's acknowledged one, the commit index is the largest s that at
// least quorum() of those positions reach. It never decreases (an ack is
// never withdrawn; a restarted leader starts again from 0 and catches up as
// followers answer its heartbeats).
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace faultline::replication {

class CommitTracker {
 public:
  explicit CommitTracker(size_t follower_count);

  size_t cluster_size() const { return follower_count_ + 1; }
  size_t quorum() const { return cluster_size() / 2 + 1; }
  uint64_t commit_sequence() const { return commit_; }

  // Recomputes from the leader's durable position and the followers'
  // acknowledged ones (exactly follower_count of them); returns whether the
  // commit index advanced.
  bool Update(uint64_t leader_durable_sequence, absl::Span<const uint64_t> follower_acked);

 private:
  size_t follower_count_;
  uint64_t commit_ = 0;
};

}  // namespace faultline::replication
