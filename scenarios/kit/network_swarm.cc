// scenarios/kit/network_swarm.cc — see network_swarm.h.
#include "scenarios/kit/network_swarm.h"

#include <algorithm>

#include "core/base/check.h"

namespace faultline::scenarios::kit {
namespace {

using sim::net::ClogRule;
using sim::net::LinkLatency;
using sim::net::MessageAction;
using sim::net::MessageRule;
using sim::net::PartitionDirection;
using sim::net::PartitionRule;

constexpr int64_t kMicrosecondNs = 1'000;
constexpr int64_t kMillisecondNs = 1'000'000;
constexpr uint64_t kMaxRulesOfEachKind = 2;

uint32_t MaybePpm(sim::Prng& swarm, int64_t high) {
  return swarm.Chance(1, 2) ? static_cast<uint32_t>(swarm.Between(0, high)) : 0;
}

LinkLatency DrawLatency(sim::Prng& swarm) {
  switch (swarm.Below(3)) {
    case 0: return LinkLatency::Fixed(swarm.Between(50 * kMicrosecondNs, 500 * kMicrosecondNs));
    case 1:
      return LinkLatency::Uniform(50 * kMicrosecondNs,
                                  swarm.Between(100 * kMicrosecondNs, 2 * kMillisecondNs));
    default:
      return LinkLatency::LongTail(50 * kMicrosecondNs, 500 * kMicrosecondNs,
                                   static_cast<uint32_t>(swarm.Between(10'000, 100'000)),
                                   swarm.Between(1 * kMillisecondNs, 10 * kMillisecondNs));
  }
}

// A window that starts inside the horizon and lasts 5% to 50% of it.
void DrawWindow(sim::Prng& swarm, int64_t horizon_ns, int64_t& start_ns, int64_t& end_ns) {
  start_ns = swarm.Between(0, horizon_ns - 1);
  end_ns = start_ns + swarm.Between(std::max<int64_t>(1, horizon_ns / 20), std::max<int64_t>(1, horizon_ns / 2));
}

PartitionRule DrawPartition(sim::Prng& swarm, const std::vector<sim::NodeId>& nodes,
                            int64_t horizon_ns) {
  PartitionRule rule;
  std::vector<sim::NodeId> shuffled = nodes;
  swarm.Shuffle(absl::MakeSpan(shuffled));
  switch (swarm.Below(4)) {
    case 0:  // a node isolated from every other
      rule.spec.side_a = {shuffled[0]};
      break;
    case 1:  // a bridge: two nodes cut from each other, the rest reach both
      rule.spec.side_a = {shuffled[0]};
      rule.spec.side_b = {shuffled[1]};
      break;
    default: {  // a split, symmetric or one-way
      const size_t cut = static_cast<size_t>(swarm.Between(1, static_cast<int64_t>(nodes.size()) - 1));
      rule.spec.side_a.assign(shuffled.begin(), shuffled.begin() + static_cast<ptrdiff_t>(cut));
      rule.spec.side_b.assign(shuffled.begin() + static_cast<ptrdiff_t>(cut), shuffled.end());
      rule.spec.direction = static_cast<PartitionDirection>(swarm.Below(3));
    }
  }
  DrawWindow(swarm, horizon_ns, rule.start_ns, rule.end_ns);
  return rule;
}

ClogRule DrawClog(sim::Prng& swarm, const std::vector<sim::NodeId>& nodes, int64_t horizon_ns) {
  ClogRule rule;
  const size_t from = swarm.Below(nodes.size());
  rule.spec.from = {nodes[from]};
  if (swarm.Chance(1, 2)) {  // one link; else from that node to every other
    const size_t to = (from + 1 + swarm.Below(nodes.size() - 1)) % nodes.size();
    rule.spec.to = {nodes[to]};
  }
  DrawWindow(swarm, horizon_ns, rule.start_ns, rule.end_ns);
  return rule;
}

MessageRule DrawMessageRule(sim::Prng& swarm, const std::vector<sim::NodeId>& nodes) {
  const size_t from = swarm.Below(nodes.size());
  const size_t to = (from + 1 + swarm.Below(nodes.size() - 1)) % nodes.size();
  MessageRule rule{.from = nodes[from], .to = nodes[to], .nth = 1 + swarm.Below(30)};
  rule.action = static_cast<MessageAction>(swarm.Below(5));
  rule.delay_ns = swarm.Between(1 * kMillisecondNs, 20 * kMillisecondNs);
  return rule;
}

}  // namespace

sim::net::NetworkFaultPlan DrawNetworkSwarm(sim::Prng& swarm, const std::vector<sim::NodeId>& nodes,
                                            int64_t horizon_ns) {
  FAULTLINE_CHECK(nodes.size() >= 2 && horizon_ns >= 1);
  sim::net::NetworkFaultPlan plan;
  plan.latency.default_link = DrawLatency(swarm);
  sim::net::NetFaultRates& rates = plan.rates;
  rates.drop_ppm = MaybePpm(swarm, 100'000);
  rates.duplicate_ppm = MaybePpm(swarm, 100'000);
  rates.reorder_ppm = MaybePpm(swarm, 300'000);
  rates.corrupt_ppm = MaybePpm(swarm, 50'000);
  rates.delay_ppm = MaybePpm(swarm, 100'000);
  rates.delay_min_ns = 100 * kMicrosecondNs;
  rates.delay_max_ns = swarm.Between(rates.delay_min_ns, 5 * kMillisecondNs);
  for (uint64_t i = swarm.Below(kMaxRulesOfEachKind + 1); i > 0; --i) {
    plan.partition_rules.push_back(DrawPartition(swarm, nodes, horizon_ns));
  }
  for (uint64_t i = swarm.Below(kMaxRulesOfEachKind + 1); i > 0; --i) {
    plan.clog_rules.push_back(DrawClog(swarm, nodes, horizon_ns));
  }
  for (uint64_t i = swarm.Below(kMaxRulesOfEachKind + 1); i > 0; --i) {
    plan.message_rules.push_back(DrawMessageRule(swarm, nodes));
  }
  return plan;
}

void StopNetworkFaults(sim::net::SimNetwork& network) {
  network.HealAll();
  sim::net::NetworkFaultPlan& plan = network.plan();
  plan.rates = sim::net::NetFaultRates{};
  plan.message_rules.clear();
  plan.partition_rules.clear();
  plan.clog_rules.clear();
}

}  // namespace faultline::scenarios::kit
