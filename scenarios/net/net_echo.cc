// scenarios/net/net_echo.cc — see net_echo.h. Written on the scenario kit:
// the world, the nodes, crashes and the network swarm come from
// scenarios/kit; this file is the workload (a sliding-window stream from
// every node to every other, with cumulative acknowledgements and
// retransmission), its checkers and its nemesis.
#include "scenarios/net/net_echo.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/io/network.h"
#include "scenarios/kit/network_swarm.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"
#include "scenarios/net/echo_codec.h"
#include "sim/network/sim_network.h"

namespace faultline::scenarios {
namespace {

using net_echo::EchoFrame;
using net_echo::EncodeEchoFrame;

constexpr int kNodes = 3;
constexpr uint32_t kMessagesPerStream = 24;  // per ordered pair of nodes
constexpr uint32_t kWindow = 4;              // data frames in flight per stream
constexpr int64_t kRetransmitNs = 2'000'000;
constexpr int64_t kFaultHorizonNs = 30'000'000;     // faults and crashes before this
constexpr int64_t kLivenessBoundNs = 1'000'000'000;  // after the heal
constexpr int64_t kPollNs = 1'000'000;
constexpr int kMaxCrashes = 3;
constexpr uint64_t kMaxRounds = 1'000'000;           // per incarnation; the run ends first
constexpr size_t kMaxReceivesPerRound = 100'000;

std::string Address(int index) { return absl::StrCat("n", index + 1); }

// One incarnation's protocol state. Kept in the world (not on the fiber's
// stack), so a crash leaves the dead endpoint in place for the next
// incarnation to replace: a restarted node listens afresh.
struct Incarnation {
  std::unique_ptr<io::Endpoint> endpoint;
  uint64_t epoch = 0;                                // the node's incarnation number
  std::array<uint32_t, kNodes> send_base{};          // per peer: the next sequence it expects
  std::array<uint64_t, kNodes> peer_epoch{};         // per peer: its newest epoch acked
  std::array<uint32_t, kNodes> next_expected{};      // per peer: the next sequence to accept
  std::array<uint32_t, kNodes> sent_high{};          // per peer: sequences sent (highest + 1)
};

class EchoWorld {
 public:
  EchoWorld(const ScenarioOptions& options, const NetEchoVariant& variant)
      : variant_(variant), world_(options), network_(world_.scheduler()) {
    std::vector<sim::NodeId> ids;
    for (int i = 0; i < kNodes; ++i) {
      nodes_.push_back(std::make_unique<kit::Node>(world_, Address(i)));
      nodes_.back()->AttachNetwork(network_);
      nodes_.back()->SetMain([this, i](kit::Life) { Main(i); });
      ids.push_back(nodes_.back()->id());
    }
    network_.plan() = kit::DrawNetworkSwarm(world_.prng(sim::Stream::kSwarm), ids, kFaultHorizonNs);
    salt_ = world_.prng(sim::Stream::kWorkload).NextU64();
    world_.coverage().WatchNetwork(network_);
  }

  ScenarioResult Run() {
    for (auto& node : nodes_) node->Start();
    world_.StartNemesis([this] { Nemesis(); });
    return world_.Run();
  }

 private:
  void Main(int index);
  void SendWindow(int index, Incarnation& self, int peer);
  void Handle(int index, Incarnation& self, const io::Message& message);
  void HandleAck(int index, Incarnation& self, const EchoFrame& ack);
  // Tells `peer` the next sequence this incarnation expects from it.
  void SendAck(int index, Incarnation& self, int peer);
  void Nemesis();
  // Why the streams are not all delivered yet ("n2 waits for seq 5 from
  // n1"), or empty once they are.
  std::string FirstStall();
  std::string Body(int from, int to, uint32_t seq) const;
  EchoFrame Data(int from, int to, uint32_t seq) const {
    return EchoFrame{.type = EchoFrame::Type::kData, .from = static_cast<uint8_t>(from),
                     .to = static_cast<uint8_t>(to), .seq = seq, .body = Body(from, to, seq)};
  }

  const NetEchoVariant variant_;
  kit::World world_;
  sim::net::SimNetwork network_;
  std::vector<std::unique_ptr<kit::Node>> nodes_;
  std::array<std::unique_ptr<Incarnation>, kNodes> live_;
  // sent_[from][to]: how many sequences of that stream have been sent (the
  // highest + 1), over every incarnation; a sequence's bytes never change.
  std::array<std::array<uint32_t, kNodes>, kNodes> sent_{};
  uint64_t rejected_ = 0;  // frames the checksum refused
  uint64_t salt_ = 0;
};

std::string EchoWorld::Body(int from, int to, uint32_t seq) const {
  const size_t length = 1 + (seq * 7 + static_cast<uint32_t>(from * 3 + to)) % 40;
  std::string body(length, '\0');
  for (size_t i = 0; i < length; ++i) {
    body[i] = static_cast<char>(salt_ + static_cast<uint64_t>(from * 31 + to * 17) + seq * 13 + i * 7);
  }
  return body;
}

void EchoWorld::Main(int index) {
  kit::Node& node = *nodes_[index];
  auto incarnation = std::make_unique<Incarnation>();
  incarnation->epoch = world_.scheduler().Incarnation(node.id());
  auto endpoint = node.Network().Listen(Address(index));
  if (!endpoint.ok()) {
    world_.Fail(absl::StrCat(Address(index), ": listen failed: ", endpoint.status().ToString()));
    return;
  }
  incarnation->endpoint = std::move(*endpoint);
  Incarnation& self = *incarnation;
  live_[index] = std::move(incarnation);  // the dead incarnation's endpoint goes here
  sim::Scheduler& scheduler = world_.scheduler();
  for (uint64_t round = 0; round < kMaxRounds && !world_.over(); ++round) {
    for (int peer = 0; peer < kNodes; ++peer) {
      if (peer == index) continue;
      SendWindow(index, self, peer);
      // A receiver that still waits says so each round: a peer that
      // finished this stream for an earlier incarnation learns of the
      // restart and starts over.
      if (self.next_expected[peer] < kMessagesPerStream) SendAck(index, self, peer);
    }
    const int64_t round_end_ns = scheduler.NowNs() + kRetransmitNs;
    for (size_t i = 0; i < kMaxReceivesPerRound && scheduler.NowNs() < round_end_ns; ++i) {
      absl::StatusOr<io::Message> message = self.endpoint->Receive(round_end_ns - scheduler.NowNs());
      if (!message.ok()) break;  // the round's time is up: retransmit
      Handle(index, self, *message);
      if (world_.over()) return;
    }
  }
}

void EchoWorld::SendWindow(int index, Incarnation& self, int peer) {
  const uint32_t end = std::min(self.send_base[peer] + kWindow, kMessagesPerStream);
  const uint32_t first =
      variant_.retransmit ? self.send_base[peer] : std::max(self.send_base[peer], self.sent_high[peer]);
  for (uint32_t seq = first; seq < end; ++seq) {
    const absl::Status sent = self.endpoint->Send(Address(peer), EncodeEchoFrame(Data(index, peer, seq)));
    if (absl::IsResourceExhausted(sent)) {
      world_.coverage().Count("backpressure");
      return;
    }
    if (!sent.ok()) {
      world_.Fail(absl::StrCat(Address(index), ": send failed: ", sent.ToString()));
      return;
    }
    sent_[index][peer] = std::max(sent_[index][peer], seq + 1);
    self.sent_high[peer] = std::max(self.sent_high[peer], seq + 1);
  }
}

void EchoWorld::Handle(int index, Incarnation& self, const io::Message& message) {
  absl::StatusOr<EchoFrame> frame = variant_.decode(message.payload);
  if (!frame.ok()) {
    ++rejected_;
    world_.coverage().Count("corrupt_rejected");
    return;
  }
  const int from = frame->from;
  if (from >= kNodes || frame->to != index || message.from != Address(from)) {
    world_.Fail(absl::StrCat(Address(index), " took a frame claiming ", from + 1, " -> ",
                             frame->to + 1, " from address ", message.from));
    return;
  }
  if (frame->type == EchoFrame::Type::kAck) {
    HandleAck(index, self, *frame);
    return;
  }
  // Intact and sent: byte-equal to what the sender sent for that sequence.
  if (frame->seq >= sent_[from][index] || message.payload != EncodeEchoFrame(Data(from, index, frame->seq))) {
    world_.Fail(absl::StrCat(Address(index), " took seq ", frame->seq, " from ", Address(from),
                             frame->seq >= sent_[from][index] ? ", which was never sent"
                                                               : ", which differs from what was sent"));
    return;
  }
  if (frame->seq == self.next_expected[from]) ++self.next_expected[from];  // in order; else skip
  SendAck(index, self, from);
}

void EchoWorld::SendAck(int index, Incarnation& self, int peer) {
  const EchoFrame ack{.type = EchoFrame::Type::kAck, .from = static_cast<uint8_t>(index),
                      .to = static_cast<uint8_t>(peer), .seq = self.next_expected[peer],
                      .epoch = static_cast<uint32_t>(self.epoch)};
  const absl::Status sent = self.endpoint->Send(Address(peer), EncodeEchoFrame(ack));
  if (absl::IsResourceExhausted(sent)) world_.coverage().Count("backpressure");  // acked again later
}

void EchoWorld::HandleAck(int index, Incarnation& self, const EchoFrame& ack) {
  if (ack.seq > kMessagesPerStream || ack.seq > sent_[index][ack.from]) {
    world_.Fail(absl::StrCat(Address(index), " got an ack for seq ", ack.seq, " from ",
                             Address(ack.from), " beyond what it sent"));
    return;
  }
  // A newer epoch is a restarted receiver: start over from what it expects.
  // An older one is stale.
  if (ack.epoch > self.peer_epoch[ack.from] && variant_.rewind_on_restart) {
    self.peer_epoch[ack.from] = ack.epoch;
    self.send_base[ack.from] = ack.seq;
  } else if (ack.epoch >= self.peer_epoch[ack.from]) {
    self.send_base[ack.from] = std::max(self.send_base[ack.from], ack.seq);
  }
}

std::string EchoWorld::FirstStall() {
  for (int to = 0; to < kNodes; ++to) {
    const kit::Node& node = *nodes_[to];
    const Incarnation* state = live_[to].get();
    if (!node.alive()) return absl::StrCat(Address(to), " is down");
    if (state == nullptr || state->epoch != world_.scheduler().Incarnation(node.id())) {
      return absl::StrCat(Address(to), " has not started its incarnation");
    }
    for (int from = 0; from < kNodes; ++from) {
      if (from != to && state->next_expected[from] < kMessagesPerStream) {
        return absl::StrCat(Address(to), " waits for seq ", state->next_expected[from], " from ",
                            Address(from));
      }
    }
  }
  return "";
}

void EchoWorld::Nemesis() {
  sim::Scheduler& scheduler = world_.scheduler();
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const uint64_t rounds = crash.Below(kMaxCrashes + 1);
  for (uint64_t round = 0; round < rounds && !world_.over(); ++round) {
    scheduler.SleepFor(crash.Between(1, kFaultHorizonNs / kMaxCrashes));
    kit::Node& victim = *nodes_[crash.Below(kNodes)];
    victim.CrashNow("nemesis", "");
    scheduler.SleepFor(crash.Between(100'000, 5'000'000));
    victim.Restart(kit::Life::kWork);
  }
  if (scheduler.NowNs() < kFaultHorizonNs) scheduler.SleepUntil(kFaultHorizonNs);
  kit::StopNetworkFaults(network_);
  const int64_t healed_ns = scheduler.NowNs();
  spdlog::debug("faults stop: every partition healed, every clog released");
  // Liveness: every stream gets through within the bound.
  for (std::string stall = FirstStall(); !stall.empty(); stall = FirstStall()) {
    if (world_.over()) return;
    if (scheduler.NowNs() - healed_ns >= kLivenessBoundNs) {
      world_.Fail(absl::StrCat("liveness: ", stall, " ", kLivenessBoundNs / 1'000'000,
                               " ms after the heal"));
      return;
    }
    scheduler.SleepFor(kPollNs);
  }
  const uint64_t corrupted = network_.stats().delivered_corrupt;
  world_.Check(corrupted == rejected_
                   ? absl::OkStatus()
                   : absl::InternalError(absl::StrCat(corrupted, " corrupted frames delivered, ",
                                                      rejected_, " rejected by the checksum")),
               "every corrupted frame rejected", {"corrupted", corrupted}, {"rejected", rejected_});
  world_.Check(absl::OkStatus(), "every stream delivered after the heal",
               {"healed_ns", static_cast<uint64_t>(healed_ns)},
               {"done_ns", static_cast<uint64_t>(scheduler.NowNs())});
  world_.End("every stream delivered");
}

}  // namespace

ScenarioResult RunNetEcho(const ScenarioOptions& options, const NetEchoVariant& variant) {
  // The world is large: keep it off the caller's (possibly fiber) stack.
  auto world = std::make_unique<EchoWorld>(options, variant);
  return world->Run();
}

Scenario NetEchoScenario() {
  return Scenario{
      .name = "net_echo",
      .description = "3 nodes stream sequenced, checksummed messages to each other over the "
                     "simulated network under swarm-chosen drops, duplicates, reordering, "
                     "delays, corruption, partitions, clogs and crashes; checks that every "
                     "message taken is one that was sent, intact, that every corrupted frame "
                     "is rejected, and that after the heal retransmission gets every stream "
                     "through",
      .run = [](const ScenarioOptions& options) { return RunNetEcho(options); },
  };
}

}  // namespace faultline::scenarios
