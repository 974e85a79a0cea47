// tools/sqlite_report/sqlite_findings.h — the fixed prose of
// docs/results/sqlite.md: how it is made, and what each kind of finding
// means (the tables around it are measured by sqlite_report.cc).
#pragma once

#include <cstdint>
#include <string>

namespace faultline::scenarios::sqlite {

std::string SqliteReportPreamble(uint64_t seeds);
// The explanation of every failure class the sweeps find where SQLite
// promises otherwise, or where the cause is not obvious.
std::string SqliteFindingsExplained();

}  // namespace faultline::scenarios::sqlite
