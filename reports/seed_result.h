// reports/seed_result.h — the outcome of one scenario run on one seed, as
// every report format sees it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace faultline::reports {

struct SeedResult {
  std::string scenario;
  uint64_t seed = 0;
  bool passed = false;
  std::string outcome;        // "completed", "deadlock", "violation", "worker crashed", ...
  std::string detail;         // the violated invariant or failure detail; empty if passed
  uint64_t trace_hash = 0;
  uint64_t steps = 0;
  int64_t virtual_time_ns = 0;
  int64_t wall_time_ns = 0;
  std::map<std::string, uint64_t> faults_injected;  // by kind, sorted
  std::set<std::string> faults_enabled;             // kinds the seed's swarm enabled

  // The command that replays this seed bit for bit, fit to paste into a
  // POSIX shell (the scenario name is quoted if it needs to be).
  std::string ReplayCommand() const;
};

// "0x%016x": how seeds and hashes are printed everywhere.
std::string Hex64(uint64_t value);

// `text` as one POSIX shell word: as is if it holds only characters no
// shell treats specially, else in single quotes (a quote as '\'').
std::string ShellWord(std::string_view text);

}  // namespace faultline::reports
