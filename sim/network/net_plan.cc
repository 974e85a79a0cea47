// sim/network/net_plan.cc — latency draws, cut and clog tests, names (see
// net_plan.h).
#include "sim/network/net_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"

namespace faultline::sim::net {
namespace {

bool Contains(const std::vector<NodeId>& nodes, NodeId node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

// Membership of side b: an empty side b is every node not in side a.
bool InSideB(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b, NodeId node) {
  return side_b.empty() ? !Contains(side_a, node) : Contains(side_b, node);
}

std::string DescribeSide(const std::vector<NodeId>& nodes) {
  return nodes.empty() ? "{rest}" : absl::StrCat("{", absl::StrJoin(nodes, ","), "}");
}

}  // namespace

int64_t LinkLatency::Draw(Prng& prng) const {
  switch (kind) {
    case Kind::kNone: return 0;
    case Kind::kFixed: return min_ns;
    case Kind::kUniform:
      FAULTLINE_CHECK(min_ns <= max_ns);
      return prng.Between(min_ns, max_ns);
    case Kind::kLongTail: {
      FAULTLINE_CHECK(min_ns <= max_ns);
      const int64_t body_ns = prng.Between(min_ns, max_ns);
      if (tail_ppm == 0 || !prng.ChancePpm(tail_ppm)) return body_ns;
      return body_ns + prng.Exponential(tail_mean_ns);
    }
  }
  return 0;
}

const LinkLatency& NetLatencies::For(NodeId from, NodeId to) const {
  for (const LinkLatencyOverride& link : overrides) {
    if (link.from == from && link.to == to) return link.latency;
  }
  return default_link;
}

std::string_view MessageActionName(MessageAction action) {
  switch (action) {
    case MessageAction::kDrop: return "drop";
    case MessageAction::kDuplicate: return "duplicate";
    case MessageAction::kDelay: return "delay";
    case MessageAction::kCorrupt: return "corrupt";
    case MessageAction::kReorder: return "reorder";
  }
  return "?";
}

bool PartitionSpec::Cuts(NodeId from, NodeId to) const {
  const bool a_to_b = Contains(side_a, from) && InSideB(side_a, side_b, to);
  const bool b_to_a = InSideB(side_a, side_b, from) && Contains(side_a, to);
  switch (direction) {
    case PartitionDirection::kBoth: return a_to_b || b_to_a;
    case PartitionDirection::kAToB: return a_to_b;
    case PartitionDirection::kBToA: return b_to_a;
  }
  return false;
}

std::string PartitionSpec::Describe() const {
  const std::string_view arrow = direction == PartitionDirection::kBoth   ? " | "
                                 : direction == PartitionDirection::kAToB ? " -/-> "
                                                                          : " <-/- ";
  return absl::StrCat(DescribeSide(side_a), AsAbsl(arrow), DescribeSide(side_b));
}

bool ClogSpec::Holds(NodeId from_node, NodeId to_node) const {
  return Contains(from, from_node) && InSideB(from, to, to_node);
}

std::string ClogSpec::Describe() const {
  return absl::StrCat(DescribeSide(from), " => ", DescribeSide(to));
}

std::string_view NetFaultKindName(NetFaultKind kind) {
  switch (kind) {
    case NetFaultKind::kDrop: return "net_drop";
    case NetFaultKind::kDuplicate: return "net_duplicate";
    case NetFaultKind::kReorder: return "net_reorder";
    case NetFaultKind::kDelay: return "net_delay";
    case NetFaultKind::kCorrupt: return "net_corrupt";
    case NetFaultKind::kPartitionDrop: return "net_partition_drop";
    case NetFaultKind::kPartition: return "net_partition";
    case NetFaultKind::kHeal: return "net_heal";
    case NetFaultKind::kClog: return "net_clog";
    case NetFaultKind::kRelease: return "net_release";
    case NetFaultKind::kClogHeld: return "net_clog_held";
    case NetFaultKind::kCrashVanish: return "net_crash_vanish";
  }
  return "?";
}

std::string NetFaultStats::ToString() const {
  std::string text;
  for (size_t i = 0; i < kNetFaultKindCount; ++i) {
    if (counts[i] == 0) continue;
    absl::StrAppend(&text, text.empty() ? "" : " ",
                    AsAbsl(NetFaultKindName(static_cast<NetFaultKind>(i))), "=", counts[i]);
  }
  return text;
}

}  // namespace faultline::sim::net
