// scenarios/sqlite/sqlite_scenarios.cc — the registry entries of the SQLite
// scenarios (see sqlite_scenarios.h; the run is in sqlite_world.cc).
#include "scenarios/sqlite/sqlite_scenarios.h"

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"

namespace faultline::scenarios::sqlite {
namespace {

constexpr char kCrashName[] = "sqlite_crash";
constexpr char kFsyncName[] = "sqlite_fsync_failure";
constexpr char kCrashText[] =
    "SQLite (system library, through a VFS on the simulated disk) keeping a bank under power "
    "losses, process crashes, torn and lost unsynced writes and crashes in recovery";
constexpr char kRestartName[] = "sqlite_fsync_restart";
constexpr char kRestartText[] =
    "sqlite_fsync_failure with process crashes as well: the restarted SQLite reads a page cache "
    "that a failed fsync left holding data that is not durable";
constexpr char kFsyncText[] =
    "SQLite's bank under failing fsyncs, directory syncs and writes as well as crashes; it must "
    "stop on the error and recover from the disk";

Scenario Make(SqliteScenarioKind kind, std::optional<SqliteConfig> config) {
  std::string name = kind == SqliteScenarioKind::kCrash          ? kCrashName
                     : kind == SqliteScenarioKind::kFsyncFailure ? kFsyncName
                                                                 : kRestartName;
  std::string description = kind == SqliteScenarioKind::kCrash          ? kCrashText
                            : kind == SqliteScenarioKind::kFsyncFailure ? kFsyncText
                                                                        : kRestartText;
  if (config.has_value()) {
    absl::StrAppend(&name, ".", ConfigName(*config));
    absl::StrAppend(&description, "; configuration ", ConfigName(*config), " (",
                    AsAbsl(PromiseOf(*config).text), ")");
  } else {
    absl::StrAppend(&description,
                    "; per seed one configuration SQLite documents as durable; checks "
                    "integrity_check, every acknowledged commit, a constant total");
  }
  return Scenario{.name = std::move(name),
                  .description = std::move(description),
                  .run = [kind, config](const ScenarioOptions& options) {
                    return RunSqliteScenario(kind, config, options);
                  },
                  .in_all = !config.has_value() && kind != SqliteScenarioKind::kFsyncFailureRestart};
}

}  // namespace

Scenario SqliteCrashScenario() { return Make(SqliteScenarioKind::kCrash, std::nullopt); }
Scenario SqliteFsyncFailureScenario() { return Make(SqliteScenarioKind::kFsyncFailure, std::nullopt); }
Scenario SqliteFsyncRestartScenario() {
  return Make(SqliteScenarioKind::kFsyncFailureRestart, std::nullopt);
}

std::vector<Scenario> SqliteVariantScenarios() {
  std::vector<Scenario> variants = {Make(SqliteScenarioKind::kFsyncFailureRestart, std::nullopt)};
  for (SqliteScenarioKind kind : {SqliteScenarioKind::kCrash, SqliteScenarioKind::kFsyncFailure,
                                  SqliteScenarioKind::kFsyncFailureRestart}) {
    for (const SqliteConfig& config : AllConfigs()) variants.push_back(Make(kind, config));
  }
  return variants;
}

}  // namespace faultline::scenarios::sqlite
