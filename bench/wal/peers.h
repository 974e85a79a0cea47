// bench/wal/peers.h — the databases the WAL is compared with, in one place:
// SQLite (journal_mode=WAL, synchronous=FULL, one INSERT per autocommit
// transaction), LevelDB and RocksDB (Put with WriteOptions::sync = true).
//
// Each peer is a store (opened once per measurement, in a directory) that
// hands out DurableWriters: one per thread, each call making one record
// durable before it returns. SQLite's writers have a connection each (a
// connection is not shared between threads); LevelDB's and RocksDB's share
// the store's DB, whose writer queue batches concurrent syncs.
//
// A peer exists only when its library was found at configure time
// (FAULTLINE_BENCH_SQLITE / _LEVELDB / _ROCKSDB). Benchmark code: errors
// abort.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace faultline::bench {

// Writes one durable record per call. Construct, use and destroy it on one
// thread.
class DurableWriter {
 public:
  virtual ~DurableWriter() = default;
  // Makes a record with the writer's value durable. LevelDB and RocksDB
  // key it by `ticket` (KeyFor); SQLite rows get their own sequence.
  virtual void Write(uint64_t ticket) = 0;
};

// The key of record `ticket` in LevelDB and RocksDB: 16 decimal digits.
std::string KeyFor(uint64_t ticket);

// A store of one peer, open in a directory until destroyed.
class PeerStore {
 public:
  virtual ~PeerStore() = default;
  // A writer of `value`; safe to call from any thread, once per thread.
  virtual std::unique_ptr<DurableWriter> NewWriter(std::string value) = 0;
};

// SQLite: `path` is the database file (created with its table).
std::unique_ptr<PeerStore> OpenSqlite(const std::string& path);
// SQLITE_BUSY / SQLITE_LOCKED retries after the busy handler gave up, over
// the whole process.
uint64_t SqliteBusyRetries();

// LevelDB / RocksDB: `path` is the database directory (created).
std::unique_ptr<PeerStore> OpenLevelDb(const std::string& path);
std::unique_ptr<PeerStore> OpenRocksDb(const std::string& path);

}  // namespace faultline::bench
