// harness/check_determinism_command.cc — see check_determinism_command.h.
#include "harness/check_determinism_command.h"

#include <iostream>

#include "absl/strings/str_format.h"
#include "harness/determinism_check.h"
#include "harness/order_check.h"
#include "harness/sweep.h"
#include "reports/console_text.h"
#include "reports/seed_result.h"

namespace faultline::harness {
namespace {

using reports::Hex64;

struct Counts {
  uint64_t checked = 0;
  uint64_t mismatches = 0;
  uint64_t timeouts = 0;
  uint64_t order_mismatches = 0;
};

std::string ReplayCommand(const scenarios::Scenario& scenario, uint64_t seed) {
  return reports::SeedResult{.scenario = scenario.name, .seed = seed}.ReplayCommand();
}

// Each seed replayed in two fresh processes; false if a replay could not be
// started (after a message).
bool CheckSeedsInFreshProcesses(const std::string& self, const CliArgs& args,
                                const scenarios::Scenario& scenario, Counts& counts) {
  for (uint64_t i = 0; i < args.seed_count; ++i) {
    const uint64_t seed = args.first_seed + i;
    auto check = CheckSeedDeterminism(self, scenario.name, seed, args.seed_timeout_ns);
    if (!check.ok()) {
      std::cerr << "faultline: " << check.status().message() << "\n";
      return false;
    }
    ++counts.checked;
    if (check->timed_out) {
      ++counts.timeouts;
      std::cout << absl::StrFormat(
          "TIMEOUT %s seed=%s: %s; the replay was killed\n  replay: %s\n",
          reports::ConsoleText(scenario.name), Hex64(seed), TimeoutDetail(args.seed_timeout_ns),
          ReplayCommand(scenario, seed));
    } else if (check->divergence.has_value()) {
      ++counts.mismatches;
      const Divergence& d = *check->divergence;
      std::cout << absl::StrFormat(
          "NON-DETERMINISTIC %s seed=%s: the runs diverge at trace line %d\n"
          "  first run:  %s\n  second run: %s\n  replay: %s\n",
          reports::ConsoleText(scenario.name), Hex64(seed), d.line_number,
          reports::ConsoleText(d.first_run), reports::ConsoleText(d.second_run),
          ReplayCommand(scenario, seed));
    }
  }
  return true;
}

void CheckSeedsInTwoOrders(const CliArgs& args, const scenarios::Scenario& scenario,
                           Counts& counts) {
  for (const OrderMismatch& m : CheckInProcessOrders(scenario, args.first_seed, args.seed_count,
                                                     args.seed_timeout_ns)) {
    ++counts.order_mismatches;
    std::cout << absl::StrFormat(
        "NON-DETERMINISTIC %s seed=%s: its run depends on the seeds run before it in the same "
        "process (state survives from seed to seed: a static, a global?)\n"
        "  after the seeds below it: %s, trace hash %s\n"
        "  after the seeds above it: %s, trace hash %s\n",
        scenario.name, Hex64(m.seed), reports::ConsoleText(m.ascending_outcome),
        Hex64(m.ascending_hash), reports::ConsoleText(m.descending_outcome),
        Hex64(m.descending_hash));
  }
}

}  // namespace

int CheckDeterminismCommand(const CliArgs& args,
                            const std::vector<const scenarios::Scenario*>& selected) {
  absl::StatusOr<std::string> self = SelfExecutable();
  if (!self.ok()) {
    std::cerr << "faultline: " << self.status().message() << "\n";
    return 2;
  }
  Counts counts;
  for (const auto* scenario : selected) {
    if (!CheckSeedsInFreshProcesses(*self, args, *scenario, counts)) return 2;
    CheckSeedsInTwoOrders(args, *scenario, counts);
  }
  std::cout << absl::StrFormat(
      "check-determinism: %d seeds run twice, %d mismatches, %d timeouts; %d seeds run in one "
      "process in two orders, %d mismatches\n",
      counts.checked, counts.mismatches, counts.timeouts, counts.checked, counts.order_mismatches);
  if (counts.mismatches > 0 || counts.order_mismatches > 0) return 3;
  return counts.timeouts > 0 ? 1 : 0;
}

}  // namespace faultline::harness
