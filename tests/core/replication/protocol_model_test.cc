// tests/core/replication/protocol_model_test.cc — the decision classes
// (PeerProgress, CommitTracker, FollowerState) and the codec wired together
// over a model network that drops, duplicates, reorders and corrupts
// frames, with follower crashes that lose what was not durable. Property:
// every follower's log is gap-free and byte-equal to the leader's at every
// step; once faults stop, every follower gets everything and the commit
// index reaches the end of the log.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/replication/commit_tracker.h"
#include "core/replication/follower_state.h"
#include "core/replication/peer_progress.h"
#include "core/replication/wire.h"

namespace faultline::replication {
namespace {

constexpr int kFollowers = 2;
constexpr uint64_t kMaxBatch = 3;

struct Frame {
  int follower;    // the follower it goes to or comes from
  bool to_leader;
  std::string bytes;
};

struct ModelFollower {
  explicit ModelFollower(int64_t resend_ns) : state(0, resend_ns) {}
  FollowerState state;
  std::vector<std::string> log;  // log[i] holds sequence i + 1
};

class Model {
 public:
  Model(uint64_t seed, uint64_t entries) : rng_(seed), entries_(entries) {
    for (int i = 0; i < kFollowers; ++i) {
      peers_.emplace_back(1, FlowOptions{.max_inflight_batches = 3, .retransmit_timeout_ns = 100,
                                         .heartbeat_interval_ns = 50});
      followers_.emplace_back(kResendNs);
    }
  }

  // One step of the world; `faults` allows drops, copies, reordering,
  // corruption and crashes.
  void Step(bool faults) {
    now_ns_ += 10;
    if (durable_ < entries_ && Chance(50)) ++durable_;
    for (int i = 0; i < kFollowers; ++i) Ship(i);
    if (faults && Chance(5)) Crash(Pick(kFollowers));
    for (int i = 0; i < kFollowers; ++i) {
      if (Chance(faults ? 50 : 100)) MakeDurable(i);
    }
    // Deliver a few frames, each chosen at random when reordering.
    for (int n = 0; n < 4 && !frames_.empty(); ++n) {
      const size_t at = faults ? Pick(frames_.size()) : 0;
      Frame frame = frames_[at];
      if (!faults || !Chance(20)) frames_.erase(frames_.begin() + static_cast<long>(at));
      if (faults && Chance(10)) continue;  // dropped
      if (faults && Chance(5)) frame.bytes[Pick(frame.bytes.size())] ^= 0x10;
      Deliver(frame);
    }
    CheckLogs();
  }

  bool Converged() const {
    for (const ModelFollower& f : followers_) {
      if (f.state.durable_sequence() != entries_ || f.state.committed_sequence() != entries_) {
        return false;
      }
    }
    return durable_ == entries_ && commit_.commit_sequence() == entries_;
  }
  std::string Describe() const {
    std::string out = absl::StrCat("leader durable ", durable_, " commit ",
                                   commit_.commit_sequence());
    for (const ModelFollower& f : followers_) {
      absl::StrAppend(&out, "; follower durable ", f.state.durable_sequence(), " committed ",
                      f.state.committed_sequence());
    }
    return out;
  }
  uint64_t rejected() const { return rejects_.total(); }

 private:
  static constexpr int64_t kResendNs = 30;
  static std::string Entry(uint64_t sequence) { return absl::StrCat("entry-", sequence); }

  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  size_t Pick(size_t n) { return static_cast<size_t>(rng_() % n); }

  void Send(int follower, bool to_leader, const WireMessage& m) {
    if (frames_.size() < 256) frames_.push_back(Frame{follower, to_leader, Encode(m, limits_)});
  }

  void Ship(int i) {
    PeerProgress& peer = peers_[i];
    peer.OnTick(now_ns_);
    bool sent = false;
    while (peer.CanSend(durable_)) {
      AppendMsg m{peer.next_sequence(), commit_.commit_sequence(), durable_, {}};
      for (uint64_t s = m.first_sequence; s <= durable_ && m.entries.size() < kMaxBatch; ++s) {
        m.entries.push_back(Entry(s));
      }
      Send(i, false, m);
      peer.OnSent(m.first_sequence, m.first_sequence + m.entries.size() - 1, now_ns_);
      sent = true;
    }
    if (!sent && peer.HeartbeatDue(now_ns_)) {
      Send(i, false, AppendMsg{peer.next_sequence(), commit_.commit_sequence(), durable_, {}});
      peer.OnHeartbeatSent(now_ns_);
    }
  }

  void Crash(int i) {
    ModelFollower& f = followers_[i];
    f.log.resize(f.state.durable_sequence());  // what was not durable is lost
    const uint64_t durable = f.state.durable_sequence();
    f.state = FollowerState(durable, kResendNs);
    Send(i, true, ResendMsg{durable + 1, durable});  // the restarted follower's hello
  }

  void MakeDurable(int i) {
    ModelFollower& f = followers_[i];
    if (f.state.durable_sequence() == f.state.appended_sequence()) return;
    f.state.OnDurable(f.state.appended_sequence());
    Send(i, true, AckMsg{f.state.durable_sequence()});
  }

  void Deliver(const Frame& frame) {
    DecodeResult decoded = Decode(frame.bytes, limits_);
    if (!decoded.ok()) {
      rejects_.Count(std::get<RejectReason>(decoded.value));
      return;
    }
    const WireMessage& m = std::get<WireMessage>(decoded.value);
    if (frame.to_leader) {
      PeerProgress& peer = peers_[frame.follower];
      if (const auto* ack = std::get_if<AckMsg>(&m)) peer.OnAck(ack->durable_sequence, durable_);
      if (const auto* r = std::get_if<ResendMsg>(&m)) {
        peer.OnResend(r->from_sequence, r->durable_sequence, durable_, now_ns_);
      }
      std::vector<uint64_t> acked;
      for (const PeerProgress& p : peers_) acked.push_back(p.acked_sequence());
      commit_.Update(durable_, acked);
      return;
    }
    const auto& append = std::get<AppendMsg>(m);
    ModelFollower& f = followers_[frame.follower];
    const auto d = f.state.OnAppend(append.first_sequence, append.entries.size(),
                                    append.commit_sequence, append.leader_durable_sequence,
                                    now_ns_);
    if (d.resend_from) Send(frame.follower, true, ResendMsg{*d.resend_from, f.state.durable_sequence()});
    if (d.ack_now) Send(frame.follower, true, AckMsg{f.state.durable_sequence()});
    for (size_t k = 0; k < d.take; ++k) f.log.push_back(append.entries[d.skip + k]);
  }

  void CheckLogs() const {
    for (const ModelFollower& f : followers_) {
      RC_ASSERT(f.log.size() == f.state.appended_sequence());
      for (size_t k = 0; k < f.log.size(); ++k) RC_ASSERT(f.log[k] == Entry(k + 1));
      RC_ASSERT(f.state.committed_sequence() <= commit_.commit_sequence());
    }
  }

  std::mt19937_64 rng_;
  const uint64_t entries_;
  uint64_t durable_ = 0;
  int64_t now_ns_ = 0;
  WireLimits limits_;
  WireRejects rejects_;
  CommitTracker commit_{kFollowers};
  std::vector<PeerProgress> peers_;
  std::vector<ModelFollower> followers_;
  std::vector<Frame> frames_;
};

RC_GTEST_PROP(ProtocolModel, GapFreeUnderFaultsAndConvergesAfter, ()) {
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto entries = *rc::gen::inRange<uint64_t>(1, 60);
  Model model(seed, entries);
  for (int step = 0; step < 300; ++step) model.Step(/*faults=*/true);
  for (int step = 0; step < 2000 && !model.Converged(); ++step) model.Step(/*faults=*/false);
  RC_ASSERT(model.Converged());
}

}  // namespace
}  // namespace faultline::replication
