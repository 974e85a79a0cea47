// core/io/errors.h — how operating-system errors become absl::Status values.
//
// Every implementation of the io seam (POSIX, simulated) reports the same
// failure with the same status code, so production code and checkers can
// react to "EIO" or "disk full" without knowing which world they run in:
//
//   errno / condition        absl::StatusCode      predicate
//   ---------------------    ------------------    -------------------
//   EIO on a write, truncate kUnavailable          IsIoError()
//     or namespace call      (the device refused; what was durable before
//                            is untouched)
//   EIO on a read or a sync  kDataLoss             IsIoError()
//                            (the bytes are unreadable, or the data the
//                            sync covered may be gone)
//   ENOSPC                   kResourceExhausted    IsNoSpace()
//   ENOENT                   kNotFound             absl::IsNotFound()
//   EEXIST                   kAlreadyExists        absl::IsAlreadyExists()
//   EINVAL, bad argument     kInvalidArgument      absl::IsInvalidArgument()
//   node crashed (dead       kAborted              IsNodeDead()
//     incarnation)
//   anything else            kUnknown
//
// The errno is also attached as a payload so messages stay precise. kInternal
// is never used for the world's failures: Abseil keeps it for broken
// invariants.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace faultline::io {

// Builds the status for an errno value; `context` names the operation and
// path, e.g. "fdatasync wal/000001.log".
absl::Status ErrnoToStatus(int errno_value, std::string_view context);

// What an EIO means for the data it touched; chooses the status code.
enum class IoFailure {
  kRefused,     // a write, truncate or namespace call failed: kUnavailable
  kDataAtRisk,  // a read failed (unreadable) or a sync failed (the data it
                // covered may be lost, see File::Sync): kDataLoss
};

// An I/O error (EIO) of the given kind; IsIoError() holds for both.
absl::Status IoError(std::string_view context, IoFailure failure = IoFailure::kRefused);
// The device is full (ENOSPC).
absl::Status NoSpaceError(std::string_view context);
// The node that owns this file or endpoint crashed; the handle is inert.
absl::Status NodeDeadError(std::string_view context);

bool IsIoError(const absl::Status& status);
bool IsNoSpace(const absl::Status& status);
bool IsNodeDead(const absl::Status& status);

// The errno recorded in `status`, or 0 if it carries none.
int ErrnoOf(const absl::Status& status);

}  // namespace faultline::io
