// reports/failure_summary.cc — see failure_summary.h.
#include "reports/failure_summary.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reports/console_text.h"

namespace faultline::reports {
namespace {

constexpr std::string_view kViolationOutcome = "violation";
constexpr std::string_view kViolatedLead = " violated: ";
constexpr std::string_view kFaultsTail = "; faults injected: ";
constexpr std::string_view kTraceEventsTail = "; trace events: ";

std::string FaultList(const SeedResult& result) {
  if (result.faults_injected.empty()) return "none";
  std::string text;
  for (const auto& [kind, count] : result.faults_injected) {
    absl::StrAppendFormat(&text, "%s%s=%d", text.empty() ? "" : " ", ConsoleText(kind), count);
  }
  return text;
}

// "<checker> violated: <rest>" -> "<rest>", when the lead is one word.
std::string_view WithoutViolatedLead(std::string_view text) {
  const size_t lead = text.find(kViolatedLead);
  if (lead == std::string_view::npos || lead == 0) return text;
  if (text.substr(0, lead).find_first_of(" :") != std::string_view::npos) return text;
  return text.substr(lead + kViolatedLead.size());
}

}  // namespace

std::string FailureStatement(const SeedResult& result) {
  if (result.outcome != kViolationOutcome) {
    return result.detail.empty() ? result.outcome : absl::StrCat(result.outcome, ": ", result.detail);
  }
  std::string_view text = WithoutViolatedLead(result.detail);
  if (const size_t tail = text.rfind(kFaultsTail); tail != std::string_view::npos) {
    text = text.substr(0, tail);
  }
  if (const size_t tail = text.rfind(kTraceEventsTail); tail != std::string_view::npos) {
    text = text.substr(0, tail);
  }
  return std::string(text.empty() ? kViolationOutcome : text);
}

std::string TraceEventsOf(const SeedResult& result) {
  if (result.outcome != kViolationOutcome) return "";
  std::string_view text = result.detail;
  if (const size_t tail = text.rfind(kFaultsTail); tail != std::string_view::npos) {
    text = text.substr(0, tail);
  }
  const size_t lead = text.rfind(kTraceEventsTail);
  if (lead == std::string_view::npos) return "";
  return std::string(text.substr(lead + kTraceEventsTail.size()));
}

std::string InvariantOf(const SeedResult& result) {
  if (result.outcome != kViolationOutcome) return result.outcome;
  const std::string statement = FailureStatement(result);
  const size_t end = std::min(statement.find(" at "), statement.find(':'));
  return statement.substr(0, end);
}

uint64_t FaultCount(const SeedResult& result) {
  uint64_t total = 0;
  for (const auto& [kind, count] : result.faults_injected) total += count;
  return total;
}

std::string FailureBlock(const SeedResult& result) {
  const std::string events = TraceEventsOf(result);
  return absl::StrFormat(
      "FAIL %s seed=%s\n  violated: %s\n%s  faults injected: %s; %d steps\n  trace hash: %s\n"
      "  replay: %s\n",
      ConsoleText(result.scenario), Hex64(result.seed), ConsoleText(FailureStatement(result)),
      events.empty() ? "" : absl::StrCat("  trace events: ", ConsoleText(events), "\n"),
      FaultList(result), result.steps, Hex64(result.trace_hash), result.ReplayCommand());
}

std::vector<FailureGroup> GroupFailures(const std::vector<SeedResult>& results) {
  std::vector<FailureGroup> groups;
  for (const SeedResult& result : results) {
    if (result.passed) continue;
    const std::string invariant = InvariantOf(result);
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const FailureGroup& g) { return g.invariant == invariant; });
    if (group == groups.end()) group = groups.insert(groups.end(), {.invariant = invariant});
    group->seeds.push_back(&result);
    const SeedResult* best = group->simplest;
    if (best == nullptr || FaultCount(result) < FaultCount(*best) ||
        (FaultCount(result) == FaultCount(*best) && result.steps < best->steps)) {
      group->simplest = &result;
    }
  }
  std::stable_sort(groups.begin(), groups.end(), [](const FailureGroup& a, const FailureGroup& b) {
    return a.seeds.size() > b.seeds.size();
  });
  return groups;
}

std::string FailureGroupsText(const std::vector<FailureGroup>& groups, size_t examples) {
  std::string text;
  for (const FailureGroup& group : groups) {
    std::string listed;
    std::string_view scenario;
    for (size_t i = 0; i < group.seeds.size() && i < examples; ++i) {
      const SeedResult& seed = *group.seeds[i];
      const bool new_scenario = seed.scenario != scenario;
      absl::StrAppend(&listed, i == 0 ? "" : ", ", new_scenario ? ConsoleText(seed.scenario) : "",
                      new_scenario ? " " : "", Hex64(seed.seed));
      scenario = seed.scenario;
    }
    if (group.seeds.size() > examples) {
      absl::StrAppend(&listed, " and ", group.seeds.size() - examples, " more");
    }
    absl::StrAppendFormat(&text, "%s: %d failing seeds (%s); the simplest (fewest faults, then "
                          "fewest steps):\n%s",
                          ConsoleText(group.invariant), group.seeds.size(), listed,
                          FailureBlock(*group.simplest));
  }
  return text;
}

}  // namespace faultline::reports
