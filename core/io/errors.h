// core/io/errors.h — how operating-system errors become absl::Status values.
//
// Every implementation of the io seam (POSIX, simulated) reports the same
// failure with the same status code, so production code and checkers can
// react to "EIO" or "disk full" without knowing which world they run in:
//
//   errno / condition        absl::StatusCode      predicate
//   ---------------------    ------------------    -------------------
//   EIO (read/write/sync)    kInternal             IsIoError()
//   ENOSPC                   kResourceExhausted    IsNoSpace()
//   ENOENT                   kNotFound             absl::IsNotFound()
//   EEXIST                   kAlreadyExists        absl::IsAlreadyExists()
//   EINVAL, bad argument     kInvalidArgument      absl::IsInvalidArgument()
//   node crashed (dead       kAborted              IsNodeDead()
//     incarnation)
//   anything else            kUnknown
//
// The errno is also attached as a payload so messages stay precise.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace faultline::io {

// Builds the status for an errno value; `context` names the operation and
// path, e.g. "fdatasync wal/000001.log".
absl::Status ErrnoToStatus(int errno_value, std::string_view context);

// A read, write or sync failed with EIO. After a failed sync the data it
// covered must be assumed lost (see File::Sync).
absl::Status IoError(std::string_view context);
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
