// harness/cli_args.cc — see cli_args.h.
//
// CLI11 finds the command and collects each option's values; the values
// themselves are checked here, strictly, so that every malformed number,
// repeated option or unknown word is refused with the same one-line message
// and exit code whatever the library would have let through.
#include "harness/cli_args.h"

#include <algorithm>
#include <charconv>
#include <tuple>
#include <utility>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"

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
     "                [--trace] [--trace-kind K,...] [--trace-node NAME]\n"
     "                [--trace-from-ns T] [--trace-until-ns T] [--log-level L] [--all-failures]\n"
     "                [--require-coverage]\n"
     "                [--jobs J] [--time-budget SECONDS] [--seed-timeout-s SECONDS]\n"
     "                [--json FILE] [--junit FILE]\n"
     "      run seeds; a sweep's failures are summed up by invariant, each group\n"
     "      with its simplest seed (fewest faults, then fewest steps) and the\n"
     "      command that replays it; --all-failures prints every failing seed, and\n"
     "      --json / --junit list every seed; a seed running past --seed-timeout-s\n"
     "      (default 60) is killed and fails as a timeout; with --time-budget,\n"
     "      no seed starts once the budget is spent (those running finish or time\n"
     "      out, limited to the budget) and seeds not started are counted as not run;\n"
     "      with --seed S, --trace and its filters print the seed's trace as replay\n"
     "      does; the fault coverage shows, per scenario, each fault kind as seeds it\n"
     "      fired in / seeds that enabled it, and warns of a kind enabled but never\n"
     "      fired (with --require-coverage that fails the run: exit 5)\n"},
    {"replay",
     "  faultline replay <scenario> --seed S [--trace] [--log-level L]\n"
     "                [--trace-kind K,...] [--trace-node NAME]\n"
     "                [--trace-from-ns T] [--trace-until-ns T]\n"
     "      rerun one seed, bit for bit, with its trace and logs in simulated time;\n"
     "      the trace shows all but the scheduler's events (step, timer, spawn,\n"
     "      exit) unless --trace-kind picks from io, fault, crash, check, app,\n"
     "      sched, net, all; --trace-node shows one node's events (n1, sim);\n"
     "      --trace-from-ns and --trace-until-ns keep a window of virtual time\n"},
    {"check-determinism",
     "  faultline check-determinism <scenario|all> [--seed S | --seeds N [--first-seed S]]\n"
     "                [--seed-timeout-s SECONDS]\n"
     "      run each seed twice in separate processes; on a mismatch, name the first\n"
     "      trace event that differs; then run the seeds in one process in ascending\n"
     "      and in descending order and compare each seed's trace hash\n"},
    {"explore",
     "  faultline explore <scenario> [--seed S] [--ops N] [--states-per-point M]\n"
     "                [--time-budget SECONDS] [--point K [--state I]] [--log-level L]\n"
     "      exhaustive crash states of a small fixed configuration (wal_crash): a\n"
     "      power loss at each of the first N I/O operations (default: all of them),\n"
     "      each crash state at that point (at most M; extremes and one garbage\n"
     "      state first, then spread over the space) recovered and checked; prints\n"
     "      per point the states checked and whether its space was exhausted, then\n"
     "      states/s and the command that replays a violation (--point K --state I)\n"},
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

namespace {

// What one command line gave, as text, before it is checked: every value
// option collects each of its values, so that one given twice is refused
// (CLI11 would otherwise keep the last silently), and numbers are parsed
// here, strictly, not by CLI11's lenient converters.
struct RawOptions {
  std::vector<std::string> seed, first_seed, seeds, jobs, time_budget, seed_timeout, json, junit,
      log_level, help_topic, trace_kind, trace_node, trace_from, trace_until, ops,
      states_per_point, point, state;
  int64_t trace = 0;         // times --trace was given
  int64_t all_failures = 0;  // times --all-failures was given
  int64_t require_coverage = 0;  // times --require-coverage was given
};

void AddValue(CLI::App& command, const char* name, std::vector<std::string>& into) {
  command.add_option(name, into)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
}

CLI::App* AddCommand(CLI::App& app, const char* name) {
  CLI::App* command = app.add_subcommand(name);
  command->set_help_flag();  // `faultline help <command>` explains a command
  command->allow_extras();   // unknown words are refused below, in our words
  return command;
}

// The options `kind` takes, as the usage text lists them.
void DefineOptions(CLI::App& command, Command kind, RawOptions& raw) {
  AddValue(command, "--seed", raw.seed);
  if (kind == Command::kExplore) {
    for (auto [name, into] : {std::pair{"--ops", &raw.ops}, {"--states-per-point", &raw.states_per_point},
                              {"--point", &raw.point}, {"--state", &raw.state},
                              {"--time-budget", &raw.time_budget}, {"--log-level", &raw.log_level}}) {
      AddValue(command, name, *into);
    }
    return;
  }
  AddValue(command, "--first-seed", raw.first_seed);
  if (kind != Command::kReplay) {
    AddValue(command, "--seeds", raw.seeds);
    AddValue(command, "--seed-timeout-s", raw.seed_timeout);
  }
  if (kind == Command::kRun) {
    AddValue(command, "--jobs", raw.jobs);
    AddValue(command, "--time-budget", raw.time_budget);
    AddValue(command, "--json", raw.json);
    AddValue(command, "--junit", raw.junit);
    command.add_flag("--all-failures", raw.all_failures);
    command.add_flag("--require-coverage", raw.require_coverage);
  }
  if (kind != Command::kCheckDeterminism) {
    command.add_flag("--trace", raw.trace);
    AddValue(command, "--log-level", raw.log_level);
  }
  if (kind != Command::kCheckDeterminism) {
    AddValue(command, "--trace-kind", raw.trace_kind);
    AddValue(command, "--trace-node", raw.trace_node);
    AddValue(command, "--trace-from-ns", raw.trace_from);
    AddValue(command, "--trace-until-ns", raw.trace_until);
  }
}

// What CLI11 would accept and the command line never did: "--opt=value",
// "--" (everything after it positional), and a value option with no value
// at the end (reported in our words rather than CLI11's).
absl::Status RefuseUnsupportedForms(const CLI::App& command, const std::vector<std::string>& words,
                                    const std::string& name) {
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "--" || (word.rfind("--", 0) == 0 && word.find('=') != std::string::npos)) {
      return Usage(absl::StrCat("unknown option '", word, "' for '", name, "'"));
    }
    const CLI::Option* option = command.get_option_no_throw(word);
    if (option == nullptr || option->get_items_expected_min() == 0) continue;
    if (i + 1 >= words.size()) return Usage(absl::StrCat(word, " needs a value"));
    ++i;  // the value, whatever it looks like
  }
  return absl::OkStatus();
}

// A whole number from `min` to `max`, or the error `problem` + " (got '<text>')".
absl::StatusOr<uint64_t> ParseCount(const std::string& text, uint64_t min, uint64_t max,
                                    const std::string& problem) {
  absl::StatusOr<uint64_t> value = ParseSeed(text);
  if (!value.ok() || *value < min || *value > max) {
    return Usage(absl::StrCat(problem, " (got '", text, "')"));
  }
  return *value;
}

constexpr uint64_t kMaxSeconds = 7 * 24 * 3600;

// explore's counts (ParseCount refuses anything but whole numbers in range).
absl::Status ConvertExploreValues(const RawOptions& raw, CliArgs& parsed) {
  constexpr uint64_t kMaxCount = 1'000'000;
  for (auto [texts, name, min, into] :
       {std::tuple{&raw.ops, "--ops", uint64_t{1}, &parsed.explore_ops},
        {&raw.states_per_point, "--states-per-point", uint64_t{1}, &parsed.states_per_point}}) {
    if (texts->empty()) continue;
    absl::StatusOr<uint64_t> count = ParseCount(
        texts->front(), min, kMaxCount, absl::StrCat(name, " takes a count from 1 to ", kMaxCount));
    if (!count.ok()) return count.status();
    *into = static_cast<uint32_t>(*count);
  }
  for (auto [texts, name, min, into] :
       {std::tuple{&raw.point, "--point", uint64_t{1}, &parsed.explore_point},
        {&raw.state, "--state", uint64_t{0}, &parsed.explore_state}}) {
    if (texts->empty()) continue;
    absl::StatusOr<uint64_t> index = ParseCount(
        texts->front(), min, kMaxCount,
        absl::StrCat(name, " takes a number from ", min, " to ", kMaxCount));
    if (!index.ok()) return index.status();
    *into = static_cast<uint32_t>(*index);
  }
  return absl::OkStatus();
}

// Checks each value and stores it in `parsed`.
absl::Status ConvertValues(const RawOptions& raw, CliArgs& parsed) {
  for (const std::vector<std::string>* seed : {&raw.seed, &raw.first_seed}) {
    if (seed->empty()) continue;
    absl::StatusOr<uint64_t> value = ParseSeed(seed->front());
    if (!value.ok()) return value.status();
    parsed.first_seed = *value;
  }
  if (!raw.seeds.empty()) {
    absl::StatusOr<uint64_t> count = ParseCount(
        raw.seeds.front(), 1, kMaxSeedCount, absl::StrCat("--seeds takes a count from 1 to ", kMaxSeedCount));
    if (!count.ok()) return count.status();
    parsed.seed_count = *count;
  }
  if (!raw.jobs.empty()) {
    absl::StatusOr<uint64_t> jobs = ParseCount(raw.jobs.front(), 1, 256, "--jobs takes a count from 1 to 256");
    if (!jobs.ok()) return jobs.status();
    parsed.jobs = static_cast<int>(*jobs);
  }
  for (auto [texts, name, into] : {std::tuple{&raw.time_budget, "--time-budget", &parsed.time_budget_ns},
                                   {&raw.seed_timeout, "--seed-timeout-s", &parsed.seed_timeout_ns}}) {
    if (texts->empty()) continue;
    absl::StatusOr<uint64_t> seconds = ParseCount(
        texts->front(), 1, kMaxSeconds, absl::StrCat(name, " takes whole seconds from 1 to ", kMaxSeconds));
    if (!seconds.ok()) return seconds.status();
    *into = static_cast<int64_t>(*seconds) * 1'000'000'000;
  }
  for (auto [texts, name, into] : {std::tuple{&raw.json, "--json", &parsed.json_path},
                                   {&raw.junit, "--junit", &parsed.junit_path}}) {
    if (texts->empty()) continue;
    if (texts->front().empty()) return Usage(absl::StrCat(name, " needs a file path"));
    *into = texts->front();
  }
  if (!raw.log_level.empty()) {
    if (!IsLogLevel(raw.log_level.front())) {
      return Usage(absl::StrCat("unknown log level '", raw.log_level.front(), "'"));
    }
    parsed.log_level = raw.log_level.front();
  }
  parsed.trace = raw.trace > 0 || !raw.trace_kind.empty() || !raw.trace_node.empty() ||
                 !raw.trace_from.empty() || !raw.trace_until.empty();
  for (auto [texts, name, into] :
       {std::tuple{&raw.trace_from, "--trace-from-ns", &parsed.trace_filter.from_ns},
        {&raw.trace_until, "--trace-until-ns", &parsed.trace_filter.until_ns}}) {
    if (texts->empty()) continue;
    absl::StatusOr<uint64_t> ns = ParseCount(texts->front(), 0, INT64_MAX,
                                             absl::StrCat(name, " takes virtual nanoseconds"));
    if (!ns.ok()) return ns.status();
    *into = static_cast<int64_t>(*ns);
  }
  if (!raw.trace_kind.empty()) {
    absl::StatusOr<unsigned> kinds = ParseTraceKinds(raw.trace_kind.front());
    if (!kinds.ok()) return kinds.status();
    parsed.trace_filter.kinds = *kinds;
  }
  if (!raw.trace_node.empty()) {
    if (raw.trace_node.front().empty()) return Usage("--trace-node needs a node name");
    parsed.trace_filter.node = raw.trace_node.front();
  }
  parsed.all_failures = raw.all_failures > 0;
  parsed.require_coverage = raw.require_coverage > 0;
  return ConvertExploreValues(raw, parsed);
}

// The rules between options, checked once each value is.
absl::Status CheckCombination(const CliArgs& parsed, const RawOptions& raw) {
  const bool seed_given = !raw.seed.empty();
  if (seed_given && (!raw.seeds.empty() || !raw.first_seed.empty())) {
    return Usage("--seed names one seed; use --seeds N with --first-seed S for a range");
  }
  if (parsed.seed_count - 1 > UINT64_MAX - parsed.first_seed) {
    return Usage(absl::StrCat("the seed range from ", parsed.first_seed, " with ",
                              parsed.seed_count, " seeds runs past 2^64-1"));
  }
  if (parsed.command == Command::kRun && parsed.trace &&
      (parsed.seed_count > 1 || parsed.scenario == "all")) {
    // A sweep's traces would be thousands of interleaved runs.
    return Usage("--trace prints one seed's trace: give one scenario and --seed S");
  }
  if (parsed.trace_filter.until_ns < parsed.trace_filter.from_ns) {
    // The window would keep no event: an empty trace reads as a run that did nothing.
    return Usage(absl::StrCat("--trace-until-ns ", parsed.trace_filter.until_ns,
                              " is before --trace-from-ns ", parsed.trace_filter.from_ns));
  }
  if (parsed.command == Command::kReplay && !seed_given) return Usage("'replay' needs --seed S");
  if (parsed.explore_state && !parsed.explore_point) {
    return Usage("--state I names a state of one crash point: give --point K too");
  }
  if (parsed.explore_point && (parsed.explore_ops != 0 || parsed.states_per_point != 0)) {
    return Usage("--point replays one crash point: --ops and --states-per-point do not apply");
  }
  if (parsed.command == Command::kReplay && parsed.scenario == "all") {
    return Usage("'replay' takes one scenario, not 'all'");
  }
  return absl::OkStatus();
}

// `faultline help [command]`, `--help`, `-h`.
absl::StatusOr<CliArgs> ParseHelp(const std::vector<std::string>& args) {
  CliArgs parsed;
  parsed.command = Command::kHelp;
  if (args[0] != "help") {
    if (args.size() > 1) return Usage(absl::StrCat("'", args[0], "' takes no arguments"));
    return parsed;
  }
  if (args.size() > 2) return Usage("'help' takes one command at most");
  if (args.size() == 2) {
    if (CommandUsageText(args[1]).empty()) {
      return Usage(absl::StrCat("unknown command '", args[1], "'"));
    }
    parsed.help_topic = args[1];
  }
  return parsed;
}

}  // namespace

absl::StatusOr<CliArgs> ParseCliArgs(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("missing command");
  const std::string& name = args[0];
  if (name == "help" || name == "--help" || name == "-h") return ParseHelp(args);
  CliArgs parsed;
  const std::pair<const char*, Command> kCommands[] = {
      {"list", Command::kList}, {"run", Command::kRun}, {"replay", Command::kReplay},
      {"check-determinism", Command::kCheckDeterminism}, {"explore", Command::kExplore}};
  CLI::App app{"faultline"};
  app.set_help_flag();
  app.require_subcommand(1, 1);
  RawOptions raw;
  CLI::App* chosen = nullptr;
  for (const auto& [command_name, kind] : kCommands) {
    CLI::App* command = AddCommand(app, command_name);
    if (kind != Command::kList) DefineOptions(*command, kind, raw);
    if (name == command_name) chosen = command, parsed.command = kind;
  }
  if (chosen == nullptr) return Usage(absl::StrCat("unknown command '", name, "'"));
  // The scenario comes first, always: a name after the options is refused.
  size_t first_option = 1;
  if (parsed.command != Command::kList) {
    if (args.size() < 2 || args[1].rfind("--", 0) == 0) {
      return Usage(absl::StrCat("'", name, "' needs a scenario name"));
    }
    parsed.scenario = args[1];
    first_option = 2;
  }
  const std::vector<std::string> words(args.begin() + first_option, args.end());
  if (parsed.command == Command::kList && !words.empty()) {
    return Usage(absl::StrCat("'list' takes no options (got '", words[0], "')"));
  }
  FAULTLINE_RETURN_IF_ERROR(RefuseUnsupportedForms(*chosen, words, name));
  std::vector<std::string> reversed = {name};  // CLI11 reads its vector from the back
  reversed.insert(reversed.end(), words.begin(), words.end());
  std::reverse(reversed.begin(), reversed.end());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    return Usage(error.what());
  }
  if (!chosen->remaining().empty()) {
    return Usage(absl::StrCat("unknown option '", chosen->remaining().front(), "' for '", name, "'"));
  }
  for (const CLI::Option* option : chosen->get_options()) {
    // The last of two values would win silently: a CI line edited in one
    // place and not the other would run something else than it says.
    if (option->count() > 1) return Usage(absl::StrCat(option->get_name(), " given twice"));
  }
  FAULTLINE_RETURN_IF_ERROR(ConvertValues(raw, parsed));
  FAULTLINE_RETURN_IF_ERROR(CheckCombination(parsed, raw));
  if (parsed.log_level.empty()) {
    // explore recovers thousands of crash states: as quiet as a sweep.
    const bool sweep = parsed.command == Command::kCheckDeterminism ||
                       parsed.command == Command::kExplore ||
                       (parsed.command == Command::kRun && parsed.seed_count > 1);
    parsed.log_level = sweep ? "off" : "warn";
  }
  return parsed;
}

}  // namespace faultline::harness
