// harness/trace_filter.cc — see trace_filter.h.
#include "harness/trace_filter.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base/absl_string_view.h"

namespace faultline::harness {
namespace {

enum Category : unsigned {
  kIo = 1u << 0,
  kFault = 1u << 1,
  kCrash = 1u << 2,
  kCheck = 1u << 3,
  kApp = 1u << 4,
  kSched = 1u << 5,
  kNet = 1u << 6,
  kAll = (1u << 7) - 1,
};

struct CategoryName {
  std::string_view name;
  Category category;
};
constexpr CategoryName kCategories[] = {{"io", kIo},       {"fault", kFault}, {"crash", kCrash},
                                        {"check", kCheck}, {"app", kApp},     {"sched", kSched},
                                        {"net", kNet}};

// The category of a trace event kind name (sim::TraceKindName).
Category CategoryOfKind(std::string_view kind) {
  if (kind == "io") return kIo;
  if (kind == "fault") return kFault;
  if (kind == "crash" || kind == "restart" || kind == "disk") return kCrash;
  if (kind == "check" || kind == "FAIL") return kCheck;
  if (kind == "step" || kind == "timer" || kind == "spawn" || kind == "exit") return kSched;
  if (kind == "net") return kNet;
  return kApp;  // app, and any kind added later: shown unless filtered out
}

// "     1.500000000s" -> 1'500'000'000; nullopt if not of that form.
std::optional<int64_t> ParseStampNs(absl::string_view stamp) {
  stamp = absl::StripAsciiWhitespace(stamp);
  const size_t dot = stamp.find('.');
  if (dot == absl::string_view::npos || !absl::EndsWith(stamp, "s")) return std::nullopt;
  int64_t seconds = 0;
  int64_t nanos = 0;
  if (!absl::SimpleAtoi(stamp.substr(0, dot), &seconds) ||
      !absl::SimpleAtoi(stamp.substr(dot + 1, stamp.size() - dot - 2), &nanos)) {
    return std::nullopt;
  }
  return seconds * 1'000'000'000 + nanos;
}

}  // namespace

std::string_view TraceCategoryNames() { return "io, fault, crash, check, app, sched, net, all"; }

absl::StatusOr<unsigned> ParseTraceKinds(std::string_view list) {
  unsigned kinds = 0;
  for (absl::string_view word : absl::StrSplit(AsAbsl(list), ',')) {
    if (word == "all") {
      kinds |= kAll;
      continue;
    }
    bool known = false;
    for (const CategoryName& category : kCategories) {
      if (word == AsAbsl(category.name)) {
        kinds |= category.category;
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat("unknown trace kind '", word, "' (expected ",
                                                     AsAbsl(TraceCategoryNames()), ")"));
    }
  }
  return kinds;
}

TraceFilter DefaultTraceFilter() { return TraceFilter{.kinds = kAll & ~unsigned{kSched}}; }

std::string FilterTrace(std::string_view dump, const TraceFilter& filter) {
  std::string kept;
  // The nodes events came from, for a --trace-node that matched none: a
  // scenario has a handful, so the list stays short.
  constexpr size_t kMaxNodesNamed = 64;
  std::vector<absl::string_view> nodes;
  bool node_matched = false;
  for (absl::string_view line : absl::StrSplit(AsAbsl(dump), '\n', absl::SkipEmpty())) {
    // "#12      [     0.001s] n1       io      ..." : node and kind follow "] ".
    const size_t stamp_end = line.find("] ");
    if (stamp_end == absl::string_view::npos) {
      absl::StrAppend(&kept, line, "\n");  // not an event line: keep it
      continue;
    }
    std::vector<absl::string_view> words =
        absl::StrSplit(line.substr(stamp_end + 2), ' ', absl::SkipEmpty());
    if (words.size() < 2) continue;
    if (nodes.size() < kMaxNodesNamed && std::find(nodes.begin(), nodes.end(), words[0]) == nodes.end()) {
      nodes.push_back(words[0]);
    }
    node_matched = node_matched || words[0] == AsAbsl(filter.node);
    const size_t stamp_begin = line.find('[');
    const std::optional<int64_t> time_ns =
        stamp_begin < stamp_end ? ParseStampNs(line.substr(stamp_begin + 1, stamp_end - stamp_begin - 1))
                                : std::nullopt;
    if (!time_ns.has_value() || *time_ns < filter.from_ns || *time_ns > filter.until_ns) continue;
    if (!filter.node.empty() && words[0] != AsAbsl(filter.node)) continue;
    if ((filter.kinds & CategoryOfKind(std::string_view(words[1].data(), words[1].size()))) == 0) {
      continue;
    }
    absl::StrAppend(&kept, line, "\n");
  }
  if (!filter.node.empty() && !node_matched) {
    // Said, not left as an empty trace that reads as a node that did nothing.
    std::sort(nodes.begin(), nodes.end());
    absl::StrAppend(&kept, "no trace event is from node '", AsAbsl(filter.node),
                    "' (this run's nodes: ", absl::StrJoin(nodes, ", "), ")\n");
  }
  return kept;
}

}  // namespace faultline::harness
