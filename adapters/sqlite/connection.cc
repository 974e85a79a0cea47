// adapters/sqlite/connection.cc — see connection.h.
#include "adapters/sqlite/connection.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"

namespace faultline::adapters::sqlite {

Connection::~Connection() {
  if (db_ == nullptr) return;
  sqlite3_close_v2(db_);  // statements are finalized by every method
  // An exception caught while closing (the fiber is unwinding) stays with
  // the unwinding: a later call must not see it.
  vfs_.DiscardPending();
}

absl::Status Connection::Result(int code, std::string_view what) {
  vfs_.RethrowIfKilled();
  return ErrorStatus(code, what);
}

absl::Status Connection::ErrorStatus(int code, std::string_view what) {
  if (code == SQLITE_OK || code == SQLITE_DONE || code == SQLITE_ROW) return absl::OkStatus();
  // SQLITE_TOOBIG here is Query's own bound, not an error SQLite recorded.
  const bool own = code == SQLITE_TOOBIG || db_ == nullptr;
  code_ = own ? code : sqlite3_extended_errcode(db_);
  const char* message = own ? sqlite3_errstr(code) : sqlite3_errmsg(db_);
  return absl::UnknownError(
      absl::StrCat("sqlite ", code_, " (", sqlite3_errstr(code_), "): ", AsAbsl(what), ": ", message));
}

absl::Status Connection::Open(std::string_view path) {
  const std::string name(path);
  const int code = sqlite3_open_v2(name.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   vfs_.name().c_str());
  return Result(code, "open");
}

absl::Status Connection::Exec(std::string_view sql) {
  const std::string text(sql);
  const int code = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  return Result(code, text);
}

template <typename Row>
absl::Status Connection::Query(std::string_view sql, size_t max_rows, Row&& row) {
  sqlite3_stmt* statement = nullptr;
  int code = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &statement, nullptr);
  for (size_t rows = 0; code == SQLITE_OK || code == SQLITE_ROW; ++rows) {
    code = sqlite3_step(statement);
    if (code != SQLITE_ROW) break;
    if (rows == max_rows) {
      code = SQLITE_TOOBIG;  // bounded: more rows than the caller can take
      break;
    }
    row(statement);
  }
  if (code != SQLITE_DONE) {
    absl::Status status = ErrorStatus(code, sql);  // before finalize clears the error
    sqlite3_finalize(statement);
    vfs_.RethrowIfKilled();  // after finalize: nothing leaks while unwinding
    return status;
  }
  return Result(sqlite3_finalize(statement), sql);
}

absl::StatusOr<int64_t> Connection::QueryInt(std::string_view sql) {
  std::vector<int64_t> values;
  absl::Status status = Query(sql, 1, [&](sqlite3_stmt* s) { values.push_back(sqlite3_column_int64(s, 0)); });
  if (!status.ok()) return status;
  if (values.empty()) return absl::NotFoundError(absl::StrCat("no row: ", AsAbsl(sql)));
  return values.front();
}

absl::StatusOr<std::string> Connection::QueryText(std::string_view sql) {
  absl::StatusOr<std::vector<std::string>> values = QueryTexts(sql, 1);
  if (!values.ok()) return values.status();
  if (values->empty()) return absl::NotFoundError(absl::StrCat("no row: ", AsAbsl(sql)));
  return values->front();
}

absl::StatusOr<std::vector<std::string>> Connection::QueryTexts(std::string_view sql,
                                                                size_t max_rows) {
  std::vector<std::string> values;
  absl::Status status = Query(sql, max_rows, [&](sqlite3_stmt* s) {
    const unsigned char* text = sqlite3_column_text(s, 0);
    values.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
  });
  if (!status.ok()) return status;
  return values;
}

absl::StatusOr<std::vector<std::vector<int64_t>>> Connection::QueryInts(std::string_view sql,
                                                                        size_t max_rows) {
  std::vector<std::vector<int64_t>> rows;
  absl::Status status = Query(sql, max_rows, [&](sqlite3_stmt* s) {
    std::vector<int64_t>& row = rows.emplace_back();
    for (int column = 0; column < sqlite3_column_count(s); ++column) {
      row.push_back(sqlite3_column_int64(s, column));
    }
  });
  if (!status.ok()) return status;
  return rows;
}

}  // namespace faultline::adapters::sqlite
