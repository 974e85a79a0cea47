// sim/network/net_plan.h — which faults a simulated network injects, the
// latency of its links, and the counters that say which faults a run
// actually exercised.
//
// A NetworkFaultPlan is plain data (a scenario, a test or the swarm builds
// one), in the shape of sim/disk's FaultPlan:
//
//  * message rules: explicit, counted faults. "Drop the 3rd message from n1
//      to n2" is MessageRule{.from = n1, .to = n2, .nth = 3, .action =
//      MessageAction::kDrop}. Messages are counted per directed pair of
//      nodes from 1, over the network's life: every Send that is accepted
//      (valid size, live node) to an address some endpoint holds.
//  * partition rules: "partition {n1} | {n2,n3} from t=5ms to t=40ms" is
//      PartitionRule{{{n1}, {n2, n3}, PartitionDirection::kBoth}, 5ms, 40ms}.
//      A message sent while a partition cuts its link is lost; messages
//      already in flight when it begins still land (they were on the wire).
//  * clog rules: "clog n1 -> n2 from 5ms to 20ms": every message of the link
//      that would arrive inside the window is held and arrives at its end,
//      in one burst (FoundationDB's clogging).
//  * rates: probabilistic faults, integers in parts per million per message
//      (no floating point decides). A zero rate draws nothing.
//  * latency: a distribution per directed link (a default and overrides).
//
// Every injected fault is a TraceKind::kFault event (a = the FaultKind,
// b = the message id or the rule / partition id) and is counted in
// NetFaultStats; so are partitions, heals, clogs and releases.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scheduler/prng.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::net {

// A link latency in virtual nanoseconds. kNone costs nothing (no draw).
struct LinkLatency {
  enum class Kind : uint8_t { kNone, kFixed, kUniform, kLongTail };
  Kind kind = Kind::kNone;
  int64_t min_ns = 0;        // kFixed: the latency; kUniform, kLongTail: lower bound
  int64_t max_ns = 0;        // kUniform, kLongTail: upper bound of the body (inclusive)
  uint32_t tail_ppm = 0;     // kLongTail: chance of a tail draw...
  int64_t tail_mean_ns = 0;  // ...which adds an exponential delay of this mean

  static LinkLatency Fixed(int64_t latency_ns) { return {Kind::kFixed, latency_ns, 0, 0, 0}; }
  static LinkLatency Uniform(int64_t min_ns, int64_t max_ns) {
    return {Kind::kUniform, min_ns, max_ns, 0, 0};
  }
  // Uniform in [min_ns, max_ns], plus with tail_ppm an exponential tail.
  static LinkLatency LongTail(int64_t min_ns, int64_t max_ns, uint32_t tail_ppm,
                              int64_t tail_mean_ns) {
    return {Kind::kLongTail, min_ns, max_ns, tail_ppm, tail_mean_ns};
  }
  int64_t Draw(Prng& prng) const;
};

// The latency of one directed link, overriding the default.
struct LinkLatencyOverride {
  NodeId from = 0;
  NodeId to = 0;
  LinkLatency latency;
};

struct NetLatencies {
  LinkLatency default_link;
  std::vector<LinkLatencyOverride> overrides;  // the first match wins
  const LinkLatency& For(NodeId from, NodeId to) const;
};

enum class MessageAction : uint8_t {
  kDrop = 0,
  kDuplicate = 1,  // a second copy, with its own latency
  kDelay = 2,      // arrives `delay_ns` later than its latency says
  kCorrupt = 3,    // one bit of the payload flips (an empty payload is kept)
  kReorder = 4,    // swaps arrival times with a message still in flight on its link
};
std::string_view MessageActionName(MessageAction action);

struct MessageRule {
  NodeId from = 0;
  NodeId to = 0;
  uint64_t nth = 1;  // 1-based count of messages from `from` to `to`
  MessageAction action = MessageAction::kDrop;
  int64_t delay_ns = 0;  // kDelay
};

enum class PartitionDirection : uint8_t {
  kBoth = 0,    // symmetric: neither side reaches the other
  kAToB = 1,    // one-way: side_a's messages to side_b are lost, replies get through
  kBToA = 2,
};

// Two sides of a cut. An empty side_b means every node not in side_a (node
// isolation: {n} | rest).
struct PartitionSpec {
  std::vector<NodeId> side_a;
  std::vector<NodeId> side_b;
  PartitionDirection direction = PartitionDirection::kBoth;

  bool Cuts(NodeId from, NodeId to) const;
  // "{1} | {2,3}", "{1} -> {rest}"
  std::string Describe() const;
};

struct PartitionRule {
  PartitionSpec spec;
  int64_t start_ns = 0;
  int64_t end_ns = 0;  // exclusive
};

// Messages from any node of `from` to any node of `to` (empty `to`: to
// every other node) are held while the clog holds.
struct ClogSpec {
  std::vector<NodeId> from;
  std::vector<NodeId> to;

  bool Holds(NodeId from_node, NodeId to_node) const;
  std::string Describe() const;
};

struct ClogRule {
  ClogSpec spec;
  int64_t start_ns = 0;
  int64_t end_ns = 0;  // exclusive; held messages arrive at end_ns
};

struct NetFaultRates {
  uint32_t drop_ppm = 0;
  uint32_t duplicate_ppm = 0;
  uint32_t reorder_ppm = 0;
  uint32_t corrupt_ppm = 0;
  uint32_t delay_ppm = 0;
  int64_t delay_min_ns = 0;  // a delayed message arrives this much later, at least...
  int64_t delay_max_ns = 0;  // ...and at most (inclusive)
};

struct NetworkFaultPlan {
  std::vector<MessageRule> message_rules;      // at most kMaxRules each
  std::vector<PartitionRule> partition_rules;
  std::vector<ClogRule> clog_rules;
  NetFaultRates rates;
  NetLatencies latency;

  static constexpr size_t kMaxRules = 4096;
};

// Every kind of fault the network counts. Append only: values go into traces.
enum class NetFaultKind : uint8_t {
  kDrop = 0,            // a message lost by a rate or a rule
  kDuplicate = 1,
  kReorder = 2,
  kDelay = 3,
  kCorrupt = 4,
  kPartitionDrop = 5,   // a message lost to a partition
  kPartition = 6,       // a partition began
  kHeal = 7,            // a partition ended
  kClog = 8,            // a clog began
  kRelease = 9,         // a clog ended: its held messages arrive in a burst
  kClogHeld = 10,       // a message held by a clog
  kCrashVanish = 11,    // a message lost because its sender or receiver crashed
};
inline constexpr size_t kNetFaultKindCount = 12;
// "net_drop", "net_partition", ...: distinct from the disk's names, so both
// can share a run's fault coverage.
std::string_view NetFaultKindName(NetFaultKind kind);

struct NetFaultStats {
  std::array<uint64_t, kNetFaultKindCount> counts{};

  uint64_t count(NetFaultKind kind) const { return counts[static_cast<size_t>(kind)]; }
  void Add(NetFaultKind kind, uint64_t n = 1) { counts[static_cast<size_t>(kind)] += n; }
  // "net_drop=3 net_heal=1" — the kinds that occurred, in enum order.
  std::string ToString() const;
};

// Counters of what the network did that is not a fault.
struct NetStats {
  uint64_t sent = 0;                    // Sends accepted
  uint64_t delivered = 0;               // messages returned by Receive
  uint64_t delivered_corrupt = 0;       // ... of which carried corrupted bytes
  uint64_t dropped_no_listener = 0;     // sent to an address nobody held
  uint64_t vanished_endpoint_closed = 0;  // pending at an endpoint destroyed
  uint64_t rejected_queue_full = 0;     // Sends refused: ResourceExhausted
  uint64_t rejected_oversize = 0;       // Sends refused: InvalidArgument
};

}  // namespace faultline::sim::net
