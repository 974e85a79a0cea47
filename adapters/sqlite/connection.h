// adapters/sqlite/connection.h — one SQLite connection on a Vfs, for C++
// code running in fibers: results as absl::Status, and the fiber's
// FiberKilled (caught by the VFS inside SQLite) rethrown after each call.
//
// Every method runs SQLite to completion (SQLite unwinds its own frames
// after the VFS reported an I/O error) and then calls Vfs::RethrowIfKilled,
// so a crash of the node unwinds the caller exactly as any other parked I/O
// would. The destructor closes the connection (sqlite3_close_v2); it is
// safe while the fiber unwinds.
//
// A failed call's status carries SQLite's extended result code and message:
// "sqlite 778 (disk I/O error): ..." — code() returns the code itself.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/sqlite/vfs.h"

namespace faultline::adapters::sqlite {

class Connection {
 public:
  explicit Connection(Vfs& vfs) : vfs_(vfs) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens (creating if missing) the database at `path` on the VFS.
  absl::Status Open(std::string_view path);
  // Runs `sql` (one or more statements, no results).
  absl::Status Exec(std::string_view sql);
  // The first column of the first row of `sql` (NotFound if no row).
  absl::StatusOr<int64_t> QueryInt(std::string_view sql);
  absl::StatusOr<std::string> QueryText(std::string_view sql);
  // The first column of every row (at most `max_rows`, else SQLITE_TOOBIG).
  absl::StatusOr<std::vector<std::string>> QueryTexts(std::string_view sql, size_t max_rows);
  // Every row of `sql` (at most `max_rows`, else an error), each column as
  // an integer.
  absl::StatusOr<std::vector<std::vector<int64_t>>> QueryInts(std::string_view sql,
                                                              size_t max_rows);
  // The extended result code of the last failed call (SQLITE_OK if none).
  int code() const { return code_; }
  sqlite3* db() { return db_; }

 private:
  // Rethrows a FiberKilled the VFS caught, then ErrorStatus.
  absl::Status Result(int code, std::string_view what);
  absl::Status ErrorStatus(int code, std::string_view what);
  template <typename Row>
  absl::Status Query(std::string_view sql, size_t max_rows, Row&& row);

  Vfs& vfs_;
  sqlite3* db_ = nullptr;
  int code_ = SQLITE_OK;
};

}  // namespace faultline::adapters::sqlite
