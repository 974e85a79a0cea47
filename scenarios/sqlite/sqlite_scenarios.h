// scenarios/sqlite/sqlite_scenarios.h — SQLite, unmodified, on the
// simulated disk through adapters/sqlite's VFS.
//
// Workload: one node keeps a bank — kAccounts accounts whose balances sum to
// a constant — and a log of transfers numbered 1, 2, 3...; each transfer is
// one transaction (two updates and an insert), acknowledged when COMMIT
// returns SQLITE_OK. The database's creation counts as acknowledged once
// its commit returned and the directory holding it was synced (SQLite never
// syncs the directory of a new database: that is the application's part).
// On any I/O error the incarnation stops (the only safe reaction to a failed
// fsync) and the nemesis restarts it from the disk.
//
// Faults: the swarm's disk (torn and lost unsynced writes, sizes without
// data, dropped namespace operations, latency), the crash-round nemesis
// (power losses, process crashes, crashes mid-sync, mid-write, mid-dirsync
// and in recovery) and, in sqlite_fsync_failure, failing syncs, directory
// syncs and writes.
//
// Checks after every recovery: PRAGMA integrity_check is "ok"
// ("corruption"); the transfers are 1..n without a gap and n reaches the
// last acknowledged one ("lost-commit"); the balances sum to the constant
// ("invariant") and equal the initial balances replayed through the
// transfers ("atomicity"). A violation message starts with that word.
//
// Configuration: `sqlite_crash` and `sqlite_fsync_failure` draw, per seed,
// one of the configurations that SQLite documents as durable across a
// power loss (sqlite_config.h); each configuration is also a variant run
// only by name, "<scenario>.<journal>.<synchronous>" (e.g.
// sqlite_crash.wal.off), left out of `run all`.
#pragma once

#include <optional>
#include <vector>

#include "scenarios/scenario.h"
#include "scenarios/sqlite/sqlite_config.h"

namespace faultline::scenarios::sqlite {

// kFsyncFailureRestart: kFsyncFailure with process crashes too, whose page
// cache (holding what a failed fsync did not make durable) the restarted
// SQLite reads; run only by name ("sqlite_fsync_restart").
enum class SqliteScenarioKind { kCrash, kFsyncFailure, kFsyncFailureRestart };

// `config` empty: drawn per seed among DurableConfigs().
ScenarioResult RunSqliteScenario(SqliteScenarioKind kind, std::optional<SqliteConfig> config,
                                 const ScenarioOptions& options);

Scenario SqliteCrashScenario();
Scenario SqliteFsyncFailureScenario();
Scenario SqliteFsyncRestartScenario();  // in_all false
// sqlite_fsync_restart, then "<scenario>.<config>" for each kind and every
// configuration (all in_all false).
std::vector<Scenario> SqliteVariantScenarios();

}  // namespace faultline::scenarios::sqlite
