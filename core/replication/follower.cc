// core/replication/follower.cc — the follower's fibers: apply in sequence,
// acknowledge after durability.
#include "core/replication/follower.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace faultline::replication {

absl::StatusOr<std::unique_ptr<Follower>> Follower::Create(runtime::Executor& executor,
                                                           wal::Wal& wal, io::Endpoint& endpoint,
                                                           io::Address leader,
                                                           FollowerOptions options) {
  if (leader == endpoint.address()) {
    return absl::InvalidArgumentError("the leader's address is the follower's own");
  }
  if (options.max_unacked_appends == 0) {
    return absl::InvalidArgumentError("max_unacked_appends must be at least 1");
  }
  // Sequence s of this Wal holds the leader's entry s: nothing may have been
  // released from the front, or appended beside the Follower.
  if (wal.first_sequence() != 1 || wal.last_sequence() != wal.durable_sequence()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the follower's Wal does not start at sequence 1 or has records in flight"));
  }
  return std::unique_ptr<Follower>(
      new Follower(executor, wal, endpoint, std::move(leader), std::move(options)));
}

Follower::Follower(runtime::Executor& executor, wal::Wal& wal, io::Endpoint& endpoint,
                   io::Address leader, FollowerOptions options)
    : executor_(executor),
      wal_(wal),
      endpoint_(endpoint),
      leader_(std::move(leader)),
      options_(std::move(options)),
      state_(wal.durable_sequence(), options_.resend_interval_ns),
      pending_(executor, options_.max_unacked_appends) {}

Follower::~Follower() {
  FAULTLINE_CHECK_MSG(!receiver_.valid() || receiver_.done(), "Follower destroyed before Stop()");
  FAULTLINE_CHECK_MSG(!acker_.valid() || acker_.done(), "Follower destroyed before Stop()");
}

void Follower::Start() {
  FAULTLINE_CHECK(!receiver_.valid());
  receiver_ = runtime::Spawn(executor_, "repl-follower-recv", [this] { ReceiveLoop(); });
  acker_ = runtime::Spawn(executor_, "repl-follower-ack", [this] { AckLoop(); });
}

void Follower::Stop() {
  stopping_ = true;
  pending_.Close();
  if (receiver_.valid()) receiver_.Join();
  if (acker_.valid()) acker_.Join();
}

FollowerStats Follower::stats() const {
  FollowerStats stats = stats_;
  stats.apply = state_.counters();
  return stats;
}

void Follower::Fail(absl::Status status) {
  if (health_.ok()) health_ = std::move(status);
  stopping_ = true;
  pending_.Close();
}

void Follower::Send(const WireMessage& message) {
  if (!endpoint_.Send(leader_, Encode(message, options_.limits)).ok()) ++stats_.send_failures;
}

void Follower::ReceiveLoop() {
  // Hello: where this incarnation resumes. If it is lost, the leader's next
  // heartbeat shows the gap and a Resend follows.
  Send(ResendMsg{state_.durable_sequence() + 1, state_.durable_sequence()});
  while (!stopping_) {
    absl::StatusOr<io::Message> message = endpoint_.Receive(options_.receive_poll_ns);
    if (absl::IsDeadlineExceeded(message.status())) continue;
    if (!message.ok()) break;  // the node died or the endpoint is gone
    HandleFrame(*message);
  }
  pending_.Close();
}

void Follower::HandleFrame(const io::Message& message) {
  if (message.from != leader_) {
    ++stats_.unknown_senders;
    return;
  }
  DecodeResult decoded = Decode(message.payload, options_.limits);
  if (!decoded.ok()) {
    stats_.rejects.Count(std::get<RejectReason>(decoded.value));
    return;
  }
  const auto* append = std::get_if<AppendMsg>(&std::get<WireMessage>(decoded.value));
  if (append == nullptr) {
    ++stats_.unexpected_types;
    return;
  }
  const FollowerState::Decision decision =
      state_.OnAppend(append->first_sequence, append->entries.size(), append->commit_sequence,
                      append->leader_durable_sequence, executor_.NowNs());
  if (decision.resend_from) Send(ResendMsg{*decision.resend_from, state_.durable_sequence()});
  if (decision.ack_now) {
    ++stats_.acks_sent;
    Send(AckMsg{state_.durable_sequence()});
  }
  if (decision.take > 0) Apply(*append, decision);
}

void Follower::Apply(const AppendMsg& append, const FollowerState::Decision& decision) {
  std::vector<std::string_view> payloads;
  payloads.reserve(decision.take);
  const uint64_t first = append.first_sequence + decision.skip;
  for (size_t i = 0; i < decision.take; ++i) payloads.push_back(append.entries[decision.skip + i]);
  absl::StatusOr<wal::AppendResult> result = wal_.AppendBatch(payloads);
  if (!result.ok()) {
    Fail(result.status());
    return;
  }
  // The Wal numbers records as the leader did, or the logs have diverged.
  FAULTLINE_CHECK_MSG(result->first_sequence == first,
                      "the follower's Wal assigned a sequence other than the leader's");
  FAULTLINE_CHECK(result->last_sequence == state_.appended_sequence());
  if (options_.on_append) {
    for (size_t i = 0; i < payloads.size(); ++i) options_.on_append(first + i, payloads[i]);
  }
  if (!pending_.Send(Pending{result->last_sequence, result->durable}).ok()) return;  // stopping
}

void Follower::AckLoop() {
  uint64_t last_acked = 0;
  while (true) {
    absl::StatusOr<Pending> next = pending_.Receive();
    if (!next.ok()) return;  // closed and drained
    const absl::StatusOr<uint64_t>& durable = next->durable.Get();
    if (!durable.ok()) {
      Fail(durable.status());
      return;
    }
    // Every record of this Wal came from a Follower, so the Wal's durable
    // position may already cover later Appends: one Ack for all of them.
    FAULTLINE_CHECK(wal_.durable_sequence() >= next->last_sequence);
    state_.OnDurable(wal_.durable_sequence());
    if (state_.durable_sequence() == last_acked) continue;
    last_acked = state_.durable_sequence();
    ++stats_.acks_sent;
    Send(AckMsg{last_acked});
  }
}

}  // namespace faultline::replication
