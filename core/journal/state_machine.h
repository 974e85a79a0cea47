// core/journal/state_machine.h — what a Journal feeds: the user's state
// machine, and the sink its snapshots are written to.
//
// A Journal (journal.h) owns a WAL of opaque records and applies each
// durable record, in sequence order, to a StateMachine. A checkpoint asks
// the machine to write its whole state to a SnapshotSink; recovery clears
// the machine and streams a snapshot's body back into it in bounded chunks,
// then replays the records after the snapshot.
//
// Contract for implementations:
//  * Determinism: the state after a sequence of Apply calls depends on the
//    records alone, and a snapshot restored into a cleared machine gives the
//    state it was written from. (Recovery relies on both.)
//  * Validate(r) OK means Apply(r) will succeed: the journal validates a
//    record before it enters the log, so that a durable record is never one
//    the machine refuses.
//  * WriteSnapshot is called while no Apply runs (the journal holds applies
//    back until the snapshot is written), and may be suspended inside
//    sink.Write (which does I/O); it must not change the state.
//  * Restore: Clear(), then RestoreChunk() with consecutive pieces of one
//    snapshot body (any split, each at most the journal's chunk size), then
//    FinishRestore(). Malformed input is an error (never a crash, and never
//    unbounded memory); after an error the journal calls Clear() before
//    anything else. Recovery may restore pieces of a body that later fails
//    its checksum: the journal then clears the machine and uses another
//    snapshot, so a machine must not act on restored data beyond holding it.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace faultline::journal {

// Where a state machine writes its snapshot; buffers and writes in bounded
// chunks. Errors are the file system's (the journal names the stage).
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual absl::Status Write(std::string_view bytes) = 0;
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // InvalidArgument when Apply would refuse `record`.
  virtual absl::Status Validate(std::string_view record) const = 0;
  // Applies the record with sequence number `sequence` (consecutive across
  // calls, after the snapshot the machine was restored from).
  virtual absl::Status Apply(uint64_t sequence, std::string_view record) = 0;

  // Writes the whole state to `sink`.
  virtual absl::Status WriteSnapshot(SnapshotSink& sink) const = 0;

  // Empties the state (a machine no record was applied to).
  virtual void Clear() = 0;
  // The next piece of a snapshot body.
  virtual absl::Status RestoreChunk(std::string_view bytes) = 0;
  // The body is complete: DataLoss-free only if it was whole and well formed.
  virtual absl::Status FinishRestore() = 0;
};

}  // namespace faultline::journal
