// harness/cli.cc — the `faultline` command (see cli.h): list, run, replay,
// check-determinism and explore (explore_command.h).
//
// Every failure on the console comes with the one command that replays it:
// a single seed's in full, a sweep's grouped by invariant
// (reports/failure_summary.h). The
// harness (unlike core/) may read the real clock: it reports seeds per
// second of wall time.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/check.h"
#include "harness/cli.h"
#include "harness/cli_args.h"
#include "harness/check_determinism_command.h"
#include "harness/explore_command.h"
#include "harness/report_file.h"
#include "harness/sweep.h"
#include "reports/console_text.h"
#include "reports/failure_summary.h"
#include "reports/json_lines.h"
#include "reports/junit_xml.h"
#include "sim/scheduler/sim_log.h"

namespace faultline::harness {
namespace {

using reports::Hex64;

std::string FaultSummary(const std::map<std::string, uint64_t>& faults) {
  if (faults.empty()) return "none";
  std::string text;
  for (const auto& [kind, count] : faults) {
    absl::StrAppendFormat(&text, "%s%s=%d", text.empty() ? "" : " ", reports::ConsoleText(kind),
                          count);
  }
  return text;
}

void PrintFailure(const reports::SeedResult& result) {
  std::cout << reports::FailureBlock(result);
  std::cout.flush();
}

// The scenarios `name` selects, or an empty list (after a message) if none.
std::vector<const scenarios::Scenario*> SelectScenarios(
    const std::string& name, const std::vector<scenarios::Scenario>& known) {
  std::vector<const scenarios::Scenario*> selected;
  for (const auto& scenario : known) {
    if ((name == "all" && scenario.in_all) || scenario.name == name) selected.push_back(&scenario);
  }
  if (selected.empty()) {
    std::cerr << "faultline: unknown scenario '" << name << "' (see 'faultline list')\n";
  }
  return selected;
}

// A passing seed's line; a failing one was printed by PrintFailure.
void PrintPassed(const reports::SeedResult& result) {
  std::cout << absl::StrFormat(
      "%s seed=%s passed: trace hash %s, %d steps, %.6fs virtual, faults: %s\n",
      reports::ConsoleText(result.scenario), Hex64(result.seed), Hex64(result.trace_hash),
      result.steps, static_cast<double>(result.virtual_time_ns) / 1e9,
      FaultSummary(result.faults_injected));
}

// `replay`: one seed in this process, with its trace and logs, and no time
// limit: it is for debugging, perhaps under a debugger.
int ReplayInProcess(const scenarios::Scenario& scenario, const CliArgs& args) {
  std::string trace;
  reports::SeedResult result = RunOneSeed(scenario, args.first_seed, args.trace ? &trace : nullptr);
  std::cout << FilterTrace(trace, args.trace_filter);
  result.passed ? PrintPassed(result) : PrintFailure(result);
  return result.passed ? 0 : 1;
}

// `run --seed S`: one seed, in a worker process like a sweep's, so that a
// seed which exits (even with status 0), crashes, or hangs with every signal
// blocked is a failure, never a pass and never a hang.
int RunSingleInWorker(const scenarios::Scenario& scenario, const CliArgs& args) {
  SweepOutcome outcome = RunSweep(
      {.scenarios = {&scenario}, .first_seed = args.first_seed, .seed_count = 1, .jobs = 1,
       .seed_timeout_ns = args.seed_timeout_ns, .keep_passed = true, .print_traces = args.trace,
       .trace_filter = args.trace_filter},
      PrintFailure);
  if (!outcome.error.empty()) {
    std::cerr << "faultline: " << outcome.error << "\n";
    return 2;
  }
  FAULTLINE_CHECK(outcome.results.size() == 1);
  if (outcome.results[0].passed) PrintPassed(outcome.results[0]);
  return outcome.results[0].passed ? 0 : 1;
}

struct ReportFiles {
  std::optional<ReportFile> json;   // --json
  std::optional<ReportFile> junit;  // --junit
};

// The report files asked for, opened; nullopt (after a one-line message)
// if a path cannot be written or both name one file (exit 2).
std::optional<ReportFiles> OpenReports(const CliArgs& args) {
  if (!args.json_path.empty() && !args.junit_path.empty() &&
      SameReportPath(args.json_path, args.junit_path)) {
    std::cerr << "faultline: --json and --junit name the same file '" << args.json_path << "'\n";
    return std::nullopt;
  }
  ReportFiles files;
  for (auto [path, file] : {std::pair{&args.json_path, &files.json}, {&args.junit_path, &files.junit}}) {
    if (path->empty()) continue;
    absl::StatusOr<ReportFile> opened = ReportFile::Open(*path);
    if (!opened.ok()) {
      std::cerr << "faultline: " << opened.status().message() << "\n";
      return std::nullopt;
    }
    file->emplace(std::move(*opened));
  }
  if (files.json && files.junit && files.json->SameFileAs(*files.junit)) {  // a link, say
    std::cerr << "faultline: --json and --junit name the same file ('" << args.json_path
              << "' and '" << args.junit_path << "')\n";
    return std::nullopt;
  }
  return files;
}

// Why a sweep left seeds unrun, as the summary line and the JUnit report say.
std::string NotRunReason(const SweepOutcome& outcome) {
  return outcome.error.empty() ? "time budget reached" : "sweep stopped";
}

// Writes each report; false (after a message per report) if any failed.
bool WriteReports(ReportFiles& files, const SweepOutcome& outcome) {
  bool all_written = true;
  auto write = [&](ReportFile& file, const std::string& contents) {
    if (absl::Status written = file.WriteAndClose(contents); !written.ok()) {
      std::cerr << "faultline: " << written.message() << "\n";
      all_written = false;
    }
  };
  if (files.json) {
    std::string lines;
    for (const auto& result : outcome.results) {
      absl::StrAppend(&lines, reports::ToJsonLine(result), "\n");
    }
    write(*files.json, lines);
  }
  if (files.junit) {
    write(*files.junit, reports::ToJunitXml(outcome.results, outcome.seeds_not_run,
                                            NotRunReason(outcome)));
  }
  return all_written;
}

// The failures of a sweep, one group per invariant, each with its simplest
// seed; every seed is in the reports, and on the console with --all-failures.
void PrintFailureGroups(const SweepOutcome& outcome) {
  const std::vector<reports::FailureGroup> groups = reports::GroupFailures(outcome.results);
  if (groups.empty()) return;
  std::cout << absl::StrFormat(
      "== %d failing seeds by invariant (every seed: --all-failures, --json FILE, --junit FILE)\n%s",
      outcome.seeds_failed, reports::FailureGroupsText(groups));
}

void PrintSweepSummary(const SweepOutcome& outcome) {
  // Rates are per core: seeds (and simulated seconds) per second of the time
  // the seeds themselves took, whatever --jobs was.
  std::cout << absl::StrFormat("%-24s %10s %9s %14s %16s  %s\n", "scenario", "seeds", "failures",
                               "seeds/s/core", "virtual s/wall s", "faults injected");
  for (const auto& tally : outcome.tallies) {
    const double wall_s = static_cast<double>(tally.wall_time_ns) / 1e9;
    const double rate = wall_s > 0 ? tally.seeds / wall_s : 0.0;
    const double speedup = wall_s > 0 ? static_cast<double>(tally.virtual_time_ns) / 1e9 / wall_s : 0.0;
    std::cout << absl::StrFormat("%-24s %10d %9d %14.0f %16.2f  %s\n", tally.scenario, tally.seeds,
                                 tally.failures, rate, speedup, FaultSummary(tally.faults_injected));
  }
  for (const reports::SeedResult& result : outcome.interrupted) {
    std::cout << absl::StrFormat("NOT RUN %s seed=%s: %s\n", result.scenario, Hex64(result.seed),
                                 result.detail);
  }
}

// The fault coverage: per scenario, each kind some seed enabled, as
// "kind=fired/enabled" (seeds it fired in / seeds that enabled it); then a
// warning for each kind enabled but never fired. Returns whether every
// enabled kind fired.
bool PrintFaultCoverage(const SweepOutcome& outcome) {
  bool complete = true;
  std::string warnings;
  std::string table;
  for (const auto& tally : outcome.tallies) {
    if (tally.seeds_enabled.empty()) continue;
    std::string line;
    for (const auto& [kind, enabled] : tally.seeds_enabled) {
      const auto fired = tally.seeds_fired.find(kind);
      const uint64_t fired_seeds = fired == tally.seeds_fired.end() ? 0 : fired->second;
      absl::StrAppendFormat(&line, " %s=%d/%d", reports::ConsoleText(kind), fired_seeds, enabled);
      if (fired_seeds == 0) {
        complete = false;
        absl::StrAppendFormat(&warnings,
                              "warning: %s: fault kind %s was enabled in %d seeds and never fired\n",
                              reports::ConsoleText(tally.scenario), reports::ConsoleText(kind),
                              enabled);
      }
    }
    absl::StrAppendFormat(&table, "%-24s%s\n", reports::ConsoleText(tally.scenario), line);
  }
  if (table.empty()) return true;
  std::cout << "== fault coverage: kind=seeds it fired in/seeds that enabled it\n"
            << table << warnings;
  return complete;
}

// The exit code of a run: a failed seed (1) outranks a report that could
// not be written (4), whose message was printed either way.
int RunExitCode(bool any_failed, bool reports_written) {
  if (any_failed) return 1;
  return reports_written ? 0 : kExitReportWriteFailed;
}

int RunCommand(const CliArgs& args, const std::vector<scenarios::Scenario>& known) {
  std::vector<const scenarios::Scenario*> selected = SelectScenarios(args.scenario, known);
  if (selected.empty()) return 2;
  // Refuse unwritable report paths before spending time on seeds.
  std::optional<ReportFiles> report_files = OpenReports(args);
  if (!report_files.has_value()) return 2;
  const bool reports_wanted = report_files->json || report_files->junit;
  if (args.command == Command::kReplay ||
      (selected.size() == 1 && args.seed_count == 1 && !reports_wanted && args.jobs == 1)) {
    const int exit_code = args.command == Command::kReplay ? ReplayInProcess(*selected[0], args)
                                                           : RunSingleInWorker(*selected[0], args);
    std::cout << absl::StrFormat("faultline: 1 seeds, %d failed\n", exit_code == 0 ? 0 : 1);
    return exit_code;
  }

  SweepOptions options{.scenarios = selected, .first_seed = args.first_seed,
                       .seed_count = args.seed_count, .jobs = args.jobs,
                       .time_budget_ns = args.time_budget_ns,
                       .seed_timeout_ns = args.seed_timeout_ns, .keep_passed = reports_wanted,
                       .print_traces = args.trace, .trace_filter = args.trace_filter};
  SweepOutcome outcome =
      RunSweep(options, args.all_failures ? PrintFailure : [](const reports::SeedResult&) {});
  PrintFailureGroups(outcome);
  PrintSweepSummary(outcome);
  const bool coverage_complete = PrintFaultCoverage(outcome);
  const bool reports_written = WriteReports(*report_files, outcome);
  // Seeds the time budget left are never counted as passed: the summary
  // names how many did not run.
  std::cout << absl::StrFormat("faultline: %d seeds, %d failed", outcome.seeds_run,
                               outcome.seeds_failed);
  if (outcome.seeds_not_run > 0) {
    std::cout << absl::StrFormat(", %d not run (%s)", outcome.seeds_not_run, NotRunReason(outcome));
  }
  std::cout << "\n";
  if (!outcome.error.empty()) {
    std::cout.flush();
    std::cerr << "faultline: " << outcome.error << "\n";
    return outcome.seeds_failed > 0 ? 1 : 2;
  }
  const int exit_code = RunExitCode(outcome.seeds_failed > 0, reports_written);
  if (exit_code == 0 && args.require_coverage && !coverage_complete) return kExitCoverageMissing;
  return exit_code;
}

// A process started with stdin, stdout or stderr closed hands those numbers
// to the next files it opens: a report file would receive the console text,
// a worker's pipe what its scenario prints. They are pointed at /dev/null.
void OpenMissingStandardDescriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    // open() takes the lowest free number, which is fd: those below are open.
    const int opened = open("/dev/null", O_RDWR);
    if (opened >= 0 && opened != fd) close(opened);
  }
}

}  // namespace

int RunCli(const std::vector<std::string>& args, const std::vector<scenarios::Scenario>& known) {
  OpenMissingStandardDescriptors();
  absl::StatusOr<CliArgs> parsed = ParseCliArgs(args);
  if (!parsed.ok()) {
    // One line and where to read more: the whole usage text would bury it.
    const bool command_known = !args.empty() && args[0] != "help" && !CommandUsageText(args[0]).empty();
    std::cerr << "faultline: " << parsed.status().message() << "\nsee 'faultline "
              << (command_known ? "help " + args[0] : std::string("--help")) << "'\n";
    return 2;
  }
  sim::InstallSimLogger(spdlog::level::from_str(parsed->log_level));
  switch (parsed->command) {
    case Command::kHelp:
      std::cout << (parsed->help_topic.empty() ? UsageText() : CommandUsageText(parsed->help_topic));
      return 0;
    case Command::kList:
      for (const auto& scenario : known) {
        std::cout << absl::StrFormat("%-24s %s\n", scenario.name, scenario.description);
      }
      return 0;
    case Command::kRun:
    case Command::kReplay:
      return RunCommand(*parsed, known);
    case Command::kExplore:
      return ExploreCommand(*parsed);
    case Command::kCheckDeterminism: {
      std::vector<const scenarios::Scenario*> selected = SelectScenarios(parsed->scenario, known);
      return selected.empty() ? 2 : CheckDeterminismCommand(*parsed, selected);
    }
  }
  return 2;
}

}  // namespace faultline::harness
