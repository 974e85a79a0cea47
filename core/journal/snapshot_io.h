// core/journal/snapshot_io.h — writing a snapshot file and reading one back,
// in bounded chunks (FORMAT.md has the layout).
//
// Neither function syncs, renames or names stages: the journal does that
// (journal.cc). Memory: one chunk buffer of `chunk_bytes` each way, plus
// what the state machine holds.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/file_system.h"
#include "core/journal/state_machine.h"

namespace faultline::journal {

// Writes `machine`'s state as the snapshot covering `sequence` into `file`
// (empty): the body from offset kHeaderBytes in writes of at most
// `chunk_bytes`, then the header, which carries the body's length and
// checksum. Returns the file's size. Errors are `file`'s.
absl::StatusOr<uint64_t> WriteSnapshotFile(io::File& file, const StateMachine& machine,
                                           uint64_t sequence, size_t chunk_bytes);

// Verifies the snapshot in `file`, which must be named for `sequence`, and
// restores it into `machine` (cleared first), reading at most `chunk_bytes`
// at a time. Errors:
//  DataLoss            the file does not verify (short, bad magic, header or
//                      body checksum, length, a sequence other than its
//                      name's, a body the machine refuses); the machine is
//                      cleared
//  FailedPrecondition  a format version this build does not read
//  I/O errors          as `file` returned them (IsIoError: a read failed)
absl::Status LoadSnapshotFile(io::File& file, uint64_t sequence, size_t chunk_bytes,
                              StateMachine& machine);

}  // namespace faultline::journal
