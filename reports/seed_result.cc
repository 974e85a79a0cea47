// reports/seed_result.cc — see seed_result.h.
#include "reports/seed_result.h"

#include "absl/strings/str_format.h"

namespace faultline::reports {

std::string Hex64(uint64_t value) { return absl::StrFormat("0x%016x", value); }

std::string SeedResult::ReplayCommand() const {
  return absl::StrFormat("faultline replay %s --seed %s --trace --log-level debug", scenario,
                         Hex64(seed));
}

}  // namespace faultline::reports
