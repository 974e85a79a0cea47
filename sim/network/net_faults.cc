// sim/network/net_faults.cc — what becomes of each message (rules, rates,
// latency, partitions, clogs) and the imperative partitions and clogs (see
// sim_network.h and net_plan.h).
//
// Draws from Stream::kNetwork per accepted Send, in this fixed order, each
// only when its rate is not zero: drop, latency, delay (chance, then amount),
// corrupt, reorder, duplicate; then the corrupted bit, the reorder partner
// and the copy's latency, when they apply. A lost message draws nothing past
// its loss.
#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "sim/network/sim_network.h"

namespace faultline::sim::net {
namespace {

uint64_t KindKey(NetFaultKind kind, uint64_t detail) {
  return Trace::Fold(static_cast<uint64_t>(kind), detail);
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  return runtime::DeadlineAfter(a, b);  // saturates at kNoDeadline
}

}  // namespace

SimNetwork::SendDecision SimNetwork::ApplyRules(NodeId from, NodeId to) {
  const uint64_t nth = ++pair_counts_[{from, to}];
  FAULTLINE_CHECK(plan_.message_rules.size() <= NetworkFaultPlan::kMaxRules);
  SendDecision decision;
  for (const MessageRule& rule : plan_.message_rules) {
    if (rule.from != from || rule.to != to || rule.nth != nth) continue;
    switch (rule.action) {
      case MessageAction::kDrop: decision.drop = true; break;
      case MessageAction::kDuplicate: decision.duplicate = true; break;
      case MessageAction::kDelay: decision.delay_ns += std::max<int64_t>(0, rule.delay_ns); break;
      case MessageAction::kCorrupt: decision.corrupt = true; break;
      case MessageAction::kReorder: decision.reorder = true; break;
    }
  }
  return decision;
}

bool SimNetwork::IsCut(NodeId from, NodeId to) const {
  for (const auto& [id, spec] : partitions_) {
    if (spec.Cuts(from, to)) return true;
  }
  FAULTLINE_CHECK(plan_.partition_rules.size() <= NetworkFaultPlan::kMaxRules);
  const int64_t now_ns = scheduler_.NowNs();
  for (const PartitionRule& rule : plan_.partition_rules) {
    if (rule.start_ns <= now_ns && now_ns < rule.end_ns && rule.spec.Cuts(from, to)) return true;
  }
  return false;
}

bool SimNetwork::ImperativeClogHolds(NodeId from, NodeId to) const {
  for (const auto& [id, spec] : clogs_) {
    if (spec.Holds(from, to)) return true;
  }
  return false;
}

int64_t SimNetwork::AfterRuleClogs(NodeId from, NodeId to, int64_t arrival_ns) const {
  FAULTLINE_CHECK(plan_.clog_rules.size() <= NetworkFaultPlan::kMaxRules);
  // Each pass that moves the arrival moves it to some window's end, past
  // where it was: at most one pass per rule, plus the one that finds none.
  for (size_t pass = 0; pass <= plan_.clog_rules.size(); ++pass) {
    bool moved = false;
    for (const ClogRule& rule : plan_.clog_rules) {
      if (rule.start_ns <= arrival_ns && arrival_ns < rule.end_ns && rule.spec.Holds(from, to)) {
        arrival_ns = rule.end_ns;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return arrival_ns;
}

void SimNetwork::DecideAndEnqueue(Port& source, Port& dest, std::string_view payload) {
  const uint64_t id = next_message_id_++;
  const NodeId from = source.node;
  const NodeId to = dest.node;
  SendDecision decision = ApplyRules(from, to);
  auto describe_link = [&](std::string_view what) {
    return [&, what] {
      return absl::StrCat("msg ", id, " ", scheduler_.NodeName(from), " -> ",
                          scheduler_.NodeName(to), ": ", AsAbsl(what));
    };
  };
  if (IsCut(from, to)) {
    Note(NetFaultKind::kPartitionDrop, from, {"msg", id}, KindKey(NetFaultKind::kPartitionDrop, to),
         describe_link("lost to a partition"));
    return;
  }
  Prng& prng = scheduler_.prng(Stream::kNetwork);
  const NetFaultRates& rates = plan_.rates;
  decision.drop |= rates.drop_ppm != 0 && prng.ChancePpm(rates.drop_ppm);
  if (decision.drop) {
    Note(NetFaultKind::kDrop, from, {"msg", id}, KindKey(NetFaultKind::kDrop, to),
         describe_link("dropped"));
    return;
  }
  const int64_t now_ns = scheduler_.NowNs();
  int64_t arrival_ns = SaturatingAdd(now_ns, plan_.latency.For(from, to).Draw(prng));
  if (rates.delay_ppm != 0 && prng.ChancePpm(rates.delay_ppm)) {
    decision.delay_ns += prng.Between(rates.delay_min_ns, rates.delay_max_ns);
  }
  decision.corrupt |= rates.corrupt_ppm != 0 && prng.ChancePpm(rates.corrupt_ppm);
  decision.reorder |= rates.reorder_ppm != 0 && prng.ChancePpm(rates.reorder_ppm);
  decision.duplicate |= rates.duplicate_ppm != 0 && prng.ChancePpm(rates.duplicate_ppm);
  if (decision.delay_ns > 0) {
    arrival_ns = SaturatingAdd(arrival_ns, decision.delay_ns);
    Note(NetFaultKind::kDelay, from, {"msg", id}, KindKey(NetFaultKind::kDelay, decision.delay_ns),
         [&] {
           return absl::StrCat("msg ", id, " delayed by ", decision.delay_ns, " ns");
         });
  }
  InFlight message{.id = id,
                   .from_node = from,
                   .from_incarnation = source.incarnation,
                   .from_port = source.id,
                   .from_address = source.address,
                   .payload = std::string(payload)};
  if (decision.corrupt) Corrupt(message);
  const ArrivalKey key = Enqueue(dest, std::move(message), arrival_ns);
  if (decision.reorder) Reorder(dest, key);
  if (!decision.duplicate) return;
  // The copy carries what was sent (not a corruption of the original) and
  // takes its own path: its own latency, the same clogs.
  if (!QueueHasRoom(source.id, dest.id, payload.size())) return;
  const uint64_t copy_id = next_message_id_++;
  Note(NetFaultKind::kDuplicate, from, {"msg", id}, KindKey(NetFaultKind::kDuplicate, copy_id),
       [&] { return absl::StrCat("msg ", id, " duplicated as msg ", copy_id); });
  InFlight copy{.id = copy_id,
                .from_node = from,
                .from_incarnation = source.incarnation,
                .from_port = source.id,
                .from_address = source.address,
                .payload = std::string(payload)};
  Enqueue(dest, std::move(copy), SaturatingAdd(now_ns, plan_.latency.For(from, to).Draw(prng)));
}

SimNetwork::ArrivalKey SimNetwork::Enqueue(Port& dest, InFlight message, int64_t arrival_ns) {
  const uint64_t id = message.id;
  const NodeId from = message.from_node;
  message.natural_arrival_ns = arrival_ns;
  if (ImperativeClogHolds(from, dest.node)) {
    message.held = true;
    arrival_ns = runtime::kNoDeadline;
  } else {
    arrival_ns = AfterRuleClogs(from, dest.node, arrival_ns);
    message.rule_held = arrival_ns != message.natural_arrival_ns;
  }
  if (message.held || message.rule_held) {
    Note(NetFaultKind::kClogHeld, from, {"msg", id}, KindKey(NetFaultKind::kClogHeld, arrival_ns),
         [&] {
           return message.held ? absl::StrCat("msg ", id, " held by a clog")
                               : absl::StrCat("msg ", id, " held by a clog rule until ", arrival_ns);
         });
  }
  QueueAdd(message.from_port, dest.id, message.payload.size());
  scheduler_.RecordLazyAt(from, TraceKind::kNetwork, {"msg", id},
                          {"arrive_ns", static_cast<uint64_t>(arrival_ns)},
                          Trace::Fold(dest.id, message.payload.size()), [&] {
                            return absl::StrCat("sent ", message.from_address, " -> ", dest.address,
                                                " len=", message.payload.size());
                          });
  const ArrivalKey key{arrival_ns, id};
  dest.pending.emplace(key, std::move(message));
  WakeIfEarlier(dest, arrival_ns);
  return key;
}

void SimNetwork::Corrupt(InFlight& message) {
  if (message.payload.empty()) return;  // nothing to flip: delivered intact
  const uint64_t bit = scheduler_.prng(Stream::kNetwork).Below(uint64_t{message.payload.size()} * 8);
  message.payload[bit / 8] = static_cast<char>(message.payload[bit / 8] ^ (1u << (bit % 8)));
  message.corrupted = true;
  Note(NetFaultKind::kCorrupt, message.from_node, {"msg", message.id},
       KindKey(NetFaultKind::kCorrupt, bit),
       [&] { return absl::StrCat("msg ", message.id, " corrupted: bit ", bit, " flipped"); });
}

void SimNetwork::Reorder(Port& dest, ArrivalKey key) {
  if (key.first == runtime::kNoDeadline) return;  // held: its arrival is not known yet
  const NodeId from = dest.pending.at(key).from_node;
  const int64_t now_ns = scheduler_.NowNs();
  // Partners: messages of the same link still on the wire that would
  // arrive before this one. After the swap this one overtakes its partner.
  std::vector<ArrivalKey> partners;
  for (const auto& [other, message] : dest.pending) {
    if (other.first >= key.first) break;
    if (other.first > now_ns && message.from_node == from && !message.held) partners.push_back(other);
  }
  if (partners.empty()) return;  // nothing in flight to overtake
  const ArrivalKey partner = partners[scheduler_.prng(Stream::kNetwork).Below(partners.size())];
  Retime(dest, key, partner.first);
  Retime(dest, partner, key.first);
  Note(NetFaultKind::kReorder, from, {"msg", key.second}, KindKey(NetFaultKind::kReorder, partner.second),
       [&] { return absl::StrCat("msg ", key.second, " overtakes msg ", partner.second); });
  WakeIfEarlier(dest, partner.first);
}

SimNetwork::ArrivalKey SimNetwork::Retime(Port& port, ArrivalKey key, int64_t arrival_ns) {
  auto node = port.pending.extract(key);
  FAULTLINE_CHECK(!node.empty());
  node.key().first = arrival_ns;
  const ArrivalKey new_key = node.key();
  port.pending.insert(std::move(node));
  return new_key;
}

// --- partitions and clogs ---------------------------------------------------------

uint64_t SimNetwork::Partition(PartitionSpec spec) {
  const uint64_t id = next_partition_id_++;
  const std::string text = absl::StrCat("partition ", id, ": ", spec.Describe());
  partitions_.emplace(id, std::move(spec));
  Note(NetFaultKind::kPartition, kSimNode, {"partition", id}, Trace::HashBytes(text),
       [&] { return text; });
  return id;
}

void SimNetwork::Heal(uint64_t partition_id) {
  const auto it = partitions_.find(partition_id);
  FAULTLINE_CHECK_MSG(it != partitions_.end(), "Heal: no such partition");
  partitions_.erase(it);
  Note(NetFaultKind::kHeal, kSimNode, {"partition", partition_id},
       KindKey(NetFaultKind::kHeal, partition_id),
       [&] { return absl::StrCat("heal partition ", partition_id); });
}

uint64_t SimNetwork::Clog(ClogSpec spec) {
  const uint64_t id = next_clog_id_++;
  const int64_t now_ns = scheduler_.NowNs();
  uint64_t held = 0;
  for (auto& [port_id, port] : ports_) {
    std::vector<ArrivalKey> hold;
    for (const auto& [key, message] : port->pending) {
      if (key.first > now_ns && !message.held && spec.Holds(message.from_node, port->node)) {
        hold.push_back(key);
      }
    }
    for (const ArrivalKey& key : hold) {
      port->pending.at(key).held = true;
      Retime(*port, key, runtime::kNoDeadline);
    }
    held += hold.size();
  }
  const std::string text = absl::StrCat("clog ", id, ": ", spec.Describe(), ", ", held, " in flight held");
  clogs_.emplace(id, std::move(spec));
  fault_stats_.Add(NetFaultKind::kClogHeld, held);  // traced by the clog's own event
  Note(NetFaultKind::kClog, kSimNode, {"clog", id}, Trace::HashBytes(text), [&] { return text; });
  return id;
}

void SimNetwork::Release(uint64_t clog_id) {
  const auto it = clogs_.find(clog_id);
  FAULTLINE_CHECK_MSG(it != clogs_.end(), "Release: no such clog");
  clogs_.erase(it);
  Note(NetFaultKind::kRelease, kSimNode, {"clog", clog_id}, KindKey(NetFaultKind::kRelease, clog_id),
       [&] { return absl::StrCat("release clog ", clog_id); });
  ReleaseHeld(/*rule_clogs_ended=*/false);
}

void SimNetwork::ReleaseHeld(bool rule_clogs_ended) {
  const int64_t now_ns = scheduler_.NowNs();
  for (auto& [port_id, port] : ports_) {
    std::vector<ArrivalKey> release;
    for (const auto& [key, message] : port->pending) {
      const bool by_clog = message.held && !ImperativeClogHolds(message.from_node, port->node);
      const bool by_rule = rule_clogs_ended && message.rule_held && key.first > now_ns;
      if (by_clog || by_rule) release.push_back(key);
    }
    for (const ArrivalKey& key : release) {
      InFlight& message = port->pending.at(key);
      const int64_t arrival_ns = AfterRuleClogs(message.from_node, port->node,
                                                std::max(now_ns, message.natural_arrival_ns));
      message.held = false;
      message.rule_held = arrival_ns != message.natural_arrival_ns && !rule_clogs_ended;
      WakeIfEarlier(*port, Retime(*port, key, arrival_ns).first);
    }
  }
}

void SimNetwork::HealAll() {
  ObserveRules();
  while (!partitions_.empty()) Heal(partitions_.begin()->first);
  while (!clogs_.empty()) Release(clogs_.begin()->first);
  const int64_t now_ns = scheduler_.NowNs();
  for (size_t i = 0; i < plan_.partition_rules.size(); ++i) {
    PartitionRule& rule = plan_.partition_rules[i];
    if (partition_rule_states_[i] == RuleState::kActive) {
      Note(NetFaultKind::kHeal, kSimNode, {"rule", i}, KindKey(NetFaultKind::kHeal, i),
           [&] { return absl::StrCat("heal partition rule ", i, " (healed early)"); });
    }
    partition_rule_states_[i] = RuleState::kOver;
    rule.end_ns = std::min(rule.end_ns, now_ns);
    rule.start_ns = std::min(rule.start_ns, rule.end_ns);
  }
  for (size_t i = 0; i < plan_.clog_rules.size(); ++i) {
    ClogRule& rule = plan_.clog_rules[i];
    if (clog_rule_states_[i] == RuleState::kActive) {
      Note(NetFaultKind::kRelease, kSimNode, {"rule", i}, KindKey(NetFaultKind::kRelease, i),
           [&] { return absl::StrCat("release clog rule ", i, " (released early)"); });
    }
    clog_rule_states_[i] = RuleState::kOver;
    rule.end_ns = std::min(rule.end_ns, now_ns);
    rule.start_ns = std::min(rule.start_ns, rule.end_ns);
  }
  ReleaseHeld(/*rule_clogs_ended=*/true);
}

void SimNetwork::ObserveRules() {
  const int64_t now_ns = scheduler_.NowNs();
  // Pending -> active at start_ns (announced), active -> over at end_ns.
  auto advance = [&](RuleState& state, int64_t start_ns, int64_t end_ns, auto&& begin, auto&& end) {
    if (state == RuleState::kPending && start_ns <= now_ns && start_ns < end_ns) {
      state = RuleState::kActive;
      begin();
    }
    if (state == RuleState::kActive && end_ns <= now_ns) {
      state = RuleState::kOver;
      end();
    }
  };
  partition_rule_states_.resize(plan_.partition_rules.size(), RuleState::kPending);
  for (size_t i = 0; i < plan_.partition_rules.size(); ++i) {
    const PartitionRule& rule = plan_.partition_rules[i];
    advance(
        partition_rule_states_[i], rule.start_ns, rule.end_ns,
        [&] {
          Note(NetFaultKind::kPartition, kSimNode, {"rule", i}, KindKey(NetFaultKind::kPartition, i),
               [&] {
                 return absl::StrCat("partition rule ", i, ": ", rule.spec.Describe(), " from ",
                                     rule.start_ns, " to ", rule.end_ns);
               });
        },
        [&] {
          Note(NetFaultKind::kHeal, kSimNode, {"rule", i}, KindKey(NetFaultKind::kHeal, i),
               [&] { return absl::StrCat("heal partition rule ", i, " at ", rule.end_ns); });
        });
  }
  clog_rule_states_.resize(plan_.clog_rules.size(), RuleState::kPending);
  for (size_t i = 0; i < plan_.clog_rules.size(); ++i) {
    const ClogRule& rule = plan_.clog_rules[i];
    advance(
        clog_rule_states_[i], rule.start_ns, rule.end_ns,
        [&] {
          Note(NetFaultKind::kClog, kSimNode, {"rule", i}, KindKey(NetFaultKind::kClog, i), [&] {
            return absl::StrCat("clog rule ", i, ": ", rule.spec.Describe(), " from ",
                                rule.start_ns, " to ", rule.end_ns);
          });
        },
        [&] {
          Note(NetFaultKind::kRelease, kSimNode, {"rule", i}, KindKey(NetFaultKind::kRelease, i),
               [&] { return absl::StrCat("release clog rule ", i, " at ", rule.end_ns); });
        });
  }
}

}  // namespace faultline::sim::net
