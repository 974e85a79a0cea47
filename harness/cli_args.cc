// harness/cli_args.cc — see cli_args.h.
#include "harness/cli_args.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"

namespace faultline::harness {
namespace {

absl::Status Usage(const std::string& problem) {
  return absl::InvalidArgumentError(problem);
}

bool IsLogLevel(const std::string& level) {
  for (const char* known : {"trace", "debug", "info", "warn", "error", "off"}) {
    if (level == known) return true;
  }
  return false;
}

}  // namespace

namespace {

struct CommandUsage {
  const char* name;
  const char* text;
};

constexpr CommandUsage kCommandUsages[] = {
    {"list",
     "  faultline list\n"
     "      the scenarios, one per line\n"},
    {"run",
     "  faultline run <scenario|all> [--seed S | --seeds N [--first-seed S]]\n"
     "                [--trace] [--log-level L] [--all-failures]\n"
     "                [--jobs J] [--time-budget SECONDS] [--seed-timeout-s SECONDS]\n"
     "                [--json FILE] [--junit FILE]\n"
     "      run seeds; a sweep's failures are summed up by invariant, each group\n"
     "      with its simplest seed (fewest faults, then fewest steps) and the\n"
     "      command that replays it; --all-failures prints every failing seed, and\n"
     "      --json / --junit list every seed; a seed running past --seed-timeout-s\n"
     "      (default 60) is killed and fails as a timeout; with --time-budget,\n"
     "      seeds not finished in time are counted as not run\n"},
    {"replay",
     "  faultline replay <scenario> --seed S [--trace] [--log-level L]\n"
     "      rerun one seed, bit for bit, with its trace and logs in simulated time\n"},
    {"check-determinism",
     "  faultline check-determinism <scenario|all> [--seed S | --seeds N [--first-seed S]]\n"
     "                [--seed-timeout-s SECONDS]\n"
     "      run each seed twice in separate processes; on a mismatch, name the first\n"
     "      trace event that differs; then run the seeds in one process in ascending\n"
     "      and in descending order and compare each seed's trace hash\n"},
    {"help",
     "  faultline help [command]\n"
     "      this text, or one command's\n"},
};

constexpr const char* kUsageNotes =
    "seeds are decimal or 0x-prefixed hexadecimal 64-bit numbers;\n"
    "log levels: trace debug info warn error off (default: warn for one seed,\n"
    "            off for sweeps)\n"
    "exit codes: 0 all passed, 1 a seed failed (an invariant, a crash, a timeout),\n"
    "            2 bad usage, 3 non-determinism detected, 4 a report could not be\n"
    "            written (when no seed failed)\n";

}  // namespace

std::string UsageText() {
  std::string text = "usage:\n";
  for (const CommandUsage& usage : kCommandUsages) text += usage.text;
  return text + kUsageNotes;
}

std::string CommandUsageText(const std::string& command) {
  for (const CommandUsage& usage : kCommandUsages) {
    if (command == usage.name) return absl::StrCat("usage:\n", usage.text, kUsageNotes);
  }
  return "";
}

absl::StatusOr<uint64_t> ParseSeed(const std::string& text) {
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const char* begin = text.data() + (hex ? 2 : 0);
  const char* end = text.data() + text.size();
  uint64_t value = 0;
  auto [ptr, error] = std::from_chars(begin, end, value, hex ? 16 : 10);
  if (text.empty() || begin == end || error != std::errc() || ptr != end) {
    return Usage(absl::StrCat("malformed seed '", text,
                              "': expected a decimal or 0x-prefixed hexadecimal 64-bit number"));
  }
  return value;
}

absl::StatusOr<CliArgs> ParseCliArgs(const std::vector<std::string>& args) {
  CliArgs parsed;
  if (args.empty()) return Usage("missing command");
  const std::string& command = args[0];
  size_t next = 1;
  if (command == "help" || command == "--help" || command == "-h") {
    parsed.command = Command::kHelp;
    if (command != "help" || args.size() == 1) {
      if (args.size() > 1) return Usage(absl::StrCat("'", command, "' takes no arguments"));
      return parsed;
    }
    if (args.size() > 2) return Usage("'help' takes one command at most");
    if (CommandUsageText(args[1]).empty()) {
      return Usage(absl::StrCat("unknown command '", args[1], "'"));
    }
    parsed.help_topic = args[1];
    return parsed;
  } else if (command == "list") {
    parsed.command = Command::kList;
  } else if (command == "run" || command == "replay" || command == "check-determinism") {
    parsed.command = command == "run"      ? Command::kRun
                     : command == "replay" ? Command::kReplay
                                           : Command::kCheckDeterminism;
    if (args.size() < 2 || args[1].rfind("--", 0) == 0) {
      return Usage(absl::StrCat("'", command, "' needs a scenario name"));
    }
    parsed.scenario = args[1];
    next = 2;
  } else {
    return Usage(absl::StrCat("unknown command '", command, "'"));
  }

  bool seed_given = false, seeds_given = false, first_seed_given = false;
  std::vector<std::string> seen;  // the options given so far
  for (size_t i = next; i < args.size(); ++i) {
    const std::string& option = args[i];
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (i + 1 >= args.size()) return Usage(absl::StrCat(option, " needs a value"));
      return args[++i];
    };
    if (parsed.command == Command::kList) {
      return Usage(absl::StrCat("'list' takes no options (got '", option, "')"));
    }
    // The last of two values would win silently: a CI line edited in one
    // place and not the other would run something else than it says.
    if (std::find(seen.begin(), seen.end(), option) != seen.end()) {
      return Usage(absl::StrCat(option, " given twice"));
    }
    seen.push_back(option);
    if (option == "--seed" || option == "--first-seed") {
      absl::StatusOr<std::string> text = value();
      if (!text.ok()) return text.status();
      absl::StatusOr<uint64_t> seed = ParseSeed(*text);
      if (!seed.ok()) return seed.status();
      parsed.first_seed = *seed;
      (option == "--seed" ? seed_given : first_seed_given) = true;
    } else if (option == "--seeds" && parsed.command != Command::kReplay) {
      absl::StatusOr<std::string> text = value();
      if (!text.ok()) return text.status();
      absl::StatusOr<uint64_t> count = ParseSeed(*text);
      if (!count.ok() || *count == 0 || *count > kMaxSeedCount) {
        return Usage(absl::StrCat("--seeds takes a count from 1 to ", kMaxSeedCount, " (got '",
                                  *text, "')"));
      }
      parsed.seed_count = *count;
      seeds_given = true;
    } else if (option == "--jobs" && parsed.command == Command::kRun) {
      absl::StatusOr<std::string> text = value();
      if (!text.ok()) return text.status();
      absl::StatusOr<uint64_t> jobs = ParseSeed(*text);
      if (!jobs.ok() || *jobs == 0 || *jobs > 256) {
        return Usage(absl::StrCat("--jobs takes a count from 1 to 256 (got '", *text, "')"));
      }
      parsed.jobs = static_cast<int>(*jobs);
    } else if (option == "--time-budget" && parsed.command == Command::kRun) {
      absl::StatusOr<std::string> text = value();
      if (!text.ok()) return text.status();
      absl::StatusOr<uint64_t> seconds = ParseSeed(*text);
      if (!seconds.ok() || *seconds == 0 || *seconds > 7 * 24 * 3600) {
        return Usage(absl::StrCat("--time-budget takes whole seconds from 1 to 604800 (got '",
                                  *text, "')"));
      }
      parsed.time_budget_ns = static_cast<int64_t>(*seconds) * 1'000'000'000;
    } else if (option == "--seed-timeout-s" && parsed.command != Command::kReplay) {
      absl::StatusOr<std::string> text = value();
      if (!text.ok()) return text.status();
      absl::StatusOr<uint64_t> seconds = ParseSeed(*text);
      if (!seconds.ok() || *seconds == 0 || *seconds > 7 * 24 * 3600) {
        return Usage(absl::StrCat("--seed-timeout-s takes whole seconds from 1 to 604800 (got '",
                                  *text, "')"));
      }
      parsed.seed_timeout_ns = static_cast<int64_t>(*seconds) * 1'000'000'000;
    } else if ((option == "--json" || option == "--junit") && parsed.command == Command::kRun) {
      absl::StatusOr<std::string> path = value();
      if (!path.ok()) return path.status();
      if (path->empty()) return Usage(absl::StrCat(option, " needs a file path"));
      (option == "--json" ? parsed.json_path : parsed.junit_path) = *path;
    } else if (option == "--all-failures" && parsed.command == Command::kRun) {
      parsed.all_failures = true;
    } else if (option == "--trace" && parsed.command != Command::kCheckDeterminism) {
      parsed.trace = true;
    } else if (option == "--log-level" && parsed.command != Command::kCheckDeterminism) {
      absl::StatusOr<std::string> level = value();
      if (!level.ok()) return level.status();
      if (!IsLogLevel(*level)) return Usage(absl::StrCat("unknown log level '", *level, "'"));
      parsed.log_level = *level;
    } else {
      return Usage(absl::StrCat("unknown option '", option, "' for '", command, "'"));
    }
  }
  if (seed_given && (seeds_given || first_seed_given)) {
    return Usage("--seed names one seed; use --seeds N with --first-seed S for a range");
  }
  if (parsed.seed_count - 1 > UINT64_MAX - parsed.first_seed) {
    return Usage(absl::StrCat("the seed range from ", parsed.first_seed, " with ",
                              parsed.seed_count, " seeds runs past 2^64-1"));
  }
  if (parsed.command == Command::kReplay && !seed_given) {
    return Usage("'replay' needs --seed S");
  }
  if (parsed.command == Command::kReplay && parsed.scenario == "all") {
    return Usage("'replay' takes one scenario, not 'all'");
  }
  if (parsed.log_level.empty()) {
    const bool sweep = parsed.command == Command::kCheckDeterminism ||
                       (parsed.command == Command::kRun && parsed.seed_count > 1);
    parsed.log_level = sweep ? "off" : "warn";
  }
  return parsed;
}

}  // namespace faultline::harness
