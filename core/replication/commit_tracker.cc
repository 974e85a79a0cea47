// core/replication/commit_tracker.cc — majority commit index.
#include "core/replication/commit_tracker.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "core/base/check.h"

namespace faultline::replication {

CommitTracker::CommitTracker(size_t follower_count) : follower_count_(follower_count) {
  FAULTLINE_CHECK(follower_count <= 64);  // a cluster, not a crowd: bounds the sort below
}

bool CommitTracker::Update(uint64_t leader_durable_sequence,
                           absl::Span<const uint64_t> follower_acked) {
  FAULTLINE_CHECK(follower_acked.size() == follower_count_);
  std::vector<uint64_t> positions(follower_acked.begin(), follower_acked.end());
  positions.push_back(leader_durable_sequence);
  // The quorum()-th largest position is durable on quorum() nodes.
  std::nth_element(positions.begin(), positions.begin() + (quorum() - 1), positions.end(),
                   std::greater<>());
  const uint64_t reached = positions[quorum() - 1];
  if (reached <= commit_) return false;
  commit_ = reached;
  return true;
}

}  // namespace faultline::replication
