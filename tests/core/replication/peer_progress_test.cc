// tests/core/replication/peer_progress_test.cc — the leader's view of one
// follower: the in-flight window, acks (stale, reordered, impossible),
// resend requests, the retransmit timeout and heartbeats.
#include <gtest/gtest.h>

#include "core/replication/peer_progress.h"

namespace faultline::replication {
namespace {

FlowOptions Flow() {
  return FlowOptions{.max_inflight_batches = 2, .retransmit_timeout_ns = 100,
                     .heartbeat_interval_ns = 50};
}

TEST(PeerProgress, TheWindowBoundsBatchesInFlight) {
  PeerProgress peer(1, Flow());
  EXPECT_TRUE(peer.CanSend(10));
  peer.OnSent(1, 3, 0);
  peer.OnSent(4, 6, 0);
  EXPECT_FALSE(peer.CanSend(10));  // window full
  EXPECT_TRUE(peer.OnAck(3, 10));
  EXPECT_EQ(peer.inflight_batches(), 1u);
  EXPECT_TRUE(peer.CanSend(10));
  EXPECT_EQ(peer.next_sequence(), 7u);
  EXPECT_FALSE(peer.CanSend(6));  // nothing durable left to send
}

TEST(PeerProgress, StaleAndImpossibleAcksAreNotCounted) {
  PeerProgress peer(1, Flow());
  peer.OnSent(1, 5, 0);
  EXPECT_TRUE(peer.OnAck(4, 5));
  EXPECT_FALSE(peer.OnAck(2, 5));  // reordered, older
  EXPECT_EQ(peer.acked_sequence(), 4u);
  EXPECT_FALSE(peer.OnAck(9, 5));  // past the leader's durable log
  EXPECT_EQ(peer.acked_sequence(), 4u);
  EXPECT_EQ(peer.counters().acks_refused, 1u);
}

TEST(PeerProgress, AResendRewindsOnceAndNeverBelowTheAck) {
  PeerProgress peer(1, Flow());
  peer.OnSent(1, 3, 0);
  peer.OnSent(4, 6, 0);
  peer.OnResend(4, 2, 10, 10);
  EXPECT_EQ(peer.acked_sequence(), 2u);
  EXPECT_EQ(peer.next_sequence(), 4u);
  EXPECT_EQ(peer.inflight_batches(), 0u);
  peer.OnSent(4, 6, 11);
  peer.OnResend(4, 2, 10, 12);  // a copy of the same request: already done
  EXPECT_EQ(peer.next_sequence(), 7u);
  EXPECT_EQ(peer.counters().resends_ignored, 1u);
  peer.OnResend(1, 3, 10, 200);  // below the ack: rewinds only to acked + 1
  EXPECT_EQ(peer.next_sequence(), 4u);
}

TEST(PeerProgress, TheRetransmitTimeoutResendsFromTheAck) {
  PeerProgress peer(1, Flow());
  peer.OnSent(1, 3, 0);
  peer.OnSent(4, 6, 10);
  peer.OnAck(3, 10);
  EXPECT_FALSE(peer.OnTick(105));  // batch 4..6 sent at 10: due at 110
  EXPECT_EQ(peer.NextDeadlineNs(), 60);  // the heartbeat comes first
  EXPECT_TRUE(peer.OnTick(110));
  EXPECT_EQ(peer.next_sequence(), 4u);
  EXPECT_EQ(peer.inflight_batches(), 0u);
  EXPECT_EQ(peer.counters().timeouts, 1u);
}

TEST(PeerProgress, HeartbeatsWhenIdle) {
  PeerProgress peer(5, Flow());
  EXPECT_TRUE(peer.HeartbeatDue(0));  // a new leader announces itself
  peer.OnHeartbeatSent(0);
  EXPECT_FALSE(peer.HeartbeatDue(49));
  EXPECT_TRUE(peer.HeartbeatDue(50));
}

TEST(PeerProgress, AnAckPastTheWindowMovesItForward) {
  // A restarted leader starts after its log; a follower that has it all
  // acks, and nothing below its ack is ever sent.
  PeerProgress peer(3, Flow());
  peer.OnAck(8, 10);
  EXPECT_EQ(peer.next_sequence(), 9u);
}

}  // namespace
}  // namespace faultline::replication
