// harness/explore_command.cc — see explore_command.h.
#include "harness/explore_command.h"

#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scenarios/wal/wal_explore.h"

namespace faultline::harness {
namespace {

constexpr char kExplorable[] = "wal_crash";

std::string ReplayCommand(const CliArgs& args, const scenarios::ExploreReport& report) {
  std::string command = absl::StrCat("faultline explore ", args.scenario, " --seed ",
                                     args.first_seed, " --point ", report.violation_point);
  if (!report.violation_in_workload) absl::StrAppend(&command, " --state ", report.violation_state);
  return command;
}

void PrintSummary(const CliArgs& args, const scenarios::ExploreReport& report, double seconds) {
  const double per_second = seconds > 0 ? static_cast<double>(report.states_checked) / seconds : 0;
  std::cout << absl::StrFormat(
      "explore %s seed %d: %d/%d points exhausted, %d states checked in %.2f s (%.0f states/s)\n",
      args.scenario, args.first_seed, report.points_exhausted(), report.points.size(),
      report.states_checked, seconds, per_second);
  if (!args.explore_point) {
    std::cout << (report.all_points_reached
                      ? "every crash point of the configuration was explored\n"
                      : "crash points past the last one explored were not (--ops, budget or violation)\n");
  }
  if (report.stopped_by_time) std::cout << "stopped: --time-budget spent\n";
  if (report.violation) {
    std::cout << "VIOLATION at point " << report.violation_point;
    if (!report.violation_in_workload) std::cout << " state " << report.violation_state;
    std::cout << ": " << *report.violation << "\nreplay: " << ReplayCommand(args, report) << "\n";
  }
}

}  // namespace

int ExploreCommand(const CliArgs& args) {
  if (args.scenario != kExplorable) {
    std::cerr << "faultline: 'explore' supports " << kExplorable << " only (got '"
              << args.scenario << "')\n";
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  scenarios::ExploreOptions options;
  options.seed = args.first_seed;
  if (args.explore_ops != 0) {
    options.max_points = std::min(args.explore_ops, scenarios::kExploreMaxPoints);
  }
  if (args.states_per_point != 0) options.states_per_point = args.states_per_point;
  options.only_point = args.explore_point;
  options.only_state = args.explore_state;
  if (args.time_budget_ns > 0) {
    const Clock::time_point deadline = start + std::chrono::nanoseconds(args.time_budget_ns);
    options.out_of_time = [deadline] { return Clock::now() >= deadline; };
  }
  options.print = [](std::string_view line) { std::cout << line << "\n"; };
  absl::StatusOr<scenarios::ExploreReport> report = scenarios::ExploreWal(options);
  if (!report.ok()) {
    std::cerr << "faultline: " << report.status().message() << "\n";
    return 2;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  PrintSummary(args, *report, seconds);
  return report->violation ? 1 : 0;
}

}  // namespace faultline::harness
