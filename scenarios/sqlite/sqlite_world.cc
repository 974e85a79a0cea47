// scenarios/sqlite/sqlite_world.cc — one run of a SQLite scenario: the
// swarm's choices, the bank workload, the recovery checks (see
// sqlite_scenarios.h). Written on the scenario kit.
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "adapters/sqlite/connection.h"
#include "adapters/sqlite/vfs.h"
#include "core/base/check.h"
#include "scenarios/kit/crash_rounds.h"
#include "scenarios/kit/disk_swarm.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"
#include "scenarios/sqlite/sqlite_device.h"
#include "scenarios/sqlite/sqlite_scenarios.h"
#include "scenarios/sqlite/sqlite_schema_verdict.h"

namespace faultline::scenarios::sqlite {
namespace {

using adapters::sqlite::Connection;
using kit::Life;

constexpr sim::NodeId kSqliteNode = 1;  // the fault rules name it
constexpr char kDatabase[] = "bank.db";
constexpr int kAccounts = 8;
constexpr int64_t kInitialBalance = 1000;
constexpr int64_t kTotal = kAccounts * kInitialBalance;
constexpr size_t kMaxTransfers = 10'000;  // far more than a run commits
constexpr size_t kMaxIntegrityLines = 100;  // integrity_check's default limit
// SQLite's deepest stacks (the parser, a B-tree rebalance) need more than
// the default fiber stack.
constexpr size_t kSqliteStackBytes = 512 * 1024;

constexpr kit::CrashMoment kSqliteMoments[] = {
    {"crash_at_time"},
    {"crash_mid_sync", kit::ArmedOps::kFileSync, 8, 2},
    {"crash_mid_write", kit::ArmedOps::kWrite, 12, 1},
    {"crash_mid_dirsync", kit::ArmedOps::kDirSync, 2, 2},
};

// The per-seed choices besides the disk's.
struct SqliteSwarm {
  kit::DiskSwarm disk;
  kit::CrashRoundsPlan nemesis;
  SqliteConfig config;
  int page_size_bytes = 4096;
  int cache_pages = 0;            // 0: SQLite's default; small: pages spill mid-transaction
  int wal_autocheckpoint_pages = 1000;
  int transfers_per_life = 8;
  int max_pad_bytes = 0;          // each transfer row carries up to this much padding
};

void DrawFsyncFaults(sim::Prng& swarm, sim::NodeId node, sim::disk::FaultPlan& plan) {
  sim::disk::FaultRates& r = plan.rates;
  const bool by_rate = swarm.Chance(1, 2);
  if (by_rate) r.sync_eio_ppm = static_cast<uint32_t>(swarm.Between(20'000, 250'000));
  if (!by_rate || swarm.Chance(1, 2)) {
    const int rules = static_cast<int>(swarm.Between(1, 3));
    for (int i = 0; i < rules; ++i) {
      plan.rules.push_back({.node = node,
                            .op = sim::disk::DiskOp::kSync,
                            .nth = static_cast<uint64_t>(swarm.Between(1, 60)),
                            .action = sim::disk::FaultAction::kEio});
    }
  }
  if (swarm.Chance(1, 2)) r.sync_dir_eio_ppm = static_cast<uint32_t>(swarm.Between(10'000, 100'000));
  if (swarm.Chance(1, 4)) r.write_eio_ppm = static_cast<uint32_t>(swarm.Between(5'000, 50'000));
}

SqliteSwarm DrawSqliteSwarm(SqliteScenarioKind kind, std::optional<SqliteConfig> config,
                            sim::NodeId node, kit::World& world) {
  sim::Prng& swarm = world.prng(sim::Stream::kSwarm);
  SqliteSwarm s;
  s.disk = kit::DrawDiskSwarm(swarm);
  s.nemesis.moments = kit::DrawMoments(swarm, kSqliteMoments);
  s.nemesis.crash_in_recovery = swarm.Chance(1, 2);
  s.nemesis.kinds = kit::DrawRoundCrashes(swarm);
  const std::vector<SqliteConfig> durable = DurableConfigs();
  const SqliteConfig drawn = durable[swarm.Below(durable.size())];
  s.config = config.value_or(drawn);
  const int page_sizes[] = {512, 1024, 4096};
  s.page_size_bytes = page_sizes[swarm.Below(3)];
  s.cache_pages = swarm.Chance(1, 2) ? static_cast<int>(swarm.Between(2, 12)) : 0;
  s.wal_autocheckpoint_pages = static_cast<int>(swarm.Between(2, 30));
  s.transfers_per_life = static_cast<int>(swarm.Between(3, 12));
  s.max_pad_bytes = swarm.Chance(1, 2) ? static_cast<int>(swarm.Between(16, 600)) : 0;
  if (kind != SqliteScenarioKind::kCrash) DrawFsyncFaults(swarm, node, s.disk.plan);
  // sqlite_fsync_failure keeps to power losses: a process whose page cache
  // outlives a failed fsync shows the next process data that is not durable
  // (sqlite_fsync_restart keeps every crash kind to show what follows).
  if (kind == SqliteScenarioKind::kFsyncFailure) s.nemesis.kinds = {kit::RoundCrash::kPowerLoss};
  s.nemesis.rounds = static_cast<int>(world.prng(sim::Stream::kCrash).Between(1, 4));
  s.nemesis.time_horizon_ns = 500'000;
  return s;
}

ScenarioOptions WithSqliteStack(ScenarioOptions options) {
  options.scheduler.stack_size_bytes = std::max(options.scheduler.stack_size_bytes, kSqliteStackBytes);
  return options;
}

class SqliteWorld {
 public:
  SqliteWorld(SqliteScenarioKind kind, std::optional<SqliteConfig> config,
              const ScenarioOptions& options)
      : world_(WithSqliteStack(options)),
        swarm_(DrawSqliteSwarm(kind, config, kSqliteNode, world_)),
        disk_(world_.scheduler(), swarm_.disk.disk, swarm_.disk.plan),
        node_(world_, "n1"),
        sqlite_prng_(world_.prng(sim::Stream::kWorkload).NextU64()) {
    FAULTLINE_CHECK(node_.id() == kSqliteNode);
    world_.coverage().WatchDisk(disk_);
    node_.AttachDisk(disk_, swarm_.disk.tear_last_write_ppm);
    node_.SetMain([this](Life life) { Main(life); });
    const SqliteDevice device = SqliteDeviceOf(swarm_.disk.disk);
    vfs_ = std::make_unique<adapters::sqlite::Vfs>(adapters::sqlite::VfsOptions{
        .file_system = nullptr,
        .executor = &world_.scheduler(),
        .randomness = [this](absl::Span<char> out) { FillRandom(out); },
        .sector_size_bytes = device.sector_size_bytes,
        .device_characteristics = device.device_characteristics,
    });
  }

  ScenarioResult Run() {
    node_.Start();
    world_.StartNemesis([this] {
      kit::RunCrashRounds(world_, node_, swarm_.nemesis, [this] { kit::StopInjectedFaults(disk_); });
    });
    return world_.Run();
  }

 private:
  void FillRandom(absl::Span<char> out) {
    for (char& byte : out) byte = static_cast<char>(sqlite_prng_.NextU64());
  }

  // One incarnation: recover and check, then transfer (kWork).
  void Main(Life life) {
    vfs_->SetFileSystem(&node_.FileSystem());
    {
      Connection db(*vfs_);
      bool recovered = false;
      {
        kit::Node::RecoveryScope recovering(node_);
        recovered = Recover(db, life);
      }
      if (recovered && life == Life::kVerify) node_.NoteVerified();
      if (recovered && life == Life::kWork) Work(db);
    }
    if (!world_.over()) node_.Finish();
  }

  // A failed SQLite call: corruption is a violation; an I/O error or a full
  // disk while faults are injected ends the incarnation. Returns false.
  bool Failed(const absl::Status& status, const Connection& db, Life life, std::string_view what) {
    const int primary = db.code() & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
      world_.Fail(absl::StrCat("corruption: ", AsAbsl(what), ": ", status.message(), Context()));
    } else if (life == Life::kVerify ||
               (primary != SQLITE_IOERR && primary != SQLITE_FULL && primary != SQLITE_CANTOPEN)) {
      world_.Fail(absl::StrCat("error: ", AsAbsl(what), ": ", status.message(), Context()));
    }
    return false;
  }

  std::string Context() {
    return absl::StrCat(" [", ConfigName(swarm_.config), "; faults: ", world_.coverage().Summary(), "]");
  }

  bool Recover(Connection& db, Life life) {
    absl::Status status = db.Open(kDatabase);
    if (!status.ok()) return Failed(status, db, life, "open");
    status = db.Exec(absl::StrCat("PRAGMA page_size=", swarm_.page_size_bytes, "; ",
                                  ConfigPragmas(swarm_.config)));
    if (!status.ok()) return Failed(status, db, life, "configure");
    auto integrity = db.QueryTexts("PRAGMA integrity_check", kMaxIntegrityLines);
    if (!integrity.ok()) return Failed(integrity.status(), db, life, "integrity_check");
    if (*integrity != std::vector<std::string>{"ok"}) {
      world_.Fail(absl::StrCat("corruption: integrity_check: ", absl::StrJoin(*integrity, "; "),
                               Context()));
      return false;
    }
    absl::StatusOr<int64_t> tables =
        db.QueryInt("SELECT count(*) FROM sqlite_master WHERE name IN ('accounts', 'transfers')");
    if (!tables.ok()) return Failed(tables.status(), db, life, "schema");
    switch (JudgeSchema(*tables, setup_acked_, acked_seq_)) {
      case SchemaVerdict::kSetUp:
        return Setup(db, life);
      case SchemaVerdict::kCheck:
        return CheckContents(db, life) && Tune(db, life);
      case SchemaVerdict::kLost:
        break;
    }
    world_.Fail(absl::StrCat("lost-commit: ", *tables, " of the 2 tables of the acknowledged setup (",
                             acked_seq_, " transfers acknowledged)", Context()));
    return false;
  }

  // Settings of the connection that are not the configuration under test.
  bool Tune(Connection& db, Life life) {
    std::string pragmas = absl::StrCat("PRAGMA wal_autocheckpoint=", swarm_.wal_autocheckpoint_pages, ";");
    if (swarm_.cache_pages > 0) absl::StrAppend(&pragmas, "PRAGMA cache_size=", swarm_.cache_pages, ";");
    const absl::Status status = db.Exec(pragmas);
    return status.ok() || Failed(status, db, life, "tune");
  }

  bool Setup(Connection& db, Life life) {
    std::string sql =
        "BEGIN; CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
        "CREATE TABLE transfers (seq INTEGER PRIMARY KEY, src INTEGER, dst INTEGER,"
        " amount INTEGER, pad TEXT);";
    for (int id = 0; id < kAccounts; ++id) {
      absl::StrAppend(&sql, "INSERT INTO accounts VALUES (", id, ", ", kInitialBalance, ");");
    }
    absl::StrAppend(&sql, "COMMIT;");
    absl::Status status = db.Exec(sql);
    if (!status.ok()) return Failed(status, db, life, "setup");
    // The new database's name is durable only once its directory is synced.
    status = node_.FileSystem().SyncDir("");
    if (!status.ok()) return false;
    setup_acked_ = true;
    next_seq_ = 1;
    return Tune(db, life);
  }

  bool CheckContents(Connection& db, Life life);
  void Work(Connection& db);

  kit::World world_;
  const SqliteSwarm swarm_;
  sim::disk::SimDisk disk_;  // outlives the node
  kit::Node node_;
  sim::Prng sqlite_prng_;  // SQLite's randomness (xRandomness)
  std::unique_ptr<adapters::sqlite::Vfs> vfs_;
  bool setup_acked_ = false;
  int64_t acked_seq_ = 0;  // the last transfer whose COMMIT returned OK
  int64_t next_seq_ = 1;
};

// The transfers are 1..n, n reaches the last acknowledged one, and the
// balances are the initial ones replayed through them.
bool SqliteWorld::CheckContents(Connection& db, Life life) {
  auto transfers = db.QueryInts("SELECT seq, src, dst, amount FROM transfers ORDER BY seq", kMaxTransfers);
  if (!transfers.ok()) return Failed(transfers.status(), db, life, "read transfers");
  auto accounts = db.QueryInts("SELECT id, balance FROM accounts ORDER BY id", kAccounts + 1);
  if (!accounts.ok()) return Failed(accounts.status(), db, life, "read accounts");
  std::vector<int64_t> expected(kAccounts, kInitialBalance);
  int64_t count = 0;
  for (const std::vector<int64_t>& t : *transfers) {
    if (t[0] != count + 1) {
      world_.Fail(absl::StrCat("lost-commit: transfer ", count + 1, " missing, ", t[0], " present", Context()));
      return false;
    }
    ++count;
    if (t[1] >= 0 && t[1] < kAccounts && t[2] >= 0 && t[2] < kAccounts) {
      expected[static_cast<size_t>(t[1])] -= t[3];
      expected[static_cast<size_t>(t[2])] += t[3];
    }
  }
  const absl::Status durable =
      count >= acked_seq_ ? absl::OkStatus()
                          : absl::DataLossError(absl::StrCat("lost-commit: acknowledged transfer ",
                                                             acked_seq_, " missing, last present ",
                                                             count, Context()));
  if (!world_.Check(durable, "sqlite recovered", {"transfers", static_cast<uint64_t>(count)},
                    {"acked", static_cast<uint64_t>(acked_seq_)})) {
    return false;
  }
  int64_t sum = 0;
  std::string balances;
  bool atomic = accounts->size() == static_cast<size_t>(kAccounts);
  for (size_t i = 0; i < accounts->size(); ++i) {
    sum += (*accounts)[i][1];
    atomic = atomic && (*accounts)[i][0] == static_cast<int64_t>(i) && (*accounts)[i][1] == expected[i];
    absl::StrAppend(&balances, i == 0 ? "" : ",", (*accounts)[i][1]);
  }
  if (sum != kTotal || accounts->size() != static_cast<size_t>(kAccounts)) {
    world_.Fail(absl::StrCat("invariant: balances sum to ", sum, " over ", accounts->size(),
                             " accounts, not ", kTotal, Context()));
    return false;
  }
  if (!atomic) {
    world_.Fail(absl::StrCat("atomicity: balances ", balances, " differ from the ", count,
                             " transfers replayed", Context()));
    return false;
  }
  next_seq_ = count + 1;
  return true;
}

void SqliteWorld::Work(Connection& db) {
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  for (int i = 0; i < swarm_.transfers_per_life && !world_.over(); ++i) {
    const int64_t src = static_cast<int64_t>(workload.Below(kAccounts));
    const int64_t dst = (src + 1 + static_cast<int64_t>(workload.Below(kAccounts - 1))) % kAccounts;
    const int64_t amount = workload.Between(1, 100);
    const size_t pad = swarm_.max_pad_bytes > 0 ? workload.Below(static_cast<uint64_t>(swarm_.max_pad_bytes)) : 0;
    const int64_t seq = next_seq_;
    const std::string sql = absl::StrFormat(
        "BEGIN IMMEDIATE; UPDATE accounts SET balance = balance - %d WHERE id = %d;"
        "UPDATE accounts SET balance = balance + %d WHERE id = %d;"
        "INSERT INTO transfers VALUES (%d, %d, %d, %d, '%s'); COMMIT;",
        amount, src, amount, dst, seq, src, dst, amount, std::string(pad, static_cast<char>('a' + seq % 26)));
    const absl::Status status = db.Exec(sql);
    if (!status.ok()) {
      Failed(status, db, Life::kWork, "transfer");
      return;  // stop: recover from the disk in the next incarnation
    }
    acked_seq_ = seq;
    ++next_seq_;
  }
}

}  // namespace

ScenarioResult RunSqliteScenario(SqliteScenarioKind kind, std::optional<SqliteConfig> config,
                                 const ScenarioOptions& options) {
  return std::make_unique<SqliteWorld>(kind, config, options)->Run();
}

}  // namespace faultline::scenarios::sqlite
