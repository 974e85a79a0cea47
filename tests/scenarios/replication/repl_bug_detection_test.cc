// tests/scenarios/replication/repl_bug_detection_test.cc — proof that the
// replication checkers bite: each broken replica (broken_replicas.h) must be
// caught by a replication scenario within kMaxSeeds seeds.
//
// For every broken replica and every replication scenario it measures
// seeds-to-first-detection and the detection rate over the first
// kWindowSeeds seeds; a seed on which the correct replicas fail is skipped
// and counted (there should be none). The table goes to stdout; with
// FAULTLINE_REPL_BUG_REPORT=<path> it is also written there as Markdown
// (docs/results/replication_bug_detection.md is generated that way from a
// Release build).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scenarios/replication/repl_scenarios.h"
#include "spdlog/spdlog.h"
#include "tests/scenarios/replication/broken_replicas.h"

namespace faultline::scenarios {
namespace {

using testing::BrokenHooks;
using testing::BrokenReplica;

constexpr uint64_t kMaxSeeds = 60;
constexpr uint64_t kWindowSeeds = 60;

const bool kQuietLogs = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

struct Bug {
  std::string name;
  std::string what;
  BrokenReplica replica;
};

std::vector<Bug> Bugs() {
  return {
      {"apply_without_gap_check",
       "follower applies an Append that starts past its log end at its log end",
       BrokenReplica::kApplyWithoutGapCheck},
      {"reapply_overlap",
       "follower applies an overlapping Append whole, the overlap again",
       BrokenReplica::kReapplyOverlap},
      {"ack_before_sync", "follower acknowledges an Append on arrival, before its WAL sync",
       BrokenReplica::kAckBeforeSync},
      {"stale_ack_counted",
       "leader counts any acknowledgement as one for the newest batch it sent",
       BrokenReplica::kStaleAckCounted},
      {"no_retransmit", "leader never sends a batch a second time", BrokenReplica::kNoRetransmit},
      {"swallow_undecodable", "follower drops an undecodable frame without counting it",
       BrokenReplica::kSwallowUndecodable},
  };
}

struct Profile {
  const char* name;
  ReplProfile profile;
};
constexpr Profile kProfiles[] = {{"repl_reorder", ReplProfile::kReorder},
                                 {"repl_partition", ReplProfile::kPartition},
                                 {"repl_crash", ReplProfile::kCrash}};

struct Measurement {
  std::optional<uint64_t> first_detection_seed;
  uint64_t seeds_to_first_detection = 0;
  uint64_t detected_in_window = 0;
  uint64_t baseline_failures = 0;
  std::string first_violation;
};

// Whether the correct replicas pass each seed of the window, per profile
// (run once, shared by every bug).
const std::vector<bool>& BaselinePasses(ReplProfile profile) {
  static std::map<ReplProfile, std::vector<bool>> cache;
  std::vector<bool>& passes = cache[profile];
  if (passes.empty()) {
    for (uint64_t seed = 0; seed < kWindowSeeds; ++seed) {
      passes.push_back(RunReplication(profile, ScenarioOptions{.seed = seed}).passed());
    }
  }
  return passes;
}

Measurement Measure(const Bug& bug, ReplProfile profile) {
  Measurement m;
  uint64_t counted = 0;
  const std::vector<bool>& baseline = BaselinePasses(profile);
  for (uint64_t seed = 0; seed < kWindowSeeds; ++seed) {
    if (!baseline[seed]) {
      ++m.baseline_failures;
      continue;
    }
    ++counted;
    const ScenarioResult broken =
        RunReplication(profile, ScenarioOptions{.seed = seed}, BrokenHooks(bug.replica));
    if (broken.passed()) continue;
    ++m.detected_in_window;
    if (!m.first_detection_seed.has_value()) {
      m.first_detection_seed = seed;
      m.seeds_to_first_detection = counted;
      m.first_violation = !broken.violation.empty()
                              ? broken.violation
                              : absl::StrCat(std::string(sim::OutcomeName(broken.run.outcome)),
                                             ": ", broken.run.detail);
    }
  }
  return m;
}

TEST(ReplBugDetectionTest, EveryBrokenReplicaIsCaught) {
  std::string table = absl::StrCat(
      "| broken replica | what it does | scenario | seeds to first detection | first seed | "
      "detected in first ", kWindowSeeds, " seeds | baseline failures skipped |\n"
      "|---|---|---|---|---|---|---|\n");
  std::string violations;
  for (const Bug& bug : Bugs()) {
    bool caught = false;
    for (const Profile& profile : kProfiles) {
      const Measurement m = Measure(bug, profile.profile);
      EXPECT_EQ(m.baseline_failures, 0u) << profile.name;
      if (m.first_detection_seed.has_value() && m.seeds_to_first_detection <= kMaxSeeds) {
        caught = true;
      }
      absl::StrAppend(
          &table, "| ", bug.name, " | ", bug.what, " | ", profile.name, " | ",
          m.first_detection_seed.has_value() ? std::to_string(m.seeds_to_first_detection)
                                             : std::string("not detected"),
          " | ", m.first_detection_seed.has_value() ? std::to_string(*m.first_detection_seed) : "-",
          " | ", m.detected_in_window, "/", kWindowSeeds - m.baseline_failures, " | ",
          m.baseline_failures, " |\n");
      if (m.first_detection_seed.has_value()) {
        absl::StrAppend(&violations, "- ", bug.name, " in ", profile.name, " (seed ",
                        *m.first_detection_seed, "): ", m.first_violation.substr(0, 400), "\n");
      }
    }
    EXPECT_TRUE(caught) << bug.name << " was not caught within " << kMaxSeeds << " seeds";
  }
  std::cout << table << "\n" << violations;
  if (const char* path = std::getenv("FAULTLINE_REPL_BUG_REPORT"); path != nullptr) {
    std::ofstream out(path);
    out << "# Replication bug detection: seeds to first detection\n\n"
        << "Generated by `tests/scenarios/replication/repl_bug_detection_test` "
        << "(FAULTLINE_REPL_BUG_REPORT=docs/results/replication_bug_detection.md); do not edit "
        << "by hand.\n\n"
        << "Each broken replica is the production Leader or Follower (core/replication) behind "
        << "a test-only decorator of its network endpoint that rewrites or adds frames, "
        << "re-encoded with the real codec, so the replica as a whole behaves as the broken "
        << "design would (tests/scenarios/replication/broken_replicas.h). Seeds run in order "
        << "from 0; a seed on which the correct replicas already fail is skipped and counted. "
        << "\"Seeds to first detection\" counts the seeds run up to and including the first "
        << "one whose run the checkers failed. The test requires each broken replica to be "
        << "caught within " << kMaxSeeds << " seeds.\n\n"
        << table << "\n## First violation reported per broken replica and scenario\n\n"
        << violations;
  }
}

}  // namespace
}  // namespace faultline::scenarios
