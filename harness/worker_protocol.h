// harness/worker_protocol.h — how sweep workers report to the parent.
//
// A worker process writes one line per event to a pipe:
//   "S <unit>"                  it started work unit <unit>
//   "R <unit> <encoded result>" it finished it
// so that if the worker dies (an abort on a failed FAULTLINE_CHECK, a
// segfault), the parent knows which seed killed it. The result is encoded as
// tab-separated fields with '%', tab and newline percent-escaped, so any
// detail text survives the trip. The parent accepts only the line a worker
// owes next (harness/sweep.cc); anything else costs the seed it was running.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reports/seed_result.h"

namespace faultline::harness {

std::string EncodeResult(const reports::SeedResult& result);
// nullopt if `line` is not a well-formed encoding.
std::optional<reports::SeedResult> DecodeResult(std::string_view line);

// Field escaping, exposed for tests.
std::string EscapeField(std::string_view text);
std::optional<std::string> UnescapeField(std::string_view text);

}  // namespace faultline::harness
