// bench/wal/peers.cc — see peers.h.
#include "bench/wal/peers.h"

#include <atomic>
#include <utility>

#include <fmt/format.h>

#include "core/base/check.h"

#if defined(FAULTLINE_BENCH_SQLITE)
#include <sqlite3.h>
#endif
#if defined(FAULTLINE_BENCH_LEVELDB)
#include <leveldb/db.h>
#include <leveldb/options.h>
#endif
#if defined(FAULTLINE_BENCH_ROCKSDB)
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#endif

namespace faultline::bench {
namespace {

#if defined(FAULTLINE_BENCH_SQLITE)
std::atomic<uint64_t> g_sqlite_busy_retries{0};

class SqliteWriter final : public DurableWriter {
 public:
  SqliteWriter(const std::string& path, std::string value) : value_(std::move(value)) {
    FAULTLINE_CHECK(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                    nullptr) == SQLITE_OK);
    FAULTLINE_CHECK(sqlite3_busy_timeout(db_, 30'000) == SQLITE_OK);
    FAULTLINE_CHECK(sqlite3_exec(db_, "PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr) ==
                    SQLITE_OK);
    FAULTLINE_CHECK(sqlite3_prepare_v2(db_, "INSERT INTO log(payload) VALUES (?)", -1, &insert_,
                                       nullptr) == SQLITE_OK);
  }
  ~SqliteWriter() override {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }
  void Write(uint64_t /*ticket*/) override {
    for (;;) {
      FAULTLINE_CHECK(sqlite3_bind_blob(insert_, 1, value_.data(), static_cast<int>(value_.size()),
                                        SQLITE_STATIC) == SQLITE_OK);
      const int rc = sqlite3_step(insert_);  // autocommit: one durable commit
      sqlite3_reset(insert_);
      if (rc == SQLITE_DONE) return;
      if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        g_sqlite_busy_retries.fetch_add(1);
        continue;
      }
      FAULTLINE_CHECK_MSG(false, sqlite3_errmsg(db_));
    }
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  std::string value_;
};

// Keeps a setup connection open (it made the file WAL-mode and created the
// table) while the writers use their own.
class SqliteStore final : public PeerStore {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {
    FAULTLINE_CHECK(sqlite3_open(path_.c_str(), &setup_) == SQLITE_OK);
    FAULTLINE_CHECK(sqlite3_exec(setup_,
                                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                 "CREATE TABLE log(seq INTEGER PRIMARY KEY, payload BLOB);",
                                 nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  ~SqliteStore() override { sqlite3_close(setup_); }
  std::unique_ptr<DurableWriter> NewWriter(std::string value) override {
    return std::make_unique<SqliteWriter>(path_, std::move(value));
  }

 private:
  std::string path_;
  sqlite3* setup_ = nullptr;
};
#endif

// LevelDB and RocksDB share their API's shape (DB::Open, Put with
// WriteOptions::sync); Api names one library's types.
template <typename Api>
class KeyValueStore final : public PeerStore {
 public:
  explicit KeyValueStore(const std::string& path) {
    typename Api::Options options;
    options.create_if_missing = true;
    const typename Api::Status opened = Api::DB::Open(options, path, &db_);
    FAULTLINE_CHECK_MSG(opened.ok(), opened.ToString().c_str());
  }
  ~KeyValueStore() override {
    Api::Close(db_);
    delete db_;
  }
  std::unique_ptr<DurableWriter> NewWriter(std::string value) override {
    return std::make_unique<Writer>(db_, std::move(value));
  }

 private:
  class Writer final : public DurableWriter {
   public:
    Writer(typename Api::DB* db, std::string value) : db_(db), value_(std::move(value)) {
      options_.sync = true;
    }
    void Write(uint64_t ticket) override {
      const typename Api::Status status = db_->Put(options_, KeyFor(ticket), value_);
      FAULTLINE_CHECK_MSG(status.ok(), status.ToString().c_str());
    }

   private:
    typename Api::DB* db_;
    typename Api::WriteOptions options_;
    std::string value_;
  };

  typename Api::DB* db_ = nullptr;
};

#if defined(FAULTLINE_BENCH_LEVELDB)
struct LevelDbApi {
  using DB = leveldb::DB;
  using Options = leveldb::Options;
  using WriteOptions = leveldb::WriteOptions;
  using Status = leveldb::Status;
  static void Close(DB* /*db*/) {}  // deleting the DB closes it
};
#endif

#if defined(FAULTLINE_BENCH_ROCKSDB)
struct RocksDbApi {
  using DB = rocksdb::DB;
  using Options = rocksdb::Options;
  using WriteOptions = rocksdb::WriteOptions;
  using Status = rocksdb::Status;
  static void Close(DB* db) { FAULTLINE_CHECK(db->Close().ok()); }
};
#endif

}  // namespace

std::string KeyFor(uint64_t ticket) { return fmt::format("{:016}", ticket); }

std::unique_ptr<PeerStore> OpenSqlite([[maybe_unused]] const std::string& path) {
#if defined(FAULTLINE_BENCH_SQLITE)
  return std::make_unique<SqliteStore>(path);
#else
  FAULTLINE_CHECK_MSG(false, "SQLite was not found at configure time");
  return nullptr;
#endif
}

uint64_t SqliteBusyRetries() {
#if defined(FAULTLINE_BENCH_SQLITE)
  return g_sqlite_busy_retries.load();
#else
  return 0;
#endif
}

std::unique_ptr<PeerStore> OpenLevelDb([[maybe_unused]] const std::string& path) {
#if defined(FAULTLINE_BENCH_LEVELDB)
  return std::make_unique<KeyValueStore<LevelDbApi>>(path);
#else
  FAULTLINE_CHECK_MSG(false, "LevelDB was not found at configure time");
  return nullptr;
#endif
}

std::unique_ptr<PeerStore> OpenRocksDb([[maybe_unused]] const std::string& path) {
#if defined(FAULTLINE_BENCH_ROCKSDB)
  return std::make_unique<KeyValueStore<RocksDbApi>>(path);
#else
  FAULTLINE_CHECK_MSG(false, "RocksDB was not found at configure time");
  return nullptr;
#endif
}

}  // namespace faultline::bench
