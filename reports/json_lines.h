// reports/json_lines.h — one JSON object per seed, one line each.
//
// Machine-readable sweep output: a line per seed result, so a consumer can
// stream it, grep it or load it with any JSON library. Fields: scenario,
// seed (hex string: JSON numbers lose 64-bit precision), passed, outcome,
// detail, trace_hash (hex), steps, virtual_time_ns, wall_time_ns,
// faults_injected (object: fault kind name -> count, e.g. "torn_write": 3;
// never numeric kinds), replay (the command). A checker's detail is its
// whole verdict, trace events and faults included ("...; trace events: #169
// acknowledged sequence 12, #185 the crash that lost it; faults injected:
// ..."): see FailureStatement and TraceEventsOf for its parts.
#pragma once

#include <string>
#include <string_view>

#include "reports/seed_result.h"

namespace faultline::reports {

// `text` as a JSON string literal, quotes included. Valid UTF-8 passes
// through; control characters and DEL are escaped (\n, \t, \u001b, ...);
// each byte that is not part of valid UTF-8 becomes \ufffd (U+FFFD, the
// replacement character), so the line is valid JSON whatever the detail.
std::string JsonString(std::string_view text);

// One line, without the trailing newline.
std::string ToJsonLine(const SeedResult& result);

}  // namespace faultline::reports
