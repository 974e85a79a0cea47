// tools/sqlite_report/sqlite_report.cc — regenerates docs/results/sqlite.md:
// every SQLite scenario family x configuration over seeds 0..N-1, what
// SQLite documents for the configuration, and what the checkers found.
//
//   build/release/tools/sqlite_report/faultline_sqlite_report --seeds 500
//       --out docs/results/sqlite.md     (one command line)
//
// `--config wal.full` restricts the tables to one configuration (a quick
// look; the committed report has them all).
// Runs in this process, one seed after another (one core): the seeds/s it
// prints are per second of CPU time. Each finding names its replay command.
#include <ctime>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "scenarios/sqlite/sqlite_config.h"
#include "scenarios/sqlite/sqlite_scenarios.h"
#include "tools/sqlite_report/sqlite_findings.h"

namespace faultline::scenarios::sqlite {
namespace {

struct Family {
  SqliteScenarioKind kind;
  const char* name;
  const char* faults;
};

constexpr Family kFamilies[] = {
    {SqliteScenarioKind::kCrash, "sqlite_crash",
     "power losses, process crashes (page cache kept, maybe lost later), crashes mid-sync, "
     "mid-write, mid-dirsync and in recovery; torn, dropped and garbage writes, sizes without "
     "data, dropped namespace operations"},
    {SqliteScenarioKind::kFsyncFailure, "sqlite_fsync_failure",
     "the same disk, power losses only, plus failing fsyncs, directory syncs and writes"},
    {SqliteScenarioKind::kFsyncFailureRestart, "sqlite_fsync_restart",
     "sqlite_fsync_failure plus process crashes: the restarted process reads the page cache a "
     "failed fsync left behind"},
};

// One family x configuration over the seeds.
struct Tally {
  uint64_t seeds = 0;
  std::map<std::string, uint64_t> by_class;  // "lost-commit", "corruption", ...
  std::optional<uint64_t> first_seed;
  std::string first_violation;
  // Per class: its first seed and violation.
  std::map<std::string, std::pair<uint64_t, std::string>> first_of_class;
  double cpu_s = 0;
  double virtual_s = 0;
};

std::string ClassOf(const ScenarioResult& result) {
  if (!result.run.ok()) return "run " + std::string(sim::OutcomeName(result.run.outcome));
  const size_t colon = result.violation.find(':');
  return result.violation.substr(0, colon);
}

Tally Sweep(SqliteScenarioKind kind, std::optional<SqliteConfig> config, uint64_t seeds) {
  Tally tally;
  // CPU time, not wall time: the figures then hold on a loaded machine.
  const std::clock_t start = std::clock();
  for (uint64_t seed = 0; seed < seeds; ++seed) {
    const ScenarioResult result = RunSqliteScenario(kind, config, {.seed = seed});
    ++tally.seeds;
    tally.virtual_s += static_cast<double>(result.run.end_time_ns) / 1e9;
    if (result.passed()) continue;
    const std::string cls = ClassOf(result);
    // One line in a table: integrity_check's lines are joined.
    const std::string violation = absl::StrReplaceAll(
        result.violation.empty() ? result.run.detail : result.violation, {{"\n", " / "}});
    ++tally.by_class[cls];
    tally.first_of_class.emplace(cls, std::make_pair(seed, violation));
    if (!tally.first_seed) {
      tally.first_seed = seed;
      tally.first_violation = violation;
    }
  }
  tally.cpu_s = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  return tally;
}

uint64_t Count(const Tally& tally, const std::string& cls) {
  auto it = tally.by_class.find(cls);
  return it == tally.by_class.end() ? 0 : it->second;
}

std::string Replay(const std::string& scenario, uint64_t seed) {
  return absl::StrFormat("`faultline replay %s --seed 0x%x --trace`", scenario, seed);
}

void FamilyTable(std::ostream& out, const Family& family, uint64_t seeds,
                 const std::vector<SqliteConfig>& configs, std::vector<std::string>& broken_promises) {
  out << absl::StrFormat("\n## %s\n\nFaults: %s.\n\n", family.name, family.faults);
  out << "| configuration | SQLite promises | seeds failed | lost commit | corruption | "
         "atomicity / invariant | first finding | replay |\n|---|---|---|---|---|---|---|---|\n";
  for (const SqliteConfig& config : configs) {
    const Tally t = Sweep(family.kind, config, seeds);
    const std::string name = absl::StrFormat("%s.%s", family.name, ConfigName(config));
    const SqlitePromise promise = PromiseOf(config);
    uint64_t failed = 0;
    for (const auto& [cls, n] : t.by_class) failed += n;
    const uint64_t lost = Count(t, "lost-commit");
    const uint64_t corrupt = Count(t, "corruption");
    const uint64_t torn = Count(t, "atomicity") + Count(t, "invariant");
    out << absl::StrFormat("| %s | %s | %d / %d | %d | %d | %d | %s | %s |\n", ConfigName(config),
                           promise.text, failed, t.seeds, lost, corrupt, torn,
                           t.first_seed ? absl::StrFormat("seed %d: %s", *t.first_seed,
                                                          ClassOf({.violation = t.first_violation}))
                                        : "none",
                           t.first_seed ? Replay(name, *t.first_seed) : "");
    for (const auto& [cls, first] : t.first_of_class) {
      const bool expected = (cls == "lost-commit" && !promise.durable_on_power_loss) ||
                            ((cls == "corruption" || cls == "atomicity" || cls == "invariant") &&
                             !promise.consistent_on_power_loss);
      if (expected) continue;
      broken_promises.push_back(absl::StrFormat("- %s, %s: %d of %d seeds; first %s — %s", name, cls,
                                                Count(t, cls), t.seeds, Replay(name, first.first),
                                                first.second));
    }
  }
}

void Figures(std::ostream& out, uint64_t seeds) {
  out << "\n## Speed\n\nSeeds 0.." << seeds - 1
      << " of the scenarios `run all` runs (each draws a configuration SQLite documents as "
         "durable), one after another in this process, per second of its CPU time:\n\n"
         "| scenario | seeds/s/core | virtual s / CPU s |\n|---|---|---|\n";
  for (const Family& family : kFamilies) {
    if (family.kind == SqliteScenarioKind::kFsyncFailureRestart) continue;
    const Tally t = Sweep(family.kind, std::nullopt, seeds);
    out << absl::StrFormat("| %s | %.0f | %.2f |\n", family.name, t.seeds / t.cpu_s,
                           t.virtual_s / t.cpu_s);
  }
  out << "\nThe CLI prints them per second of the seeds' wall time in its summary "
         "(`faultline run sqlite_crash --seeds 5000 --jobs 1`: seeds/s/core and virtual s/wall s "
         "columns), which a loaded machine lowers.\n";
}

int Main(int argc, char** argv) {
  uint64_t seeds = 500;
  std::string out_path;
  std::vector<SqliteConfig> configs = AllConfigs();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seeds" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &seeds) && seeds > 0 &&
        seeds <= 1'000'000) {
      ++i;
    } else if (arg == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else if (arg == "--config" && i + 1 < argc) {
      const absl::StatusOr<SqliteConfig> config = ParseConfig(argv[++i]);
      if (!config.ok()) {
        std::cerr << "faultline_sqlite_report: " << config.status().message() << "\n";
        return 2;
      }
      configs = {*config};
    } else {
      std::cerr << "usage: faultline_sqlite_report [--seeds N (1..1000000)] [--config "
                   "<journal>.<synchronous>] [--out FILE]\n";
      return 2;
    }
  }
  // Checked before the sweep, which may run for hours; opened for appending
  // so that an interrupted run leaves the old report whole.
  if (!out_path.empty() && !std::ofstream(out_path, std::ios::app)) {
    std::cerr << "faultline_sqlite_report: cannot write " << out_path << "\n";
    return 4;
  }
  std::ostringstream out;
  out << SqliteReportPreamble(seeds);
  std::vector<std::string> broken;
  for (const Family& family : kFamilies) FamilyTable(out, family, seeds, configs, broken);
  out << "\n## Where SQLite's promise and the sweep disagree\n\n";
  if (broken.empty()) out << "Nowhere: every failure is in a configuration that does not promise it.\n";
  for (const std::string& line : broken) out << line << "\n";
  out << SqliteFindingsExplained();
  Figures(out, seeds);
  if (out_path.empty()) {
    std::cout << out.str();
    return 0;
  }
  std::ofstream file(out_path);
  file << out.str();
  file.close();
  if (!file) {
    std::cerr << "faultline_sqlite_report: cannot write " << out_path << "\n";
    return 4;
  }
  return 0;
}

}  // namespace
}  // namespace faultline::scenarios::sqlite

int main(int argc, char** argv) { return faultline::scenarios::sqlite::Main(argc, argv); }
