// tests/adapters/sqlite/vfs_edges_test.cc — the VFS's methods called
// directly, at their edges: short reads, long names, lock transitions,
// odd shared-memory region sizes.
#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/sqlite/connection.h"
#include "adapters/sqlite/vfs.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::adapters::sqlite {
namespace {

struct EdgeWorld {
  EdgeWorld()
      : scheduler({.seed = 1, .stack_size_bytes = 256 * 1024}),
        node(scheduler.AddNode("n1")),
        disk(scheduler, {}, {}),
        vfs({.file_system = &disk.ForNode(node),
             .executor = &scheduler,
             .randomness = [](absl::Span<char> out) { std::memset(out.data(), 7, out.size()); }}) {}

  void Run(std::function<void(sqlite3_vfs&)> body) {
    scheduler.StartFiberOn(node, "edges", [this, body = std::move(body)] {
      body(*sqlite3_vfs_find(vfs.name().c_str()));
    });
    const sim::RunResult result = scheduler.Run();
    ASSERT_TRUE(result.ok()) << result.detail;
  }

  sim::Scheduler scheduler;
  sim::NodeId node;
  sim::disk::SimDisk disk;
  Vfs vfs;
};

// An open file in SQLite's allocation of szOsFile bytes.
struct OpenFile {
  OpenFile(sqlite3_vfs& v, const char* name, int flags) : vfs(v), bytes(static_cast<size_t>(v.szOsFile)) {
    code = v.xOpen(&v, name, file(), flags, nullptr);
  }
  ~OpenFile() {
    if (file()->pMethods != nullptr) file()->pMethods->xClose(file());
  }
  sqlite3_file* file() { return reinterpret_cast<sqlite3_file*>(bytes.data()); }
  const sqlite3_io_methods& m() { return *file()->pMethods; }
  sqlite3_vfs& vfs;
  std::vector<uint64_t> bytes;  // aligned storage
  int code = SQLITE_OK;
};

constexpr int kDbFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MAIN_DB;

TEST(SqliteVfsEdgesTest, ShortReadZeroFillsTheTail) {
  EdgeWorld world;
  world.Run([](sqlite3_vfs& v) {
    OpenFile f(v, "a.db", kDbFlags);
    ASSERT_EQ(f.code, SQLITE_OK);
    ASSERT_EQ(f.m().xWrite(f.file(), "abc", 3, 0), SQLITE_OK);
    char buffer[8];
    std::memset(buffer, 'x', sizeof buffer);
    EXPECT_EQ(f.m().xRead(f.file(), buffer, 8, 0), SQLITE_IOERR_SHORT_READ);
    EXPECT_EQ(std::string(buffer, 8), std::string("abc\0\0\0\0\0", 8));
    std::memset(buffer, 'x', sizeof buffer);
    EXPECT_EQ(f.m().xRead(f.file(), buffer, 8, 100), SQLITE_IOERR_SHORT_READ);
    EXPECT_EQ(std::string(buffer, 8), std::string(8, '\0'));
  });
}

TEST(SqliteVfsEdgesTest, FullPathnameRespectsTheBuffer) {
  EdgeWorld world;
  world.Run([](sqlite3_vfs& v) {
    char out[8];
    std::memset(out, 'x', sizeof out);
    EXPECT_EQ(v.xFullPathname(&v, "abcdefg", 8, out), SQLITE_OK);
    EXPECT_STREQ(out, "abcdefg");
    EXPECT_NE(v.xFullPathname(&v, "abcdefgh", 8, out), SQLITE_OK);
    EXPECT_NE(v.xFullPathname(&v, "/etc/passwd", 64, out), SQLITE_OK);
    EXPECT_NE(v.xFullPathname(&v, "../up", 64, out), SQLITE_OK);
    const std::string long_name(5000, 'n');
    std::vector<char> big(static_cast<size_t>(v.mxPathname) + 1);
    EXPECT_NE(v.xFullPathname(&v, long_name.c_str(), static_cast<int>(big.size()), big.data()),
              SQLITE_OK);
    // A name the file system refuses never exists: an I/O error or "no".
    int result = 0;
    const int code = v.xAccess(&v, long_name.c_str(), SQLITE_ACCESS_EXISTS, &result);
    EXPECT_TRUE(code == SQLITE_IOERR_ACCESS || (code == SQLITE_OK && result == 0)) << code;
  });
}

TEST(SqliteVfsEdgesTest, LockTransitionsWithAPendingWriter) {
  EdgeWorld world;
  world.Run([](sqlite3_vfs& v) {
    OpenFile a(v, "l.db", kDbFlags);
    OpenFile b(v, "l.db", kDbFlags);
    ASSERT_EQ(a.m().xLock(a.file(), SQLITE_LOCK_SHARED), SQLITE_OK);
    ASSERT_EQ(b.m().xLock(b.file(), SQLITE_LOCK_SHARED), SQLITE_OK);
    ASSERT_EQ(a.m().xLock(a.file(), SQLITE_LOCK_RESERVED), SQLITE_OK);
    EXPECT_EQ(b.m().xLock(b.file(), SQLITE_LOCK_RESERVED), SQLITE_BUSY);
    EXPECT_EQ(a.m().xLock(a.file(), SQLITE_LOCK_EXCLUSIVE), SQLITE_BUSY);  // b reads: pending
    int reserved = 0;
    ASSERT_EQ(b.m().xCheckReservedLock(b.file(), &reserved), SQLITE_OK);
    EXPECT_EQ(reserved, 1);
    ASSERT_EQ(b.m().xUnlock(b.file(), SQLITE_LOCK_NONE), SQLITE_OK);
    EXPECT_EQ(b.m().xLock(b.file(), SQLITE_LOCK_SHARED), SQLITE_BUSY);  // pending bars readers
    EXPECT_EQ(a.m().xLock(a.file(), SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
    ASSERT_EQ(a.m().xUnlock(a.file(), SQLITE_LOCK_SHARED), SQLITE_OK);
    EXPECT_EQ(b.m().xLock(b.file(), SQLITE_LOCK_SHARED), SQLITE_OK);
    EXPECT_EQ(b.m().xLock(b.file(), SQLITE_LOCK_RESERVED), SQLITE_OK);
    ASSERT_EQ(b.m().xUnlock(b.file(), SQLITE_LOCK_NONE), SQLITE_OK);
    ASSERT_EQ(a.m().xUnlock(a.file(), SQLITE_LOCK_NONE), SQLITE_OK);
    ASSERT_EQ(a.m().xCheckReservedLock(a.file(), &reserved), SQLITE_OK);
    EXPECT_EQ(reserved, 0);
    // Both at NONE: a writer gets EXCLUSIVE at once.
    ASSERT_EQ(a.m().xLock(a.file(), SQLITE_LOCK_SHARED), SQLITE_OK);
    ASSERT_EQ(a.m().xLock(a.file(), SQLITE_LOCK_RESERVED), SQLITE_OK);
    EXPECT_EQ(a.m().xLock(a.file(), SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
  });
}

TEST(SqliteVfsEdgesTest, SharedMemoryRegionsOfOddSizes) {
  EdgeWorld world;
  world.Run([](sqlite3_vfs& v) {
    OpenFile a(v, "s.db", kDbFlags);
    OpenFile b(v, "s.db", kDbFlags);
    void volatile* region = nullptr;
    EXPECT_EQ(a.m().xShmMap(a.file(), 0, 1000, 0, &region), SQLITE_OK);
    EXPECT_EQ(region, nullptr);
    ASSERT_EQ(a.m().xShmMap(a.file(), 2, 1000, 1, &region), SQLITE_OK);
    ASSERT_NE(region, nullptr);
    static_cast<char volatile*>(region)[999] = 5;
    void volatile* seen = nullptr;
    ASSERT_EQ(b.m().xShmMap(b.file(), 2, 1000, 0, &seen), SQLITE_OK);
    EXPECT_EQ(seen, region);
    EXPECT_NE(b.m().xShmMap(b.file(), 0, 1001, 1, &seen), SQLITE_OK);
    EXPECT_EQ(a.m().xShmLock(a.file(), 0, 1, SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE), SQLITE_OK);
    EXPECT_EQ(b.m().xShmLock(b.file(), 0, 1, SQLITE_SHM_LOCK | SQLITE_SHM_SHARED), SQLITE_BUSY);
    EXPECT_NE(b.m().xShmLock(b.file(), 7, 2, SQLITE_SHM_LOCK | SQLITE_SHM_SHARED), SQLITE_OK);
    ASSERT_EQ(a.m().xShmUnmap(a.file(), 1), SQLITE_OK);
    EXPECT_EQ(b.m().xShmLock(b.file(), 0, 1, SQLITE_SHM_LOCK | SQLITE_SHM_SHARED), SQLITE_OK);
    ASSERT_EQ(b.m().xShmUnmap(b.file(), 1), SQLITE_OK);
    ASSERT_EQ(a.m().xShmMap(a.file(), 0, 4096, 0, &seen), SQLITE_OK);  // fresh index, new size
    EXPECT_EQ(seen, nullptr);
  });
}

// Hostile database names through sqlite3_open: too long for mxPathname or
// escaping the root are a clear SQLITE_CANTOPEN; the longest accepted name
// works.
TEST(SqliteVfsEdgesTest, HostileDatabaseNames) {
  EdgeWorld world;
  world.Run([&world](sqlite3_vfs& v) {
    for (const std::string& name : {std::string(5000, 'a'), std::string("/abs.db"),
                                     std::string("../up.db"), std::string("d//x.db")}) {
      Connection db(world.vfs);
      EXPECT_FALSE(db.Open(name).ok()) << name.size();
      EXPECT_EQ(db.code() & 0xff, SQLITE_CANTOPEN) << name.size();
    }
    // SQLite keeps room for "-journal" within mxPathname; the longest name
    // it takes works, journal included.
    Connection db(world.vfs);
    const std::string longest(static_cast<size_t>(v.mxPathname) - 8, 'b');
    const absl::Status opened = db.Open(longest);
    ASSERT_TRUE(opened.ok()) << opened;
    EXPECT_TRUE(db.Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").ok());
    EXPECT_EQ(db.QueryInt("SELECT count(*) FROM t").value_or(-1), 1);
  });
}

// A crash at any moment inside SQLite (WAL mode: locks held, the wal-index
// mapped) leaves the VFS with no lock and no wal-index of the dead
// incarnation, and the next incarnation opens, writes and checks the
// database on the same VFS.
TEST(SqliteVfsEdgesTest, ACrashAnywhereLeavesNothingForTheNextIncarnation) {
  for (int64_t crash_at_ns = 0; crash_at_ns < 60'000; crash_at_ns += 1'500) {
    sim::disk::FaultPlan plan;
    plan.latency.write = sim::disk::LatencyModel::Uniform(500, 500);
    plan.latency.sync = sim::disk::LatencyModel::Uniform(1'000, 1'000);
    sim::Scheduler scheduler({.seed = 1, .stack_size_bytes = 512 * 1024});
    const sim::NodeId node = scheduler.AddNode("n1");
    sim::disk::SimDisk disk(scheduler, {}, plan);
    Vfs vfs({.file_system = &disk.ForNode(node),
             .executor = &scheduler,
             .randomness = [](absl::Span<char> out) { std::memset(out.data(), 3, out.size()); }});
    scheduler.StartFiberOn(node, "first", [&] {
      Connection db(vfs);
      if (!db.Open("c.db").ok()) return;
      (void)db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER);");
      for (int i = 0; i < 50; ++i) (void)db.Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1); COMMIT;");
    });
    std::string check;
    bool wrote = false;
    scheduler.StartFiberOn(sim::kSimNode, "nemesis", [&] {
      scheduler.SleepFor(crash_at_ns);
      scheduler.Crash(node, "crash inside SQLite");
      if (crash_at_ns % 3'000 == 0) {
        disk.CrashProcess(node);
      } else {
        disk.Crash(node);  // power loss
      }
      scheduler.Restart(node, "second", [&] {
        // The dead incarnation's fibers are unwound before this one runs.
        EXPECT_TRUE(vfs.shm().empty()) << crash_at_ns;
        vfs.SetFileSystem(&disk.ForNode(node));
        Connection db(vfs);
        ASSERT_TRUE(db.Open("c.db").ok());
        wrote = db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t (x INTEGER);"
                        "INSERT INTO t VALUES (2);").ok();
        check = db.QueryText("PRAGMA integrity_check").value_or("failed");
      });
    });
    const sim::RunResult result = scheduler.Run();
    ASSERT_TRUE(result.ok()) << result.detail;
    EXPECT_TRUE(wrote) << "crash at " << crash_at_ns << " ns";
    EXPECT_EQ(check, "ok") << "crash at " << crash_at_ns << " ns";
    EXPECT_TRUE(vfs.shm().empty());
  }
}

}  // namespace
}  // namespace faultline::adapters::sqlite
