// core/base/status_macros.h — the one early return on a failed absl::Status.
//
//   FAULTLINE_RETURN_IF_ERROR(file->Sync());
//
// evaluates its argument once and returns the status from the enclosing
// function when it is not OK. The enclosing function must return
// absl::Status or absl::StatusOr<T>.
#pragma once

#include "absl/status/status.h"

#define FAULTLINE_RETURN_IF_ERROR(expr)                          \
  do {                                                           \
    ::absl::Status faultline_status_internal_ = (expr);          \
    if (!faultline_status_internal_.ok()) {                      \
      return faultline_status_internal_;                         \
    }                                                            \
  } while (false)
