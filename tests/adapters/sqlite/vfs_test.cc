// tests/adapters/sqlite/vfs_test.cc — the SQLite VFS over the simulated
// disk: SQL round trips in a fiber, error mapping, directory syncs where
// SQLite asks, randomness and time from the simulation, a node crash inside
// SQLite unwinding the fiber.
#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "adapters/sqlite/connection.h"
#include "adapters/sqlite/error_map.h"
#include "adapters/sqlite/vfs.h"
#include "core/io/errors.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::adapters::sqlite {
namespace {

// A scheduler with one node on a simulated disk, and a VFS on it.
struct SqliteWorld {
  explicit SqliteWorld(uint64_t random_seed = 7, sim::disk::DiskOptions disk_options = {},
                       sim::disk::FaultPlan plan = {})
      : scheduler({.seed = 1, .stack_size_bytes = 512 * 1024}),
        node(scheduler.AddNode("n1")),
        disk(scheduler, disk_options, plan),
        random(random_seed),
        vfs({.file_system = &disk.ForNode(node),
             .executor = &scheduler,
             .randomness = [this](absl::Span<char> out) {
               for (char& c : out) c = static_cast<char>(random.NextU64());
             },
             .sector_size_bytes = disk_options.atomic_unit_bytes,
             .device_characteristics = SQLITE_IOCAP_POWERSAFE_OVERWRITE}) {}

  // Runs `body` in a fiber of the node until the simulation ends.
  sim::RunResult RunOnNode(std::function<void()> body) {
    scheduler.StartFiberOn(node, "sql", [body = std::move(body)] { body(); });
    return scheduler.Run();
  }

  sim::Scheduler scheduler;
  sim::NodeId node;
  sim::disk::SimDisk disk;
  sim::Prng random;
  Vfs vfs;
};

TEST(SqliteErrorMapTest, StatusesBecomeSqliteCodes) {
  EXPECT_EQ(SqliteCodeFor(absl::OkStatus(), SQLITE_IOERR_WRITE), SQLITE_OK);
  EXPECT_EQ(SqliteCodeFor(io::IoError("write f"), SQLITE_IOERR_WRITE), SQLITE_IOERR_WRITE);
  EXPECT_EQ(SqliteCodeFor(io::IoError("fsync f", io::IoFailure::kDataAtRisk), SQLITE_IOERR_FSYNC),
            SQLITE_IOERR_FSYNC);
  EXPECT_EQ(SqliteCodeFor(io::NoSpaceError("write f"), SQLITE_IOERR_WRITE), SQLITE_FULL);
  EXPECT_EQ(SqliteCodeFor(io::NodeDeadError("read f"), SQLITE_IOERR_READ), SQLITE_IOERR_READ);
}

TEST(SqliteVfsTest, SqlRoundTripsOnTheSimulatedDisk) {
  SqliteWorld world;
  int64_t sum = 0;
  const sim::RunResult result = world.RunOnNode([&] {
    Connection db(world.vfs);
    ASSERT_TRUE(db.Open("bank.db").ok());
    ASSERT_TRUE(db.Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (40), (2);").ok());
    sum = db.QueryInt("SELECT sum(x) FROM t").value();
    EXPECT_EQ(db.QueryText("PRAGMA integrity_check").value(), "ok");
  });
  ASSERT_TRUE(result.ok()) << result.detail;
  EXPECT_EQ(sum, 42);
  EXPECT_TRUE(world.disk.ForNode(world.node).Exists("bank.db").value());
  EXPECT_FALSE(world.disk.ForNode(world.node).Exists("bank.db-journal").value());
}

// The durable files after one committed transaction in DELETE mode at
// `synchronous`, then a power loss that drops every unsynced namespace
// operation.
sim::disk::DiskImage AfterPowerLoss(const std::string& synchronous) {
  sim::disk::FaultPlan plan;
  plan.crash.namespace_persist_ppm = 0;
  SqliteWorld world(7, {}, plan);
  const sim::RunResult result = world.RunOnNode([&] {
    Connection db(world.vfs);
    ASSERT_TRUE(db.Open("bank.db").ok());
    ASSERT_TRUE(db.Exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=" + synchronous +
                        "; CREATE TABLE t (x INTEGER);").ok());
  });
  EXPECT_TRUE(result.ok()) << result.detail;
  world.scheduler.Crash(world.node, "power loss");
  world.disk.Crash(world.node);
  return world.disk.DurableImage(world.node);
}

// The new journal's first sync also syncs the directory (which makes the
// database's name durable too); the unlink that commits is dir-synced only
// when SQLite asks (xDelete's dirSync: synchronous=EXTRA). Under FULL the
// journal comes back after the power loss — hot, so the commit rolls back.
TEST(SqliteVfsTest, DirectorySyncsWhereSqliteAsks) {
  const sim::disk::DiskImage extra = AfterPowerLoss("EXTRA");
  EXPECT_EQ(extra.files.count("bank.db"), 1u);
  EXPECT_EQ(extra.files.count("bank.db-journal"), 0u);
  const sim::disk::DiskImage full = AfterPowerLoss("FULL");
  EXPECT_EQ(full.files.count("bank.db"), 1u);
  EXPECT_EQ(full.files.count("bank.db-journal"), 1u);
}

TEST(SqliteVfsTest, DiskFullIsSqliteFull) {
  sim::disk::DiskOptions options;
  options.capacity_bytes = 16 * 1024;
  SqliteWorld world(7, options);
  int code = SQLITE_OK;
  const sim::RunResult result = world.RunOnNode([&] {
    Connection db(world.vfs);
    ASSERT_TRUE(db.Open("bank.db").ok());
    ASSERT_TRUE(db.Exec("CREATE TABLE t (x BLOB);").ok());
    EXPECT_FALSE(db.Exec("INSERT INTO t VALUES (zeroblob(100000));").ok());
    code = db.code();
  });
  ASSERT_TRUE(result.ok()) << result.detail;
  EXPECT_EQ(code & 0xff, SQLITE_FULL);
}

TEST(SqliteVfsTest, FailedFsyncIsAnIoError) {
  sim::disk::FaultPlan plan;
  plan.rules.push_back({.node = 1, .op = sim::disk::DiskOp::kSync, .nth = 1,
                        .action = sim::disk::FaultAction::kEio});
  SqliteWorld world(7, {}, plan);
  int code = SQLITE_OK;
  const sim::RunResult result = world.RunOnNode([&] {
    Connection db(world.vfs);
    ASSERT_TRUE(db.Open("bank.db").ok());
    EXPECT_FALSE(db.Exec("CREATE TABLE t (x INTEGER);").ok());
    code = db.code();
  });
  ASSERT_TRUE(result.ok()) << result.detail;
  EXPECT_EQ(code, SQLITE_IOERR_FSYNC);
}

// SQLite's PRNG (here: the WAL header's salts) draws from the VFS's source:
// the same source gives the same bytes on disk, another source other bytes.
std::string WalHeaderWith(uint64_t random_seed) {
  SqliteWorld world(random_seed);
  std::string header;
  const sim::RunResult result = world.RunOnNode([&] {
    Connection db(world.vfs);
    ASSERT_TRUE(db.Open("bank.db").ok());
    ASSERT_TRUE(db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER);").ok());
    auto wal = world.disk.ForNode(world.node).Open("bank.db-wal", io::OpenMode::kReadWrite).value();
    header.resize(32);
    EXPECT_EQ(wal->ReadAt(0, absl::MakeSpan(header)).value(), 32u);
  });
  EXPECT_TRUE(result.ok()) << result.detail;
  return header;
}

TEST(SqliteVfsTest, RandomnessComesFromTheSimulation) {
  EXPECT_EQ(WalHeaderWith(7), WalHeaderWith(7));
  EXPECT_NE(WalHeaderWith(7), WalHeaderWith(8));
}

TEST(SqliteVfsTest, TimeAndSleepAreVirtual) {
  SqliteWorld world;
  std::string now;
  int64_t slept_ns = 0;
  const sim::RunResult result = world.RunOnNode([&] {
    Connection db(world.vfs);
    ASSERT_TRUE(db.Open("bank.db").ok());
    now = db.QueryText("SELECT datetime('now')").value();
    const int64_t before_ns = world.scheduler.NowNs();
    sqlite3_sleep(5);  // milliseconds, through xSleep
    slept_ns = world.scheduler.NowNs() - before_ns;
  });
  ASSERT_TRUE(result.ok()) << result.detail;
  EXPECT_EQ(now, "2026-01-01 00:00:00");  // the VFS's epoch at virtual time 0
  EXPECT_EQ(slept_ns, 5'000'000);
}

// A crash of the node while SQLite waits for a simulated write: the fiber
// unwinds out of the SQLite call (nothing after it runs) and the run ends
// cleanly.
TEST(SqliteVfsTest, ACrashInsideSqliteUnwindsTheFiber) {
  sim::disk::FaultPlan plan;
  plan.latency.write = sim::disk::LatencyModel::Uniform(1'000, 1'000);
  SqliteWorld world(7, {}, plan);
  bool returned = false;
  world.scheduler.StartFiberOn(sim::kSimNode, "nemesis", [&] {
    world.scheduler.SleepFor(500);
    world.scheduler.Crash(world.node, "crash inside SQLite");
  });
  const sim::RunResult result = world.RunOnNode([&] {
    Connection db(world.vfs);
    ASSERT_TRUE(db.Open("bank.db").ok());
    (void)db.Exec("CREATE TABLE t (x INTEGER);");
    returned = true;
  });
  ASSERT_TRUE(result.ok()) << result.detail;
  EXPECT_FALSE(returned);
  EXPECT_FALSE(world.scheduler.IsAlive(world.node));
}

}  // namespace
}  // namespace faultline::adapters::sqlite
