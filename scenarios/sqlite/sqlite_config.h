// scenarios/sqlite/sqlite_config.h — a SQLite configuration under test
// (journal mode x synchronous level), its name, and what SQLite's
// documentation promises for it.
//
// Names are "<journal>.<synchronous>", lower case: "wal.full",
// "delete.extra". A scenario variant is "<scenario>.<journal>.<synchronous>"
// (sqlite_scenarios.h).
//
// The promises, from https://www.sqlite.org/pragma.html#pragma_synchronous
// and https://www.sqlite.org/wal.html:
//  * every configuration: a committed transaction survives a crash of the
//    application (the operating system keeps what SQLite wrote);
//  * OFF: after an operating-system crash or a power loss the database may
//    lose transactions and may be corrupted;
//  * NORMAL, rollback journal: SQLite "will still sync at the most critical
//    moments" (consistent), with "a very small chance" of corruption in
//    DELETE mode on older file systems; durability across a power loss is
//    not promised;
//  * NORMAL, WAL: always consistent, but a committed transaction may roll
//    back after a power loss;
//  * FULL: no corruption after a power loss; WAL mode is also durable. In
//    DELETE mode the unlink of the journal that commits a transaction is not
//    synced, and EXTRA exists because that "provides additional
//    durability if the commit is followed closely by a power loss";
//  * EXTRA: FULL plus that directory sync: durable in every journal mode.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace faultline::scenarios::sqlite {

enum class JournalMode { kDelete, kTruncate, kPersist, kWal };
enum class Synchronous { kOff, kNormal, kFull, kExtra };

struct SqliteConfig {
  JournalMode journal = JournalMode::kWal;
  Synchronous synchronous = Synchronous::kFull;
};

// What SQLite documents for a configuration.
struct SqlitePromise {
  bool durable_on_power_loss = false;     // no committed transaction lost
  bool consistent_on_power_loss = false;  // integrity_check ok, invariant holds
  std::string_view text;                  // one sentence, for the report
};

std::string ConfigName(const SqliteConfig& config);  // "wal.full"
// Parses ConfigName's form; a clear InvalidArgument otherwise.
absl::StatusOr<SqliteConfig> ParseConfig(std::string_view name);
SqlitePromise PromiseOf(const SqliteConfig& config);
// Every configuration, journal modes outer, synchronous levels inner.
std::vector<SqliteConfig> AllConfigs();
// The ones that promise durability across a power loss.
std::vector<SqliteConfig> DurableConfigs();

// The PRAGMA statements that set a connection to `config`.
std::string ConfigPragmas(const SqliteConfig& config);

}  // namespace faultline::scenarios::sqlite
