// scenarios/sqlite/sqlite_schema_verdict.h — what a recovery makes of the
// bank's tables it finds: set the bank up, check its contents, or report
// acknowledged work lost.
#pragma once

#include <cstdint>

namespace faultline::scenarios::sqlite {

enum class SchemaVerdict {
  kSetUp,  // nothing acknowledged was ever built on these tables: (re)create them
  kCheck,  // both tables: check the transfers and balances
  kLost,   // acknowledged work is gone (a lost commit)
};

// `tables`: how many of the two tables exist. `setup_acked`: the setup
// transaction and the directory sync that makes the new database's name
// durable both returned OK. `acked_transfers`: transfers whose COMMIT
// returned OK — each one also acknowledges the tables it wrote into, even
// when the setup's own directory sync failed.
constexpr SchemaVerdict JudgeSchema(int64_t tables, bool setup_acked, int64_t acked_transfers) {
  if (tables == 2) return SchemaVerdict::kCheck;
  if (tables == 0 && !setup_acked && acked_transfers == 0) return SchemaVerdict::kSetUp;
  return SchemaVerdict::kLost;
}

}  // namespace faultline::scenarios::sqlite
