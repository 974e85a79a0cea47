// adapters/sqlite/error_map.cc — see error_map.h.
#include "adapters/sqlite/error_map.h"

#include <sqlite3.h>

#include "core/io/errors.h"

namespace faultline::adapters::sqlite {

int SqliteCodeFor(const absl::Status& status, int io_error_code) {
  if (status.ok()) return SQLITE_OK;
  if (io::IsNoSpace(status)) return SQLITE_FULL;
  return io_error_code;
}

}  // namespace faultline::adapters::sqlite
