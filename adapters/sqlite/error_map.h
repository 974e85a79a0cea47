// adapters/sqlite/error_map.h — how io statuses become SQLite result codes.
//
//   status                     SQLite code
//   -------------------------  ---------------------------------------------
//   OK                         SQLITE_OK
//   IsNoSpace (ENOSPC)         SQLITE_FULL (SQLite rolls the statement back
//                              and reports "database or disk is full")
//   IsIoError (EIO)            the operation's SQLITE_IOERR_* code
//   IsNodeDead (crashed node)  the operation's SQLITE_IOERR_* code: for
//                              SQLite the file is gone, as when a device
//                              disappears
//   anything else              the operation's SQLITE_IOERR_* code
//
// A missing file at open is SQLITE_CANTOPEN and at delete
// SQLITE_IOERR_DELETE_NOENT; those are decided by the callers, which know
// the operation.
#pragma once

#include "absl/status/status.h"

namespace faultline::adapters::sqlite {

// `io_error_code` is the operation's extended code, e.g. SQLITE_IOERR_WRITE.
int SqliteCodeFor(const absl::Status& status, int io_error_code);

}  // namespace faultline::adapters::sqlite
