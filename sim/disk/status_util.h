// sim/disk/status_util.h — small utilities the sim/disk sources share (internal):
// an early return on a non-OK status, and std::string_view to
// absl::string_view for absl::StrCat (Abseil 20220623 keeps them apart).
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#define FAULTLINE_DISK_RETURN_IF_ERROR(expr)               \
  do {                                                     \
    absl::Status status_internal_ = (expr);                \
    if (!status_internal_.ok()) return status_internal_;   \
  } while (false)

namespace faultline::sim::disk {

inline absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace faultline::sim::disk
